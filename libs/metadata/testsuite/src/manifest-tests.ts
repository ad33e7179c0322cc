import type { MetadataContext } from './store-context';
import { blobRecord, digestOf, IMAGE_INDEX, newManifest, pushImage, recordOf } from './fixtures';

export function defineManifestTests(ctx: MetadataContext): void {
  const manifests = () => ctx.metadata.manifests;

  describe('ManifestMetadata: put and find', () => {
    it('records a manifest whose references are linked, with its optional fields', async () => {
      const manifest = await pushImage(ctx.metadata, 'library/a', 'image', {
        subject: digestOf('subject'),
        artifactType: 'application/vnd.example.sbom',
        annotations: { 'org.opencontainers.image.created': '2024-01-01T00:00:00Z', empty: '' },
      });
      expect(await manifests().findManifest('library/a', manifest.digest)).toEqual(recordOf(manifest));
      expect(await manifests().findManifest('library/b', manifest.digest)).toBeUndefined();
      expect(await manifests().findManifest('library/a', digestOf('unknown'))).toBeUndefined();
    });

    it('returns records without absent optional fields', async () => {
      const manifest = await pushImage(ctx.metadata, 'library/a', 'plain');
      const found = await manifests().findManifest('library/a', manifest.digest);
      expect(found).toStrictEqual({
        digest: manifest.digest,
        mediaType: manifest.mediaType,
        size: manifest.size,
        storageKey: manifest.storageKey,
      });
    });

    it('keeps the bytes of a manifest where it says it keeps them, and returns them only to find and resolve', async () => {
      const body = Buffer.from(JSON.stringify({ schemaVersion: 2, note: 'bytes \u0000\u00ff kept' }));
      const manifest = await pushImage(ctx.metadata, 'library/a', 'bodied', { tag: 'v1', body, subject: digestOf('subject') });
      const { body: _body, ...record } = recordOf(manifest);
      const found = await manifests().findManifest('library/a', manifest.digest);
      const resolved = await manifests().resolveTag('library/a', 'v1');
      if (manifests().keepsBodies) {
        expect(found?.body?.equals(body)).toBe(true);
        expect(resolved?.body?.equals(body)).toBe(true);
        expect(Buffer.isBuffer(found?.body)).toBe(true);
      } else {
        expect(found).toEqual(record);
        expect(resolved).toEqual(record);
      }
      // Listings carry no bytes.
      expect(await manifests().listReferrers('library/a', digestOf('subject'))).toEqual([record]);
      // Recorded without bytes (a large manifest, or one of before): none come back, the record is the same.
      const plain = await pushImage(ctx.metadata, 'library/a', 'unbodied');
      expect(await manifests().findManifest('library/a', plain.digest)).toStrictEqual(recordOf(plain));
    });

    it('writes nothing and reports what is missing when blobs are not linked', async () => {
      const config = blobRecord('config');
      await ctx.metadata.blobs.commitBlob('library/other', blobRecord('layer'));
      const manifest = newManifest('image', { blobs: [config.digest, digestOf('layer'), config.digest] });
      expect(await manifests().putManifest('library/a', manifest, 'latest')).toEqual({
        missing: [config.digest, digestOf('layer')],
      });
      expect(await manifests().findManifest('library/a', manifest.digest)).toBeUndefined();
      expect(await manifests().listTags('library/a', {})).toBeUndefined();
      expect(await ctx.metadata.repositories.listRepositories({})).toEqual(['library/other']);

      await ctx.metadata.blobs.commitBlob('library/a', config);
      expect(await manifests().putManifest('library/a', manifest, 'latest')).toEqual({ missing: [digestOf('layer')] });
      expect(await manifests().findManifest('library/a', manifest.digest)).toBeUndefined();
      expect(await manifests().listTags('library/a', {})).toEqual([]);
    });

    it('requires the children of an index to be linked manifests of the repository', async () => {
      const child = await pushImage(ctx.metadata, 'library/a', 'child');
      const index = newManifest('index', { mediaType: IMAGE_INDEX, manifests: [child.digest, digestOf('absent')] });
      expect(await manifests().putManifest('library/a', index)).toEqual({ missing: [digestOf('absent')] });
      expect(await manifests().putManifest('library/b', index)).toEqual({
        missing: [child.digest, digestOf('absent')],
      });
      expect(await manifests().findManifest('library/a', index.digest)).toBeUndefined();

      const complete = newManifest('index', { mediaType: IMAGE_INDEX, manifests: [child.digest] });
      expect(await manifests().putManifest('library/a', complete, 'multi')).toEqual({ missing: [] });
      expect(await manifests().resolveTag('library/a', 'multi')).toEqual(recordOf(complete));
    });

    it('accepts a manifest without references in a new repository, and the same manifest twice', async () => {
      const empty = newManifest('empty');
      expect(await manifests().putManifest('library/new', empty, 'v1')).toEqual({ missing: [] });
      expect(await manifests().putManifest('library/new', empty, 'v1')).toEqual({ missing: [] });
      expect(await manifests().listTags('library/new', {})).toEqual(['v1']);
      expect(await manifests().findManifest('library/new', empty.digest)).toEqual(recordOf(empty));
    });

    it('records a manifest once globally: the first record wins in every repository', async () => {
      const first = await pushImage(ctx.metadata, 'library/a', 'image');
      await pushImage(ctx.metadata, 'library/b', 'image', { annotations: { ignored: 'yes' } });
      expect(await manifests().findManifest('library/b', first.digest)).toEqual(recordOf(first));
    });

    it('rejects a storage key already recorded for another manifest, writing nothing', async () => {
      expect(await manifests().putManifest('library/a', newManifest('one'), 'one')).toEqual({ missing: [] });
      const clash = { ...newManifest('two'), storageKey: newManifest('one').storageKey };
      await expect(manifests().putManifest('library/a', clash, 'two')).rejects.toThrow(/storage key/);
      expect(await manifests().findManifest('library/a', clash.digest)).toBeUndefined();
      expect(await manifests().listTags('library/a', {})).toEqual(['one']);
    });

    it('creates a new repository once when manifests are put into it concurrently', async () => {
      const puts = Array.from({ length: 8 }, (_, i) => manifests().putManifest('library/fresh', newManifest(`fresh-${i}`), `t${i}`));
      expect(await Promise.all(puts)).toEqual(Array.from({ length: 8 }, () => ({ missing: [] })));
      expect(await ctx.metadata.repositories.listRepositories({})).toEqual(['library/fresh']);
      expect(await manifests().listTags('library/fresh', {})).toEqual(['t0', 't1', 't2', 't3', 't4', 't5', 't6', 't7']);
    });

    defineDeleteManifestTests(ctx);
  });
}

