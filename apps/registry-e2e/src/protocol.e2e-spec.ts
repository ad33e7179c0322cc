import { createHash } from 'node:crypto';
import {
  OCI_MANIFEST, RunMode, TestRegistry, blobOf, makeImage, makeIndex, pushBlob, pushImage, pushManifest, randomBlob,
  sha256, startRegistry,
} from '@ocireg/testing';

const DOCKER_MANIFEST = 'application/vnd.docker.distribution.manifest.v2+json';
const DOCKER_LIST = 'application/vnd.docker.distribution.manifest.list.v2+json';

async function errorCode(response: Response): Promise<string | undefined> {
  const body = (await response.json()) as { errors?: Array<{ code: string }> };
  return body.errors?.[0]?.code;
}

describe.each<RunMode>(['embedded', 'distributed'])('the /v2 protocol (%s)', (mode) => {
  let registry: TestRegistry;
  let url: string;

  beforeAll(async () => {
    registry = await startRegistry(mode);
    url = registry.url;
  }, 120_000);
  afterAll(async () => registry?.stop());

  it('answers the base endpoint with the API version header', async () => {
    const response = await fetch(`${url}/v2/`);
    expect(response.status).toBe(200);
    expect(response.headers.get('docker-distribution-api-version')).toBe('registry/2.0');
  });

  describe('blobs', () => {
    it('pushes monolithically with POST ?digest= and reads back with HEAD and GET', async () => {
      const blob = randomBlob(100_000);
      const push = await pushBlob(url, 'mono/repo', blob);
      expect(push.status).toBe(201);
      expect(push.headers.get('location')).toBe(`/v2/mono/repo/blobs/${blob.digest}`);
      expect(push.headers.get('docker-content-digest')).toBe(blob.digest);

      const head = await fetch(`${url}/v2/mono/repo/blobs/${blob.digest}`, { method: 'HEAD' });
      expect(head.status).toBe(200);
      expect(head.headers.get('content-length')).toBe(String(blob.size));
      expect(head.headers.get('docker-content-digest')).toBe(blob.digest);

      const get = await fetch(`${url}/v2/mono/repo/blobs/${blob.digest}`);
      expect(get.status).toBe(200);
      expect(sha256(Buffer.from(await get.arrayBuffer()))).toBe(blob.digest);
    });

    it('serves a Range read with 206 and refuses one past the end with 416', async () => {
      const blob = randomBlob(1000);
      await pushBlob(url, 'range/repo', blob);
      const partial = await fetch(`${url}/v2/range/repo/blobs/${blob.digest}`, { headers: { range: 'bytes=10-19' } });
      expect(partial.status).toBe(206);
      expect(partial.headers.get('content-range')).toBe('bytes 10-19/1000');
      expect(Buffer.from(await partial.arrayBuffer())).toEqual(blob.bytes.subarray(10, 20));
      const past = await fetch(`${url}/v2/range/repo/blobs/${blob.digest}`, { headers: { range: 'bytes=1000-' } });
      expect(past.status).toBe(416);
      expect(await errorCode(past)).toBe('RANGE_INVALID');
    });

    it('rejects a wrong digest with DIGEST_INVALID and leaves nothing visible', async () => {
      const blob = randomBlob(1000);
      const wrong = sha256('something else');
      const response = await fetch(`${url}/v2/wrong/repo/blobs/uploads/?digest=${wrong}`, { method: 'POST', body: blob.bytes });
      expect(response.status).toBe(400);
      expect(await errorCode(response)).toBe('DIGEST_INVALID');
      expect((await fetch(`${url}/v2/wrong/repo/blobs/${wrong}`, { method: 'HEAD' })).status).toBe(404);
      expect((await fetch(`${url}/v2/wrong/repo/blobs/${blob.digest}`, { method: 'HEAD' })).status).toBe(404);
    });

    it('keeps blobs per repository: a digest known elsewhere is unknown here', async () => {
      const blob = randomBlob(500);
      await pushBlob(url, 'owner/a', blob);
      const other = await fetch(`${url}/v2/owner/b/blobs/${blob.digest}`);
      expect(other.status).toBe(404);
      expect(await errorCode(other)).toBe('BLOB_UNKNOWN');
    });

    it('uploads in chunks with PATCH and Content-Range, reports status, refuses out-of-order chunks', async () => {
      const blob = randomBlob(300_000);
      const start = await fetch(`${url}/v2/chunked/repo/blobs/uploads/`, { method: 'POST' });
      expect(start.status).toBe(202);
      let location = start.headers.get('location') ?? '';
      expect(location).toMatch(/^\/v2\/chunked\/repo\/blobs\/uploads\/[a-f0-9-]+$/);
      expect(start.headers.get('range')).toBe('0-0');

      const first = await fetch(`${url}${location}`, {
        method: 'PATCH',
        headers: { 'content-type': 'application/octet-stream', 'content-range': '0-99999' },
        body: blob.bytes.subarray(0, 100_000),
      });
      expect(first.status).toBe(202);
      expect(first.headers.get('range')).toBe('0-99999');
      location = first.headers.get('location') ?? '';

      const outOfOrder = await fetch(`${url}${location}`, {
        method: 'PATCH',
        headers: { 'content-type': 'application/octet-stream', 'content-range': '200000-299999' },
        body: blob.bytes.subarray(200_000),
      });
      expect(outOfOrder.status).toBe(416);

      const status = await fetch(`${url}${location}`);
      expect(status.status).toBe(204);
      expect(status.headers.get('range')).toBe('0-99999');

      const second = await fetch(`${url}${location}`, {
        method: 'PATCH',
        headers: { 'content-type': 'application/octet-stream', 'content-range': '100000-199999' },
        body: blob.bytes.subarray(100_000, 200_000),
      });
      expect(second.status).toBe(202);
      const done = await fetch(`${url}${second.headers.get('location')}?digest=${blob.digest}`, {
        method: 'PUT',
        headers: { 'content-type': 'application/octet-stream', 'content-range': '200000-299999' },
        body: blob.bytes.subarray(200_000),
      });
      expect(done.status).toBe(201);
      expect(done.headers.get('docker-content-digest')).toBe(blob.digest);
      const get = await fetch(`${url}/v2/chunked/repo/blobs/${blob.digest}`);
      expect(sha256(Buffer.from(await get.arrayBuffer()))).toBe(blob.digest);
    });

    it('hashes large bodies and bodies of unknown length (on a worker thread) exactly, and refuses a wrong digest', async () => {
      /** A body sent with Transfer-Encoding: chunked (no Content-Length), in pieces of 64 KiB. */
      const streamed = (bytes: Buffer): RequestInit => ({
        body: new ReadableStream({
          start(controller) {
            for (let offset = 0; offset < bytes.length; offset += 65536) controller.enqueue(bytes.subarray(offset, offset + 65536));
            controller.close();
          },
        }),
        duplex: 'half',
      } as RequestInit);
      const big = randomBlob(6 * 1024 * 1024 + 3);
      const mono = await fetch(`${url}/v2/large/repo/blobs/uploads/?digest=${big.digest}`, { method: 'POST', body: big.bytes });
      expect(mono.status).toBe(201);
      expect(sha256(Buffer.from(await (await fetch(`${url}/v2/large/repo/blobs/${big.digest}`)).arrayBuffer()))).toBe(big.digest);

      const other = randomBlob(5 * 1024 * 1024);
      const wrong = await fetch(`${url}/v2/large/repo/blobs/uploads/?digest=${other.digest}`, { method: 'POST', ...streamed(big.bytes.subarray(1)) });
      expect(wrong.status).toBe(400);
      expect(await errorCode(wrong)).toBe('DIGEST_INVALID');
      expect((await fetch(`${url}/v2/large/repo/blobs/${other.digest}`, { method: 'HEAD' })).status).toBe(404);

      // Two PATCHes of unknown length, then a PUT without a body: the digest of the running hash.
      const start = await fetch(`${url}/v2/large/repo/blobs/uploads/`, { method: 'POST' });
      const split = 4 * 1024 * 1024 + 1;
      const first = await fetch(`${url}${start.headers.get('location')}`, { method: 'PATCH', ...streamed(other.bytes.subarray(0, split)) });
      expect(first.status).toBe(202);
      const second = await fetch(`${url}${first.headers.get('location')}`, { method: 'PATCH', ...streamed(other.bytes.subarray(split)) });
      expect(second.headers.get('range')).toBe(`0-${other.bytes.length - 1}`);
      const done = await fetch(`${url}${second.headers.get('location')}?digest=${other.digest}`, { method: 'PUT' });
      expect(done.status).toBe(201);
      expect(sha256(Buffer.from(await (await fetch(`${url}/v2/large/repo/blobs/${other.digest}`)).arrayBuffer()))).toBe(other.digest);
    });

    it('verifies sha512 digests', async () => {
      const bytes = randomBlob(2000).bytes;
      const digest = `sha512:${createHash('sha512').update(bytes).digest('hex')}`;
      const response = await fetch(`${url}/v2/sha512/repo/blobs/uploads/?digest=${digest}`, { method: 'POST', body: bytes });
      expect(response.status).toBe(201);
      const get = await fetch(`${url}/v2/sha512/repo/blobs/${digest}`);
      expect(Buffer.from(await get.arrayBuffer())).toEqual(bytes);
    });

    it('cancels an upload with DELETE, after which it is unknown', async () => {
      const start = await fetch(`${url}/v2/cancel/repo/blobs/uploads/`, { method: 'POST' });
      const location = start.headers.get('location') ?? '';
      expect((await fetch(`${url}${location}`, { method: 'DELETE' })).status).toBe(204);
      const status = await fetch(`${url}${location}`);
      expect(status.status).toBe(404);
      expect(await errorCode(status)).toBe('BLOB_UPLOAD_UNKNOWN');
    });

    it('mounts a blob from another repository (201), and starts an upload when the source lacks it (202)', async () => {
      const blob = randomBlob(700);
      await pushBlob(url, 'mount/source', blob);
      const mounted = await fetch(`${url}/v2/mount/target/blobs/uploads/?mount=${blob.digest}&from=mount/source`, { method: 'POST' });
      expect(mounted.status).toBe(201);
      expect(mounted.headers.get('location')).toBe(`/v2/mount/target/blobs/${blob.digest}`);
      expect((await fetch(`${url}/v2/mount/target/blobs/${blob.digest}`, { method: 'HEAD' })).status).toBe(200);
      const missing = randomBlob(10);
      const fallback = await fetch(`${url}/v2/mount/target/blobs/uploads/?mount=${missing.digest}&from=mount/source`, { method: 'POST' });
      expect(fallback.status).toBe(202);
      expect(fallback.headers.get('location')).toMatch(/\/blobs\/uploads\//);
    });
  });

  describe('manifests', () => {
    it('pushes an OCI image by tag and pulls it by tag and digest with the right headers', async () => {
      const image = makeImage();
      await pushImage(url, 'images/app', image, 'v1');
      for (const reference of ['v1', image.manifest.digest]) {
        const get = await fetch(`${url}/v2/images/app/manifests/${reference}`, { headers: { accept: OCI_MANIFEST } });
        expect(get.status).toBe(200);
        expect(get.headers.get('content-type')).toBe(OCI_MANIFEST);
        expect(get.headers.get('docker-content-digest')).toBe(image.manifest.digest);
        expect(Buffer.from(await get.arrayBuffer())).toEqual(image.manifest.bytes);
        const head = await fetch(`${url}/v2/images/app/manifests/${reference}`, { method: 'HEAD' });
        expect(head.status).toBe(200);
        expect(head.headers.get('content-length')).toBe(String(image.manifest.size));
      }
    });

    it('refuses a manifest whose blobs are not in the repository', async () => {
      const image = makeImage();
      const response = await pushManifest(url, 'images/missing', 'v1', image.manifest);
      expect(response.status).toBe(400);
      expect(await errorCode(response)).toBe('MANIFEST_BLOB_UNKNOWN');
      expect((await fetch(`${url}/v2/images/missing/manifests/v1`)).status).toBe(404);
    });

    it('pushes an image index whose children exist, and refuses one whose children do not', async () => {
      const amd = makeImage({ architecture: 'amd64' });
      const arm = makeImage({ architecture: 'arm64' });
      await pushImage(url, 'images/multi', amd, 'amd');
      const index = makeIndex([amd, arm]);
      const refused = await pushManifest(url, 'images/multi', 'latest', index, 'application/vnd.oci.image.index.v1+json');
      expect(refused.status).toBe(400);
      expect(await errorCode(refused)).toBe('MANIFEST_BLOB_UNKNOWN');
      await pushImage(url, 'images/multi', arm, 'arm');
      const accepted = await pushManifest(url, 'images/multi', 'latest', index, 'application/vnd.oci.image.index.v1+json');
      expect(accepted.status).toBe(201);
      const get = await fetch(`${url}/v2/images/multi/manifests/latest`);
      expect(get.headers.get('content-type')).toBe('application/vnd.oci.image.index.v1+json');
    });

    it('accepts Docker schema2 manifests and manifest lists', async () => {
      const image = makeImage();
      for (const blob of [image.config, ...image.layers]) await pushBlob(url, 'docker/app', blob);
      const manifest = blobOf(
        Buffer.from(
          JSON.stringify({
            schemaVersion: 2,
            mediaType: DOCKER_MANIFEST,
            config: { mediaType: 'application/vnd.docker.container.image.v1+json', digest: image.config.digest, size: image.config.size },
            layers: image.layers.map((l) => ({ mediaType: 'application/vnd.docker.image.rootfs.diff.tar.gzip', digest: l.digest, size: l.size })),
          }),
        ),
      );
      expect((await pushManifest(url, 'docker/app', 'v2', manifest, DOCKER_MANIFEST)).status).toBe(201);
      const list = blobOf(
        Buffer.from(
          JSON.stringify({
            schemaVersion: 2,
            mediaType: DOCKER_LIST,
            manifests: [{ mediaType: DOCKER_MANIFEST, digest: manifest.digest, size: manifest.size, platform: { architecture: 'amd64', os: 'linux' } }],
          }),
        ),
      );
      expect((await pushManifest(url, 'docker/app', 'list', list, DOCKER_LIST)).status).toBe(201);
      const get = await fetch(`${url}/v2/docker/app/manifests/list`);
      expect(get.headers.get('content-type')).toBe(DOCKER_LIST);
      expect(get.headers.get('docker-content-digest')).toBe(list.digest);
    });

    it('refuses a body that does not match the digest in the URL', async () => {
      const image = makeImage();
      await pushImage(url, 'images/digest', image, 'v1');
      const response = await pushManifest(url, 'images/digest', sha256('other'), image.manifest);
      expect(response.status).toBe(400);
      expect(await errorCode(response)).toBe('DIGEST_INVALID');
    });

    it('lists tags in lexical order', async () => {
      const image = makeImage();
      await pushImage(url, 'tags/repo', image, 'b');
      await pushManifest(url, 'tags/repo', 'a', image.manifest);
      await pushManifest(url, 'tags/repo', 'C', image.manifest);
      const response = await fetch(`${url}/v2/tags/repo/tags/list`);
      expect(response.status).toBe(200);
      expect(await response.json()).toEqual({ name: 'tags/repo', tags: ['C', 'a', 'b'] });
      const unknown = await fetch(`${url}/v2/tags/none/tags/list`);
      expect(unknown.status).toBe(404);
      expect(await errorCode(unknown)).toBe('NAME_UNKNOWN');
    });
  });

  describe('bad input never gives a 500', () => {
    const cases: Array<[string, string, RequestInit, number, string]> = [
      ['an invalid repository name', '/v2/UPPER/case/manifests/latest', {}, 400, 'NAME_INVALID'],
      ['a malformed digest in a manifest reference', '/v2/repo/manifests/sha256:xyz', {}, 400, 'DIGEST_INVALID'],
      ['an unsupported digest algorithm', '/v2/repo/blobs/md5:d41d8cd98f00b204e9800998ecf8427e', {}, 400, 'DIGEST_INVALID'],
      ['a malformed blob digest', '/v2/repo/blobs/sha256:123', {}, 400, 'DIGEST_INVALID'],
      ['an invalid tag', '/v2/repo/manifests/-bad', {}, 400, 'TAG_INVALID'],
      ['an unknown manifest', '/v2/repo/manifests/nope', {}, 404, 'MANIFEST_UNKNOWN'],
      ['an unknown upload', '/v2/repo/blobs/uploads/0b5e6d4e-1111-4222-8333-944445555666', {}, 404, 'BLOB_UPLOAD_UNKNOWN'],
      ['a malformed upload id', '/v2/repo/blobs/uploads/..%2F..%2Fetc', {}, 404, 'BLOB_UPLOAD_UNKNOWN'],
      ['a PUT without digest', '/v2/repo/blobs/uploads/0b5e6d4e-1111-4222-8333-944445555666', { method: 'PUT' }, 400, 'DIGEST_INVALID'],
      ['an unknown endpoint', '/v2/repo/nothing/here', {}, 404, 'NOT_FOUND'],
      ['a method the endpoint lacks', '/v2/repo/tags/list', { method: 'POST' }, 405, 'UNSUPPORTED'],
      ['invalid JSON as a manifest', '/v2/repo/manifests/v1', { method: 'PUT', body: '{not json', headers: { 'content-type': OCI_MANIFEST } }, 400, 'MANIFEST_INVALID'],
      ['a manifest of the wrong shape', '/v2/repo/manifests/v1', { method: 'PUT', body: '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","layers":"x"}', headers: { 'content-type': OCI_MANIFEST } }, 400, 'MANIFEST_INVALID'],
      ['a bad n on the tags list', '/v2/repo/tags/list?n=-1', {}, 400, 'PAGINATION_NUMBER_INVALID'],
      ['a malformed Content-Range', '/v2/repo/blobs/uploads/0b5e6d4e-1111-4222-8333-944445555666', { method: 'PATCH', headers: { 'content-range': 'zz' }, body: 'x' }, 416, 'RANGE_INVALID'],
    ];
    it.each(cases)('%s', async (_label, path, init, status, code) => {
      const response = await fetch(`${url}${path}`, init);
      expect(response.status).toBe(status);
      expect(await errorCode(response)).toBe(code);
    });

    it('refuses a manifest larger than the limit', async () => {
      const big = Buffer.alloc(4 * 1024 * 1024 + 10, 0x20);
      const response = await fetch(`${url}/v2/repo/manifests/big`, { method: 'PUT', body: big, headers: { 'content-type': OCI_MANIFEST } });
      expect(response.status).toBe(413);
    });
  });
});
