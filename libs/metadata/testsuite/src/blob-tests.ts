import type { MetadataContext } from './store-context';
import { blobRecord, digestOf } from './fixtures';

export function defineBlobTests(ctx: MetadataContext): void {
  const blobs = () => ctx.metadata.blobs;

  describe('BlobMetadata', () => {
    it('commits a blob, links it and finds it', async () => {
      const layer = blobRecord('layer');
      expect(await blobs().commitBlob('library/a', layer)).toEqual({ blob: layer, created: true });
      expect(await blobs().findLinkedBlob('library/a', layer.digest)).toEqual(layer);
      expect(await blobs().findBlob(layer.digest)).toEqual(layer);
    });

    it('finds nothing for an unknown digest or repository', async () => {
      expect(await blobs().findBlob(digestOf('unknown'))).toBeUndefined();
      expect(await blobs().findLinkedBlob('library/a', digestOf('unknown'))).toBeUndefined();
      await blobs().commitBlob('library/a', blobRecord('layer'));
      expect(await blobs().findLinkedBlob('library/unknown', digestOf('layer'))).toBeUndefined();
    });

    it('keeps sizes beyond 32 bits exact', async () => {
      const big = blobRecord('big', 5 * 1024 ** 3 + 7);
      await blobs().commitBlob('library/a', big);
      expect(await blobs().findBlob(big.digest)).toEqual(big);
      expect((await blobs().findLinkedBlob('library/a', big.digest))?.size).toBe(5 * 1024 ** 3 + 7);
    });

    it('deduplicates by digest: the first record wins and created is false', async () => {
      const first = blobRecord('layer', 10, 'blobs/first');
      const second = blobRecord('layer', 10, 'blobs/second');
      await blobs().commitBlob('library/a', first);
      expect(await blobs().commitBlob('library/a', second)).toEqual({ blob: first, created: false });
      expect(await blobs().commitBlob('library/b', second)).toEqual({ blob: first, created: false });
      expect(await blobs().findBlob(first.digest)).toEqual(first);
      expect(await blobs().findLinkedBlob('library/b', first.digest)).toEqual(first);
    });

    it('records one blob when the same digest is committed concurrently', async () => {
      const attempts = Array.from({ length: 6 }, (_, index) => ({
        repository: `library/r${index % 3}`,
        blob: blobRecord('layer', 10, index % 2 === 0 ? 'blobs/shared' : `blobs/copy-${index}`),
      }));
      const results = await Promise.all(attempts.map((a) => blobs().commitBlob(a.repository, a.blob)));
      expect(results.filter((result) => result.created)).toHaveLength(1);
      const winner = results.find((result) => result.created)?.blob;
      for (const result of results) expect(result.blob).toEqual(winner);
      for (const { repository } of attempts) {
        expect(await blobs().findLinkedBlob(repository, digestOf('layer'))).toEqual(winner);
      }
    });

    it('rejects a storage key already recorded for another digest, writing nothing', async () => {
      await blobs().commitBlob('library/a', blobRecord('one', 1, 'blobs/same'));
      await expect(blobs().commitBlob('library/b', blobRecord('two', 1, 'blobs/same'))).rejects.toThrow();
      expect(await blobs().findBlob(digestOf('two'))).toBeUndefined();
      expect(await ctx.metadata.repositories.listRepositories({})).toEqual(['library/a']);
    });

    it('links per repository: a blob linked in one repository is invisible in another', async () => {
      const layer = blobRecord('layer');
      await blobs().commitBlob('library/a', layer);
      await blobs().commitBlob('library/b', blobRecord('other'));
      expect(await blobs().findLinkedBlob('library/b', layer.digest)).toBeUndefined();
      expect(await blobs().findBlob(layer.digest)).toEqual(layer);
    });

    defineMountTests(ctx);
    defineUnlinkTests(ctx);
  });
}

function defineMountTests(ctx: MetadataContext): void {
  const blobs = () => ctx.metadata.blobs;

  it('mounts a blob from a repository that links it', async () => {
    const layer = blobRecord('layer');
    await blobs().commitBlob('library/a', layer);
    expect(await blobs().mountBlob('library/b', layer.digest, 'library/a')).toEqual(layer);
    expect(await blobs().findLinkedBlob('library/b', layer.digest)).toEqual(layer);
    expect(await blobs().mountBlob('library/b', layer.digest, 'library/a')).toEqual(layer);
    expect(await blobs().mountBlob('library/a', layer.digest, 'library/a')).toEqual(layer);
    expect(await ctx.metadata.repositories.listRepositories({})).toEqual(['library/a', 'library/b']);
  });

  it('lists the repositories that link a blob, in order and bounded', async () => {
    const layer = blobRecord('layer');
    for (const name of ['library/c', 'library/a', 'library/b']) await blobs().commitBlob(name, layer);
    await blobs().commitBlob('library/d', blobRecord('other'));
    expect(await blobs().listBlobRepositories(layer.digest, 10)).toEqual(['library/a', 'library/b', 'library/c']);
    expect(await blobs().listBlobRepositories(layer.digest, 2)).toEqual(['library/a', 'library/b']);
    await blobs().unlinkBlob('library/a', layer.digest);
    expect(await blobs().listBlobRepositories(layer.digest, 10)).toEqual(['library/b', 'library/c']);
    expect(await blobs().listBlobRepositories(digestOf('unknown'), 10)).toEqual([]);
  });

  it('mounts nothing from a repository that does not link the blob', async () => {
    const layer = blobRecord('layer');
    await blobs().commitBlob('library/a', layer);
    await blobs().commitBlob('library/c', blobRecord('other'));
    expect(await blobs().mountBlob('library/b', layer.digest, 'library/c')).toBeUndefined();
    expect(await blobs().mountBlob('library/b', layer.digest, 'library/unknown')).toBeUndefined();
    expect(await blobs().mountBlob('library/b', digestOf('unknown'), 'library/a')).toBeUndefined();
    expect(await blobs().mountBlob('library/c', layer.digest, 'library/c')).toBeUndefined();
    expect(await blobs().findLinkedBlob('library/b', layer.digest)).toBeUndefined();
    expect(await ctx.metadata.repositories.listRepositories({})).toEqual(['library/a', 'library/c']);
  });
}

function defineUnlinkTests(ctx: MetadataContext): void {
  const blobs = () => ctx.metadata.blobs;

  it('unlinks a blob from one repository only', async () => {
    const layer = blobRecord('layer');
    await blobs().commitBlob('library/a', layer);
    await blobs().commitBlob('library/b', layer);
    expect(await blobs().unlinkBlob('library/a', layer.digest)).toBe(true);
    expect(await blobs().findLinkedBlob('library/a', layer.digest)).toBeUndefined();
    expect(await blobs().findLinkedBlob('library/b', layer.digest)).toEqual(layer);
    expect(await blobs().findBlob(layer.digest)).toEqual(layer);
    expect(await blobs().unlinkBlob('library/a', layer.digest)).toBe(false);
    expect(await blobs().unlinkBlob('library/unknown', layer.digest)).toBe(false);
  });

  it('links again after an unlink', async () => {
    const layer = blobRecord('layer');
    await blobs().commitBlob('library/a', layer);
    await blobs().unlinkBlob('library/a', layer.digest);
    expect(await blobs().commitBlob('library/a', blobRecord('layer', 1024, 'blobs/again'))).toEqual({
      blob: layer,
      created: false,
    });
    expect(await blobs().findLinkedBlob('library/a', layer.digest)).toEqual(layer);
  });
}