function defineDeleteManifestTests(ctx: MetadataContext): void {
  const manifests = () => ctx.metadata.manifests;

  it('deletes a manifest from one repository with its tags, keeping other manifests and repositories', async () => {
    const image = await pushImage(ctx.metadata, 'library/a', 'image', { tag: 'v1' });
    await manifests().putManifest('library/a', image, 'latest');
    const other = await pushImage(ctx.metadata, 'library/a', 'other', { tag: 'v2' });
    await pushImage(ctx.metadata, 'library/b', 'image', { tag: 'v1' });

    expect(await manifests().deleteManifest('library/a', image.digest)).toBe(true);
    expect(await manifests().findManifest('library/a', image.digest)).toBeUndefined();
    expect(await manifests().resolveTag('library/a', 'v1')).toBeUndefined();
    expect(await manifests().resolveTag('library/a', 'latest')).toBeUndefined();
    expect(await manifests().listTags('library/a', {})).toEqual(['v2']);
    expect(await manifests().resolveTag('library/a', 'v2')).toEqual(recordOf(other));
    expect(await manifests().resolveTag('library/b', 'v1')).toEqual(recordOf(image));
    expect(await manifests().deleteManifest('library/a', image.digest)).toBe(false);
    expect(await manifests().deleteManifest('library/unknown', image.digest)).toBe(false);
  });

  it('puts a deleted manifest again', async () => {
    const image = await pushImage(ctx.metadata, 'library/a', 'image', { tag: 'v1' });
    await manifests().deleteManifest('library/a', image.digest);
    expect(await manifests().putManifest('library/a', image, 'v1')).toEqual({ missing: [] });
    expect(await manifests().resolveTag('library/a', 'v1')).toEqual(recordOf(image));
  });
}
