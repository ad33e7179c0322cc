import type { MetadataContext } from './store-context';
import { byteOrder, newManifest, pushImage, recordOf } from './fixtures';

const TAGS = ['v1.9', 'v1.10', 'latest', 'Latest', 'A', 'a', 'B', '_x', '1.0', 'v1.9-rc', 'v1.9_rc'];

export function defineTagTests(ctx: MetadataContext): void {
  const manifests = () => ctx.metadata.manifests;

  describe('ManifestMetadata: tags', () => {
    it('resolves a tag and moves it to another manifest', async () => {
      const first = await pushImage(ctx.metadata, 'library/a', 'first', { tag: 'latest' });
      expect(await manifests().resolveTag('library/a', 'latest')).toEqual(recordOf(first));
      const second = await pushImage(ctx.metadata, 'library/a', 'second', { tag: 'latest' });
      expect(await manifests().resolveTag('library/a', 'latest')).toEqual(recordOf(second));
      expect(await manifests().findManifest('library/a', first.digest)).toEqual(recordOf(first));
      expect(await manifests().listTags('library/a', {})).toEqual(['latest']);
    });

    it('resolves nothing for an unknown tag or repository, and tags are per repository', async () => {
      await pushImage(ctx.metadata, 'library/a', 'image', { tag: 'v1' });
      expect(await manifests().resolveTag('library/a', 'v2')).toBeUndefined();
      expect(await manifests().resolveTag('library/b', 'v1')).toBeUndefined();
      expect(await manifests().resolveTag('library/a', 'V1')).toBeUndefined();
    });

    it('lists tags in byte order', async () => {
      const image = await pushImage(ctx.metadata, 'library/a', 'image');
      for (const tag of TAGS) await manifests().putManifest('library/a', image, tag);
      const listed = await manifests().listTags('library/a', {});
      expect(listed).toEqual(byteOrder(TAGS));
      expect(listed?.indexOf('A')).toBeLessThan(listed?.indexOf('a') ?? -1);
      expect(listed?.indexOf('v1.10')).toBeLessThan(listed?.indexOf('v1.9') ?? -1);
    });

    it('paginates tags with n and last', async () => {
      const image = await pushImage(ctx.metadata, 'library/a', 'image');
      for (const tag of TAGS) await manifests().putManifest('library/a', image, tag);
      const sorted = byteOrder(TAGS);
      const pages: string[] = [];
      let last: string | undefined;
      for (;;) {
        const page = (await manifests().listTags('library/a', { n: 3, last })) ?? [];
        pages.push(...page);
        if (page.length < 3) break;
        last = page[page.length - 1];
      }
      expect(pages).toEqual(sorted);
      expect(await manifests().listTags('library/a', { n: 2 })).toEqual(sorted.slice(0, 2));
      expect(await manifests().listTags('library/a', { last: sorted[4] })).toEqual(sorted.slice(5));
      expect(await manifests().listTags('library/a', { n: 0 })).toEqual([]);
      expect(await manifests().listTags('library/a', { last: 'v1.9_rc~' })).toEqual([]);
      expect(await manifests().listTags('library/a', { last: 'Z' })).toEqual(sorted.filter((tag) => tag > 'Z'));
    });

    it('lists undefined for an unknown repository and nothing for a repository without tags', async () => {
      expect(await manifests().listTags('library/unknown', {})).toBeUndefined();
      await manifests().putManifest('library/untagged', newManifest('image'));
      expect(await manifests().listTags('library/untagged', {})).toEqual([]);
    });

    it('deletes one tag, keeping the manifest and its other tags', async () => {
      const image = await pushImage(ctx.metadata, 'library/a', 'image', { tag: 'v1' });
      await manifests().putManifest('library/a', image, 'latest');
      expect(await manifests().deleteTag('library/a', 'v1')).toBe(true);
      expect(await manifests().resolveTag('library/a', 'v1')).toBeUndefined();
      expect(await manifests().resolveTag('library/a', 'latest')).toEqual(recordOf(image));
      expect(await manifests().findManifest('library/a', image.digest)).toEqual(recordOf(image));
      expect(await manifests().listTags('library/a', {})).toEqual(['latest']);
      expect(await manifests().deleteTag('library/a', 'v1')).toBe(false);
      expect(await manifests().deleteTag('library/unknown', 'latest')).toBe(false);
    });
  });
}
