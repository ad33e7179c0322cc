import type { MetadataContext } from './store-context';
import { blobRecord, byteOrder, newManifest } from './fixtures';

const NAMES = ['library/ubuntu', 'library-x/a', 'library.x/a', 'library_x/a', 'library0/a', 'a', 'z/z', 'library/a-b'];

export function defineRepositoryTests(ctx: MetadataContext): void {
  describe('RepositoryMetadata', () => {
    it('lists no repositories in an empty database', async () => {
      expect(await ctx.metadata.repositories.listRepositories({})).toEqual([]);
      expect(await ctx.metadata.repositories.listRepositories({ n: 5, last: 'a' })).toEqual([]);
    });

    it('creates repositories on commit, put and mount, and lists them in byte order', async () => {
      const [committed, put, ...mounted] = NAMES as [string, string, ...string[]];
      await ctx.metadata.blobs.commitBlob(committed, blobRecord('layer'));
      await ctx.metadata.manifests.putManifest(put, newManifest('image'));
      for (const name of mounted) await ctx.metadata.blobs.mountBlob(name, blobRecord('layer').digest, committed);
      expect(await ctx.metadata.repositories.listRepositories({})).toEqual(byteOrder(NAMES));
    });

    it('paginates the catalog with n and last', async () => {
      for (const name of NAMES) await ctx.metadata.blobs.commitBlob(name, blobRecord('layer'));
      const sorted = byteOrder(NAMES);
      const listed: string[] = [];
      let last: string | undefined;
      for (;;) {
        const page = await ctx.metadata.repositories.listRepositories({ n: 3, last });
        listed.push(...page);
        if (page.length < 3) break;
        last = page[page.length - 1];
      }
      expect(listed).toEqual(sorted);
      expect(await ctx.metadata.repositories.listRepositories({ n: 1 })).toEqual(sorted.slice(0, 1));
      expect(await ctx.metadata.repositories.listRepositories({ last: sorted[2] })).toEqual(sorted.slice(3));
      expect(await ctx.metadata.repositories.listRepositories({ n: 0 })).toEqual([]);
      expect(await ctx.metadata.repositories.listRepositories({ last: 'zz' })).toEqual([]);
    });
  });
}
