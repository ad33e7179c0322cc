/**
 * Conformance: Content Management (OCI Distribution Spec, "Content Management": deleting tags, manifests and
 * blobs), with deletion enabled (the suite's registries) and disabled by configuration (an extra registry).
 */
import {
  Image, OCI_MANIFEST, absoluteLocation, descriptorOf, makeArtifact, makeImage, pushArtifact, pushBlob, pushImage,
  pushManifest, randomBlob, sha256, startUpload,
} from '@ocireg/testing';
import { MODES, bytesOf, expectError, expectStatus, useExtraRegistry, useRegistry } from './harness';

jest.setTimeout(30_000);

describe.each(MODES)('Content Management (%s)', (mode) => {
  const r = useRegistry(mode);

  const manifestAt = (name: string, reference: string, method = 'GET') =>
    fetch(`${r.url}/v2/${name}/manifests/${reference}`, { method, headers: { accept: OCI_MANIFEST } });
  const del = (path: string) => fetch(`${r.url}${path}`, { method: 'DELETE' });
  const tagsOf = async (name: string) => {
    const response = await fetch(`${r.url}/v2/${name}/tags/list`);
    await expectStatus(response, 200);
    return ((await response.json()) as { tags: string[] }).tags;
  };

  /** A fresh image pushed under several tags. */
  async function imageWithTags(name: string, tags: string[]): Promise<Image> {
    const image = makeImage({ layers: 1, layerSize: 256 });
    await pushImage(r.url, name, image, tags[0] ?? 'latest');
    for (const tag of tags.slice(1)) await expectStatus(await pushManifest(r.url, name, tag, image.manifest), 201);
    return image;
  }

  describe('Deleting tags', () => {
    it('DELETE /v2/<name>/manifests/<tag>: "Upon success, the registry MUST respond with a 202 Accepted"; then "a GET to /v2/<name>/manifests/<tag> will return a 404"', async () => {
      const name = 'conformance/delete-tag';
      await imageWithTags(name, ['doomed', 'kept']);
      await expectStatus(await del(`/v2/${name}/manifests/doomed`), 202);
      await expectError(await manifestAt(name, 'doomed'), 404, 'MANIFEST_UNKNOWN');
      await expectStatus(await manifestAt(name, 'doomed', 'HEAD'), 404);
      expect(await tagsOf(name)).toEqual(['kept']);
    });

    it('deleting a tag removes only the tag: the manifest stays pullable by digest and by its other tags', async () => {
      const name = 'conformance/delete-tag-only';
      const image = await imageWithTags(name, ['one', 'two', 'three']);
      await expectStatus(await del(`/v2/${name}/manifests/two`), 202);
      for (const reference of [image.manifest.digest, 'one', 'three']) {
        const response = await manifestAt(name, reference);
        await expectStatus(response, 200);
        expect((await bytesOf(response)).equals(image.manifest.bytes)).toBe(true);
      }
      await expectStatus(await fetch(`${r.url}/v2/${name}/blobs/${image.config.digest}`, { method: 'HEAD' }), 200);
    });

    it('deleting the last tag leaves the repository listing an empty tag list (the manifest is still there)', async () => {
      const name = 'conformance/delete-last-tag';
      const image = await imageWithTags(name, ['only']);
      await expectStatus(await del(`/v2/${name}/manifests/only`), 202);
      expect(await tagsOf(name)).toEqual([]);
      await expectStatus(await manifestAt(name, image.manifest.digest, 'HEAD'), 200);
    });

    it('a tag deleted then pushed again points at the pushed manifest', async () => {
      const name = 'conformance/delete-tag-repush';
      const image = await imageWithTags(name, ['back']);
      await expectStatus(await del(`/v2/${name}/manifests/back`), 202);
      await expectStatus(await pushManifest(r.url, name, 'back', image.manifest), 201);
      const response = await manifestAt(name, 'back');
      await expectStatus(response, 200);
      expect(response.headers.get('docker-content-digest')).toBe(image.manifest.digest);
    });
  });

  describe('Deleting manifests', () => {
    it('DELETE /v2/<name>/manifests/<digest>: 202; "a GET to /v2/<name>/manifests/<digest> and any tag pointing to that digest will return a 404"', async () => {
      const name = 'conformance/delete-manifest';
      const image = await imageWithTags(name, ['a', 'b']);
      const survivor = await imageWithTags(name, ['c']);
      await expectStatus(await del(`/v2/${name}/manifests/${image.manifest.digest}`), 202);
      for (const reference of [image.manifest.digest, 'a', 'b']) {
        await expectError(await manifestAt(name, reference), 404, 'MANIFEST_UNKNOWN');
        await expectStatus(await manifestAt(name, reference, 'HEAD'), 404);
      }
      expect(await tagsOf(name)).toEqual(['c']);
      const kept = await manifestAt(name, 'c');
      await expectStatus(kept, 200);
      expect(kept.headers.get('docker-content-digest')).toBe(survivor.manifest.digest);
    });

    it('a manifest deleted in one repository stays in another that has it', async () => {
      const image = await imageWithTags('conformance/delete-manifest-a', ['v1']);
      await pushImage(r.url, 'conformance/delete-manifest-b', image, 'v1');
      await expectStatus(await del(`/v2/conformance/delete-manifest-a/manifests/${image.manifest.digest}`), 202);
      const other = await manifestAt('conformance/delete-manifest-b', 'v1');
      await expectStatus(other, 200);
      expect((await bytesOf(other)).equals(image.manifest.bytes)).toBe(true);
    });

    it('a deleted manifest can be pushed again (201) and pulled', async () => {
      const name = 'conformance/delete-manifest-repush';
      const image = await imageWithTags(name, ['v1']);
      await expectStatus(await del(`/v2/${name}/manifests/${image.manifest.digest}`), 202);
      await expectStatus(await pushManifest(r.url, name, 'v1', image.manifest), 201);
      const response = await manifestAt(name, image.manifest.digest);
      await expectStatus(response, 200);
      expect((await bytesOf(response)).equals(image.manifest.bytes)).toBe(true);
    });

    it('a deleted referrer is no longer in the referrers list', async () => {
      const name = 'conformance/delete-referrer';
      const subject = await imageWithTags(name, ['subject']);
      const kept = makeArtifact({ artifactType: 'application/vnd.example.kept.v1', subject: descriptorOf(subject.manifest, OCI_MANIFEST) });
      const removed = makeArtifact({ artifactType: 'application/vnd.example.removed.v1', subject: descriptorOf(subject.manifest, OCI_MANIFEST) });
      for (const artifact of [kept, removed]) await expectStatus(await pushArtifact(r.url, name, artifact, artifact.manifest.digest), 201);
      await expectStatus(await del(`/v2/${name}/manifests/${removed.manifest.digest}`), 202);
      const response = await fetch(`${r.url}/v2/${name}/referrers/${subject.manifest.digest}`);
      await expectStatus(response, 200);
      const index = (await response.json()) as { manifests: Array<{ digest: string }> };
      expect(index.manifests.map((d) => d.digest)).toEqual([kept.manifest.digest]);
    });
  });

  describe('Deleting blobs', () => {
    it('DELETE /v2/<name>/blobs/<digest>: "Upon success, the registry MUST respond with code 202 Accepted"; the blob is then 404 BLOB_UNKNOWN', async () => {
      const name = 'conformance/delete-blob';
      const blob = randomBlob(2048);
      await expectStatus(await pushBlob(r.url, name, blob), 201);
      await expectStatus(await del(`/v2/${name}/blobs/${blob.digest}`), 202);
      await expectError(await fetch(`${r.url}/v2/${name}/blobs/${blob.digest}`), 404, 'BLOB_UNKNOWN');
      await expectStatus(await fetch(`${r.url}/v2/${name}/blobs/${blob.digest}`, { method: 'HEAD' }), 404);
    });

    it('deleting a blob in one repository leaves it in another repository that has it', async () => {
      const blob = randomBlob(1024);
      await expectStatus(await pushBlob(r.url, 'conformance/delete-blob-a', blob), 201);
      await expectStatus(await pushBlob(r.url, 'conformance/delete-blob-b', blob), 201);
      await expectStatus(await del(`/v2/conformance/delete-blob-a/blobs/${blob.digest}`), 202);
      const other = await fetch(`${r.url}/v2/conformance/delete-blob-b/blobs/${blob.digest}`);
      await expectStatus(other, 200);
      expect((await bytesOf(other)).equals(blob.bytes)).toBe(true);
    });

    it('a deleted blob can be pushed again (201) and pulled whole', async () => {
      const name = 'conformance/delete-blob-repush';
      const blob = randomBlob(4096);
      await expectStatus(await pushBlob(r.url, name, blob), 201);
      await expectStatus(await del(`/v2/${name}/blobs/${blob.digest}`), 202);
      await expectStatus(await pushBlob(r.url, name, blob), 201);
      const response = await fetch(`${r.url}/v2/${name}/blobs/${blob.digest}`);
      await expectStatus(response, 200);
      expect((await bytesOf(response)).equals(blob.bytes)).toBe(true);
    });
  });

  describe('Deleting what is not there', () => {
    const name = 'conformance/delete-absent';
    let image: Image;
    beforeAll(async () => {
      image = await imageWithTags(name, ['present']);
    });

    it('an unknown tag: 404 MANIFEST_UNKNOWN', async () => {
      await expectError(await del(`/v2/${name}/manifests/never-was`), 404, 'MANIFEST_UNKNOWN');
    });

    it('an unknown manifest digest: 404 MANIFEST_UNKNOWN', async () => {
      await expectError(await del(`/v2/${name}/manifests/${sha256(`absent ${Math.random()}`)}`), 404, 'MANIFEST_UNKNOWN');
    });

    it('a manifest deleted twice: the second DELETE is 404 MANIFEST_UNKNOWN', async () => {
      const twice = await imageWithTags(name, ['twice']);
      await expectStatus(await del(`/v2/${name}/manifests/${twice.manifest.digest}`), 202);
      await expectError(await del(`/v2/${name}/manifests/${twice.manifest.digest}`), 404, 'MANIFEST_UNKNOWN');
    });

    it('"If the repository does not exist, the response MUST return 404 Not Found"', async () => {
      await expectError(await del(`/v2/conformance/no-such-repository/manifests/${image.manifest.digest}`), 404, ['NAME_UNKNOWN', 'MANIFEST_UNKNOWN']);
    });

    it('"If the blob is not found, a 404 Not Found code MUST be returned" (BLOB_UNKNOWN), also when deleted twice', async () => {
      await expectError(await del(`/v2/${name}/blobs/${sha256(`absent blob ${Math.random()}`)}`), 404, 'BLOB_UNKNOWN');
      const blob = randomBlob(100);
      await expectStatus(await pushBlob(r.url, name, blob), 201);
      await expectStatus(await del(`/v2/${name}/blobs/${blob.digest}`), 202);
      await expectError(await del(`/v2/${name}/blobs/${blob.digest}`), 404, 'BLOB_UNKNOWN');
    });

    it('a malformed digest: 400 DIGEST_INVALID (end-9, end-10 failure codes), never a 5xx', async () => {
      await expectError(await del(`/v2/${name}/manifests/sha256:nothex`), 400, 'DIGEST_INVALID');
      await expectError(await del(`/v2/${name}/blobs/sha256:nothex`), 400, 'DIGEST_INVALID');
    });

    it('the failed deletes changed nothing', async () => {
      const response = await manifestAt(name, 'present');
      await expectStatus(response, 200);
      expect(response.headers.get('docker-content-digest')).toBe(image.manifest.digest);
    });
  });

  describe('with deletion disabled (REGISTRY_STORAGE_DELETE_ENABLED=false)', () => {
    const disabled = useExtraRegistry(mode, { env: { REGISTRY_STORAGE_DELETE_ENABLED: 'false' }, storage: 'filesystem' });
    const name = 'conformance/no-delete';
    const image = makeImage({ layers: 1, layerSize: 128 });

    beforeAll(async () => {
      await pushImage(disabled.url, name, image, 'v1');
    });

    it.each([
      ['a tag: "If tag deletion is disabled, the registry MUST respond with either a 400 Bad Request or a 405 Method Not Allowed"', () => `/v2/${name}/manifests/v1`],
      ['a manifest: "If manifest deletion is disabled, the registry MUST respond with either a 400 Bad Request or a 405 Method Not Allowed"', () => `/v2/${name}/manifests/${image.manifest.digest}`],
      ['a blob: "If blob deletion is disabled, the registry MUST respond with either a 400 Bad Request or a 405 Method Not Allowed"', () => `/v2/${name}/blobs/${image.config.digest}`],
    ])('deleting %s (UNSUPPORTED)', async (_what, path) => {
      await expectError(await fetch(`${disabled.url}${path()}`, { method: 'DELETE' }), [405, 400], 'UNSUPPORTED');
    });

    it('nothing was deleted', async () => {
      const manifest = await fetch(`${disabled.url}/v2/${name}/manifests/v1`, { headers: { accept: OCI_MANIFEST } });
      await expectStatus(manifest, 200);
      expect(manifest.headers.get('docker-content-digest')).toBe(image.manifest.digest);
      await expectStatus(await fetch(`${disabled.url}/v2/${name}/blobs/${image.config.digest}`, { method: 'HEAD' }), 200);
    });

    it('cancelling an upload is not a content delete and still works (204)', async () => {
      const post = await startUpload(disabled.url, name);
      await expectStatus(post, 202);
      await expectStatus(await fetch(absoluteLocation(disabled.url, post.headers.get('location')), { method: 'DELETE' }), 204);
    });
  });
});
