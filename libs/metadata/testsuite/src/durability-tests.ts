import { blobRecord, digestOf, IMAGE_INDEX, newManifest, pushImage, recordOf } from './fixtures';
import type { StoreContext } from './store-context';

/** For durable adapters: every kind of acknowledged mutation survives closing and reopening the store. */
export function defineDurabilityTests(ctx: StoreContext): void {
  describe('durability', () => {
    it('keeps every kind of mutation across a reopen', async () => {
      const image = await pushImage(ctx.metadata, 'library/a', 'image', { tag: 'v1' });
      await ctx.metadata.manifests.putManifest('library/a', image, 'latest');
      const sbom = await pushImage(ctx.metadata, 'library/a', 'sbom', { subject: image.digest, artifactType: 'application/sbom', annotations: { a: 'b' } });
      const index = newManifest('index', { mediaType: IMAGE_INDEX, manifests: [image.digest] });
      expect(await ctx.metadata.manifests.putManifest('library/a', index, 'multi')).toEqual({ missing: [] });
      const gone = await pushImage(ctx.metadata, 'library/a', 'gone', { tag: 'gone' });
      expect(await ctx.metadata.manifests.deleteManifest('library/a', gone.digest)).toBe(true);
      expect(await ctx.metadata.manifests.deleteTag('library/a', 'v1')).toBe(true);
      const shared = blobRecord('shared', 5 * 1024 ** 3 + 1);
      await ctx.metadata.blobs.commitBlob('library/b', shared);
      expect(await ctx.metadata.blobs.mountBlob('library/c', shared.digest, 'library/b')).toEqual(shared);
      await ctx.metadata.blobs.commitBlob('library/d', blobRecord('unlinked'));
      expect(await ctx.metadata.blobs.unlinkBlob('library/d', digestOf('unlinked'))).toBe(true);

      const reopened = await ctx.reopen();
      expect(await reopened.repositories.listRepositories({})).toEqual(['library/a', 'library/b', 'library/c', 'library/d']);
      expect(await reopened.manifests.listTags('library/a', {})).toEqual(['latest', 'multi']);
      expect(await reopened.manifests.resolveTag('library/a', 'latest')).toEqual(recordOf(image));
      expect(await reopened.manifests.resolveTag('library/a', 'multi')).toEqual(recordOf(index));
      expect(await reopened.manifests.findManifest('library/a', gone.digest)).toBeUndefined();
      expect(await reopened.manifests.listReferrers('library/a', image.digest)).toEqual([recordOf(sbom)]);
      expect(await reopened.blobs.findLinkedBlob('library/c', shared.digest)).toEqual(shared);
      expect(await reopened.blobs.listBlobRepositories(shared.digest, 10)).toEqual(['library/b', 'library/c']);
      expect(await reopened.blobs.findLinkedBlob('library/d', digestOf('unlinked'))).toBeUndefined();
      expect(await reopened.blobs.findBlob(digestOf('unlinked'))).toEqual(blobRecord('unlinked'));
      // The reopened store keeps its rules: the first record of a storage key still wins.
      await expect(reopened.blobs.commitBlob('library/e', blobRecord('other', 1, shared.storageKey))).rejects.toThrow();
      expect(await reopened.manifests.putManifest('library/a', newManifest('index'), 'again')).toEqual({ missing: [] });
      expect(await reopened.manifests.resolveTag('library/a', 'again')).toEqual(recordOf(index));
    });
  });
}
