/**
 * Conformance: Push (OCI Distribution Spec, "Push": pushing blobs monolithically (POST then PUT, single POST),
 * in chunks, cancelling, mounting from another repository, pushing manifests, with subject).
 */
import {
  OCI_CONFIG, OCI_INDEX, OCI_MANIFEST, absoluteLocation, blobOf, descriptorOf, interruptedPatch, jsonBlob,
  makeArtifact, makeImage, makeIndex, patchChunk, pushArtifact, pushBlob, pushImage, pushManifest, randomBlob,
  sha256, sha512, startUpload, uploadedBytes, withQuery,
} from '@ocireg/testing';
import { MODES, bytesOf, expectError, expectStatus, useRegistry } from './harness';

jest.setTimeout(30_000);

const UUID = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/i;

describe.each(MODES)('Push (%s)', (mode) => {
  const r = useRegistry(mode);
  const repo = 'conformance/push';

  /** POSTs a new upload and returns its absolute location (asserting the 202). */
  async function newUpload(name = repo, query: Record<string, string> = {}): Promise<{ location: string; response: Response }> {
    const response = await startUpload(r.url, name, query);
    await expectStatus(response, 202);
    return { location: absoluteLocation(r.url, response.headers.get('location')), response };
  }

  /** GET of a blob location: 200 with exactly these bytes. */
  async function expectPullable(location: string, bytes: Buffer): Promise<void> {
    const response = await fetch(location);
    await expectStatus(response, 200);
    expect((await bytesOf(response)).equals(bytes)).toBe(true);
  }

  /** The upload's status: 204 with Location and Range; returns the Range and the new location. */
  async function uploadStatus(location: string): Promise<{ range: string | null; location: string }> {
    const response = await fetch(location);
    await expectStatus(response, 204);
    return { range: response.headers.get('range'), location: absoluteLocation(r.url, response.headers.get('location')) };
  }

  /** The chunk size to use: at least OCI-Chunk-Min-Length when the POST advertised one. */
  function chunkSizeFor(post: Response, wanted: number): number {
    const min = Number(post.headers.get('oci-chunk-min-length') ?? '0');
    return Math.max(wanted, Number.isFinite(min) ? min : 0);
  }

  describe('Pushing a blob monolithically: POST then PUT', () => {
    it('POST: "the response MUST have a code of 202 Accepted, and MUST include ... Location", which "MUST contain a UUID representing a unique session ID"', async () => {
      const first = await newUpload();
      const second = await newUpload();
      expect(first.location).toMatch(UUID);
      expect(second.location).toMatch(UUID);
      expect(first.location).not.toBe(second.location);
    });

    it('POST answers Range: 0-0 (Distribution: "For an upload that just started ... Range ... 0-0") and, "if the registry has a minimum chunk size", OCI-Chunk-Min-Length as a positive integer', async () => {
      const { response } = await newUpload();
      expect(response.headers.get('range')).toBe('0-0');
      const min = response.headers.get('oci-chunk-min-length');
      if (min !== null) expect(min).toMatch(/^[1-9][0-9]*$/);
    });

    it('PUT <location>?digest= with the blob: "MUST have code 201 Created and MUST have ... Location: <blob-location>", a pullable blob URL', async () => {
      const blob = randomBlob(50_000);
      const { location } = await newUpload();
      const put = await fetch(withQuery(location, { digest: blob.digest }), {
        method: 'PUT',
        headers: { 'content-type': 'application/octet-stream', 'content-length': String(blob.size) },
        body: blob.bytes,
      });
      await expectStatus(put, 201);
      expect(put.headers.get('docker-content-digest') ?? blob.digest).toBe(blob.digest);
      await expectPullable(absoluteLocation(r.url, put.headers.get('location')), blob.bytes);
      await expectPullable(`${r.url}/v2/${repo}/blobs/${blob.digest}`, blob.bytes);
    });

    it('PUT with a digest the bytes do not have: 400 DIGEST_INVALID, and nothing becomes visible', async () => {
      const blob = randomBlob(2000);
      const wrong = sha256(`not ${blob.digest}`);
      const { location } = await newUpload();
      const put = await fetch(withQuery(location, { digest: wrong }), { method: 'PUT', headers: { 'content-type': 'application/octet-stream' }, body: blob.bytes });
      await expectError(put, 400, 'DIGEST_INVALID');
      await expectStatus(await fetch(`${r.url}/v2/${repo}/blobs/${wrong}`, { method: 'HEAD' }), 404);
      await expectStatus(await fetch(`${r.url}/v2/${repo}/blobs/${blob.digest}`, { method: 'HEAD' }), 404);
    });

    it('"The closing PUT request MUST include the <digest>": a PUT without it is refused with 400', async () => {
      const { location } = await newUpload();
      const put = await fetch(location, { method: 'PUT', headers: { 'content-type': 'application/octet-stream' }, body: Buffer.from('abc') });
      await expectError(put, 400, ['DIGEST_INVALID', 'BLOB_UPLOAD_INVALID']);
    });

    it.each([
      ['a malformed digest', 'sha256:not-hex'],
      ['a digest of an unsupported algorithm', `md5:${'0'.repeat(32)}`],
    ])('"if the client provided digest is invalid or uses an unsupported algorithm, the registry SHOULD respond with 400": %s', async (_what, digest) => {
      const bytes = Buffer.from('some bytes');
      const post = await fetch(`${r.url}/v2/${repo}/blobs/uploads/?digest=${encodeURIComponent(digest)}`, {
        method: 'POST',
        headers: { 'content-type': 'application/octet-stream', 'content-length': String(bytes.length) },
        body: bytes,
      });
      await expectError(post, 400, ['DIGEST_INVALID', 'UNSUPPORTED']);
      const { location } = await newUpload();
      const put = await fetch(withQuery(location, { digest }), { method: 'PUT', headers: { 'content-type': 'application/octet-stream' }, body: bytes });
      await expectError(put, 400, ['DIGEST_INVALID', 'UNSUPPORTED']);
    });
  });

  describe('Single POST', () => {
    it('POST ?digest= with the blob: "MUST return a 201 Created and MUST include ... Location: <blob-location>", a pullable blob URL', async () => {
      const blob = randomBlob(30_000);
      const response = await pushBlob(r.url, repo, blob);
      await expectStatus(response, 201);
      await expectPullable(absoluteLocation(r.url, response.headers.get('location')), blob.bytes);
    });

    it('"the <digest> MUST match the blob\'s digest": a mismatch is 400 DIGEST_INVALID and nothing is stored', async () => {
      const blob = randomBlob(1000);
      const wrong = sha256(`wrong ${blob.digest}`);
      const response = await fetch(`${r.url}/v2/${repo}/blobs/uploads/?digest=${wrong}`, {
        method: 'POST',
        headers: { 'content-type': 'application/octet-stream', 'content-length': String(blob.size) },
        body: blob.bytes,
      });
      await expectError(response, 400, 'DIGEST_INVALID');
      await expectStatus(await fetch(`${r.url}/v2/${repo}/blobs/${blob.digest}`, { method: 'HEAD' }), 404);
      await expectStatus(await fetch(`${r.url}/v2/${repo}/blobs/${wrong}`, { method: 'HEAD' }), 404);
    });

    it('Layer Upload De-duplication: pushing a blob the repository already has succeeds again (201) and it stays pullable', async () => {
      const blob = randomBlob(5000);
      await expectStatus(await pushBlob(r.url, repo, blob), 201);
      await expectStatus(await pushBlob(r.url, repo, blob), 201);
      await expectPullable(`${r.url}/v2/${repo}/blobs/${blob.digest}`, blob.bytes);
    });

    it('a zero-length blob is pushed with a single POST (201)', async () => {
      const empty = blobOf(Buffer.alloc(0));
      await expectStatus(await pushBlob(r.url, repo, empty), 201);
      await expectStatus(await fetch(`${r.url}/v2/${repo}/blobs/${empty.digest}`, { method: 'HEAD' }), 200);
    });
  });

  describe('Pushing a blob in chunks', () => {
    it('POST, PATCHes ("MUST be 202 Accepted, and MUST have ... Location ... Range: 0-<end-of-range>"), then PUT ?digest= (201, Location)', async () => {
      const { location: start, response: post } = await newUpload();
      const chunk = chunkSizeFor(post, 64 * 1024);
      const blob = randomBlob(chunk * 2 + 1234);
      let location = start;
      for (let offset = 0; offset < blob.size; offset += chunk) {
        const bytes = blob.bytes.subarray(offset, Math.min(offset + chunk, blob.size));
        const patch = await patchChunk(location, bytes, offset);
        await expectStatus(patch, 202);
        expect(patch.headers.get('range')).toBe(`0-${offset + bytes.length - 1}`);
        location = absoluteLocation(r.url, patch.headers.get('location'));
      }
      const put = await fetch(withQuery(location, { digest: blob.digest }), { method: 'PUT', headers: { 'content-length': '0' } });
      await expectStatus(put, 201);
      expect(put.headers.get('docker-content-digest') ?? blob.digest).toBe(blob.digest);
      await expectPullable(absoluteLocation(r.url, put.headers.get('location')), blob.bytes);
    });

    it('"The final chunk MAY be uploaded ... in the closing PUT request" with its Content-Range', async () => {
      const { location: start, response: post } = await newUpload();
      const chunk = chunkSizeFor(post, 10_000);
      const blob = randomBlob(chunk + 777);
      const patch = await patchChunk(start, blob.bytes.subarray(0, chunk), 0);
      await expectStatus(patch, 202);
      const location = absoluteLocation(r.url, patch.headers.get('location'));
      const put = await fetch(withQuery(location, { digest: blob.digest }), {
        method: 'PUT',
        headers: { 'content-type': 'application/octet-stream', 'content-range': `${chunk}-${blob.size - 1}`, 'content-length': String(blob.size - chunk) },
        body: blob.bytes.subarray(chunk),
      });
      await expectStatus(put, 201);
      await expectPullable(`${r.url}/v2/${repo}/blobs/${blob.digest}`, blob.bytes);
    });

    it('GET <location> of an active upload: "MUST be a 204 No Content response code, and MUST have ... Location ... Range: 0-<end-of-range>"', async () => {
      const { location: start, response: post } = await newUpload();
      const fresh = await uploadStatus(start);
      expect(fresh.range).toBe('0-0');
      const chunk = chunkSizeFor(post, 4096);
      const bytes = randomBlob(chunk).bytes;
      const patch = await patchChunk(fresh.location, bytes, 0);
      await expectStatus(patch, 202);
      const after = await uploadStatus(absoluteLocation(r.url, patch.headers.get('location')));
      expect(after.range).toBe(`0-${chunk - 1}`);
      expect(after.location).toMatch(UUID);
    });

    it('"The first chunk\'s range MUST begin with 0": a first chunk at 100 is 416 and the upload stays empty', async () => {
      const { location } = await newUpload();
      await expectError(await patchChunk(location, Buffer.alloc(100, 1), 100), 416, 'RANGE_INVALID');
      expect((await uploadStatus(location)).range).toBe('0-0');
    });

    it('"If a chunk is uploaded out of order, the registry MUST respond with a 416": a gap; the Range is unchanged, and the upload resumes from the offset GET reports', async () => {
      const { location: start, response: post } = await newUpload();
      const chunk = chunkSizeFor(post, 32 * 1024);
      const blob = randomBlob(chunk * 3);
      const first = await patchChunk(start, blob.bytes.subarray(0, chunk), 0);
      await expectStatus(first, 202);
      let location = absoluteLocation(r.url, first.headers.get('location'));

      const gap = await patchChunk(location, blob.bytes.subarray(2 * chunk), 2 * chunk);
      const gapRange = gap.headers.get('range');
      await expectError(gap, 416, 'RANGE_INVALID');
      if (gapRange !== null) expect(gapRange).toBe(`0-${chunk - 1}`);

      const status = await uploadStatus(location);
      expect(status.range).toBe(`0-${chunk - 1}`);
      location = status.location;
      const offset = uploadedBytes(status.range);
      const rest = await patchChunk(location, blob.bytes.subarray(offset, 2 * chunk), offset);
      await expectStatus(rest, 202);
      const put = await fetch(withQuery(absoluteLocation(r.url, rest.headers.get('location')), { digest: blob.digest }), {
        method: 'PUT',
        headers: { 'content-type': 'application/octet-stream', 'content-range': `${2 * chunk}-${3 * chunk - 1}`, 'content-length': String(chunk) },
        body: blob.bytes.subarray(2 * chunk),
      });
      await expectStatus(put, 201);
      await expectPullable(`${r.url}/v2/${repo}/blobs/${blob.digest}`, blob.bytes);
    });

    it('an overlapping chunk (re-sending received bytes) is out of order: 416, and the Range is unchanged', async () => {
      const { location: start, response: post } = await newUpload();
      const chunk = chunkSizeFor(post, 16 * 1024);
      const blob = randomBlob(chunk * 2);
      const first = await patchChunk(start, blob.bytes.subarray(0, chunk), 0);
      await expectStatus(first, 202);
      const location = absoluteLocation(r.url, first.headers.get('location'));
      await expectError(await patchChunk(location, blob.bytes.subarray(chunk / 2, chunk + chunk / 2), chunk / 2), 416, 'RANGE_INVALID');
      await expectError(await patchChunk(location, blob.bytes.subarray(0, chunk), 0), 416, 'RANGE_INVALID');
      const status = await uploadStatus(location);
      expect(status.range).toBe(`0-${chunk - 1}`);
      const second = await patchChunk(status.location, blob.bytes.subarray(chunk), chunk);
      await expectStatus(second, 202);
      const put = await fetch(withQuery(absoluteLocation(r.url, second.headers.get('location')), { digest: blob.digest }), { method: 'PUT' });
      await expectStatus(put, 201);
      await expectPullable(`${r.url}/v2/${repo}/blobs/${blob.digest}`, blob.bytes);
    });

    it('"If the final chunk is uploaded out of order, the registry MUST respond with a 416"; the upload can still be closed afterwards', async () => {
      const { location: start, response: post } = await newUpload();
      const chunk = chunkSizeFor(post, 8 * 1024);
      const blob = randomBlob(chunk + 500);
      const first = await patchChunk(start, blob.bytes.subarray(0, chunk), 0);
      await expectStatus(first, 202);
      const location = absoluteLocation(r.url, first.headers.get('location'));
      const bad = await fetch(withQuery(location, { digest: blob.digest }), {
        method: 'PUT',
        headers: { 'content-type': 'application/octet-stream', 'content-range': `${chunk + 1}-${blob.size}`, 'content-length': String(blob.size - chunk) },
        body: blob.bytes.subarray(chunk),
      });
      await expectError(bad, 416, 'RANGE_INVALID');
      const status = await uploadStatus(location);
      expect(status.range).toBe(`0-${chunk - 1}`);
      const put = await fetch(withQuery(status.location, { digest: blob.digest }), {
        method: 'PUT',
        headers: { 'content-type': 'application/octet-stream', 'content-range': `${chunk}-${blob.size - 1}`, 'content-length': String(blob.size - chunk) },
        body: blob.bytes.subarray(chunk),
      });
      await expectStatus(put, 201);
      await expectPullable(`${r.url}/v2/${repo}/blobs/${blob.digest}`, blob.bytes);
    });

    it('a chunk whose body is shorter than its Content-Range is refused with a 4xx and adds nothing to the upload', async () => {
      const { location } = await newUpload();
      const response = await fetch(location, {
        method: 'PATCH',
        headers: { 'content-type': 'application/octet-stream', 'content-range': '0-99' },
        body: Buffer.alloc(50, 7),
      });
      await expectError(response, [400, 416], ['SIZE_INVALID', 'RANGE_INVALID', 'BLOB_UPLOAD_INVALID']);
      const status = await fetch(location);
      if (status.status === 204) expect(status.headers.get('range')).toBe('0-0');
      else await expectError(status, 404, 'BLOB_UPLOAD_UNKNOWN');
    });

    it('Resumable Push: after a PATCH whose connection dropped mid-body, GET reports the offset and the upload continues from it to the right digest', async () => {
      const { location: start, response: post } = await newUpload();
      const chunk = chunkSizeFor(post, 512 * 1024);
      const blob = randomBlob(chunk * 2);
      const first = await patchChunk(start, blob.bytes.subarray(0, chunk), 0);
      await expectStatus(first, 202);
      const location = absoluteLocation(r.url, first.headers.get('location'));

      const sent = Math.floor(chunk / 2);
      const answered = await interruptedPatch(location, {
        contentRange: `${chunk}-${2 * chunk - 1}`,
        contentLength: chunk,
        partial: blob.bytes.subarray(chunk, chunk + sent),
      });
      if (answered !== undefined) expect(answered).toBeLessThan(500);
      await new Promise((resolve) => setTimeout(resolve, 300));

      const status = await uploadStatus(location);
      const offset = uploadedBytes(status.range);
      expect(offset).toBeGreaterThanOrEqual(chunk);
      expect(offset).toBeLessThanOrEqual(chunk + sent);
      const rest = await patchChunk(status.location, blob.bytes.subarray(offset), offset);
      await expectStatus(rest, 202);
      expect(rest.headers.get('range')).toBe(`0-${blob.size - 1}`);
      const put = await fetch(withQuery(absoluteLocation(r.url, rest.headers.get('location')), { digest: blob.digest }), { method: 'PUT' });
      await expectStatus(put, 201);
      expect(put.headers.get('docker-content-digest') ?? blob.digest).toBe(blob.digest);
      await expectPullable(`${r.url}/v2/${repo}/blobs/${blob.digest}`, blob.bytes);
    });

    it('"the post request SHOULD include the digest-algorithm parameter" for sha512: the chunked upload closes with a sha512 digest', async () => {
      const { location: start, response: post } = await newUpload(repo, { 'digest-algorithm': 'sha512' });
      const chunk = chunkSizeFor(post, 20_000);
      const bytes = randomBlob(chunk + 333).bytes;
      const digest = sha512(bytes);
      const patch = await patchChunk(start, bytes.subarray(0, chunk), 0);
      await expectStatus(patch, 202);
      const put = await fetch(withQuery(absoluteLocation(r.url, patch.headers.get('location')), { digest }), {
        method: 'PUT',
        headers: { 'content-type': 'application/octet-stream', 'content-range': `${chunk}-${bytes.length - 1}`, 'content-length': String(bytes.length - chunk) },
        body: bytes.subarray(chunk),
      });
      await expectStatus(put, 201);
      await expectPullable(`${r.url}/v2/${repo}/blobs/${digest}`, bytes);
    });

    it('an unsupported digest-algorithm: "the registry SHOULD respond with a response code 400 Bad Request"', async () => {
      const response = await startUpload(r.url, repo, { 'digest-algorithm': 'md5' });
      await expectError(response, 400, ['DIGEST_INVALID', 'UNSUPPORTED']);
    });
  });

  describe('Cancel a blob upload', () => {
    it('DELETE <location>: "the response SHOULD be a 204 No Content"; the upload is then unknown (404 BLOB_UPLOAD_UNKNOWN) and nothing was stored', async () => {
      const blob = randomBlob(4096);
      const { location } = await newUpload();
      const patch = await patchChunk(location, blob.bytes, 0);
      await expectStatus(patch, 202);
      const current = absoluteLocation(r.url, patch.headers.get('location'));
      await expectStatus(await fetch(current, { method: 'DELETE', headers: { 'content-length': '0' } }), 204);
      await expectError(await fetch(current), 404, 'BLOB_UPLOAD_UNKNOWN');
      await expectError(await patchChunk(current, blob.bytes, blob.size), 404, 'BLOB_UPLOAD_UNKNOWN');
      await expectError(await fetch(withQuery(current, { digest: blob.digest }), { method: 'PUT' }), 404, 'BLOB_UPLOAD_UNKNOWN');
      await expectStatus(await fetch(`${r.url}/v2/${repo}/blobs/${blob.digest}`, { method: 'HEAD' }), 404);
    });

    it('an upload that never existed: GET, PATCH, PUT and DELETE are 404 BLOB_UPLOAD_UNKNOWN', async () => {
      const location = `${r.url}/v2/${repo}/blobs/uploads/3f0c1c8e-4b5d-4e6f-8a7b-9c0d1e2f3a4b`;
      await expectError(await fetch(location), 404, 'BLOB_UPLOAD_UNKNOWN');
      await expectError(await patchChunk(location, Buffer.from('x'), 0), 404, 'BLOB_UPLOAD_UNKNOWN');
      await expectError(await fetch(withQuery(location, { digest: sha256('x') }), { method: 'PUT', body: 'x' }), 404, 'BLOB_UPLOAD_UNKNOWN');
      await expectError(await fetch(location, { method: 'DELETE' }), 404, 'BLOB_UPLOAD_UNKNOWN');
    });

    it('an upload that completed is unknown from then on, and an id shaped like the registry\'s own that it never issued is unknown', async () => {
      const blob = randomBlob(2048);
      const { location } = await newUpload();
      await expectStatus(await fetch(withQuery(location, { digest: blob.digest }), { method: 'PUT', body: blob.bytes }), 201);
      await expectError(await fetch(location), 404, 'BLOB_UPLOAD_UNKNOWN');
      await expectError(await fetch(withQuery(location, { digest: blob.digest }), { method: 'PUT', body: blob.bytes }), 404, 'BLOB_UPLOAD_UNKNOWN');
      await expectError(await patchChunk(location, blob.bytes, 0), 404, 'BLOB_UPLOAD_UNKNOWN');
      // The registry's own ids are version 8 UUIDs: one it did not sign is refused like any other unknown id.
      const forged = `${r.url}/v2/${repo}/blobs/uploads/0123abcd-ef01-8234-8567-89abcdef0123`;
      await expectError(await fetch(forged), 404, 'BLOB_UPLOAD_UNKNOWN');
      await expectError(await fetch(withQuery(forged, { digest: blob.digest }), { method: 'PUT', body: blob.bytes }), 404, 'BLOB_UPLOAD_UNKNOWN');
    });

    it('an upload session belongs to its repository: its id under another name is 404 BLOB_UPLOAD_UNKNOWN', async () => {
      const { location } = await newUpload();
      const elsewhere = location.replace(`/v2/${repo}/`, '/v2/conformance/push-other/');
      expect(elsewhere).not.toBe(location);
      await expectError(await fetch(elsewhere), 404, 'BLOB_UPLOAD_UNKNOWN');
    });
  });

  describe('Mounting a blob from another repository', () => {
    const source = 'conformance/mount-source';

    it('?mount=&from= of a blob the source has: "The response to a successful mount MUST be 201 Created, and MUST contain ... Location"', async () => {
      const blob = randomBlob(3000);
      await expectStatus(await pushBlob(r.url, source, blob), 201);
      const target = 'conformance/mount-target';
      const response = await fetch(`${r.url}/v2/${target}/blobs/uploads/?mount=${blob.digest}&from=${source}`, { method: 'POST', headers: { 'content-length': '0' } });
      await expectStatus(response, 201);
      expect(response.headers.get('docker-content-digest') ?? blob.digest).toBe(blob.digest);
      await expectPullable(absoluteLocation(r.url, response.headers.get('location')), blob.bytes);
      await expectPullable(`${r.url}/v2/${target}/blobs/${blob.digest}`, blob.bytes);
    });

    it.each([
      ['the source repository lacks the blob', source],
      ['the source repository does not exist', 'conformance/never-pushed'],
    ])('when %s: "it SHOULD return a 202", an upload session the client may use', async (_when, from) => {
      const blob = randomBlob(700);
      await expectStatus(await pushBlob(r.url, source, randomBlob(10)), 201);
      const response = await fetch(`${r.url}/v2/conformance/mount-fallback/blobs/uploads/?mount=${blob.digest}&from=${from}`, { method: 'POST', headers: { 'content-length': '0' } });
      await expectStatus(response, 202);
      const location = absoluteLocation(r.url, response.headers.get('location'));
      const put = await fetch(withQuery(location, { digest: blob.digest }), { method: 'PUT', headers: { 'content-type': 'application/octet-stream' }, body: blob.bytes });
      await expectStatus(put, 201);
      await expectPullable(`${r.url}/v2/conformance/mount-fallback/blobs/${blob.digest}`, blob.bytes);
    });

    it('automatic mount: "The registry MAY treat the from parameter as optional, and it MAY cross-mount the blob if it can be found": 201 without from', async () => {
      const blob = randomBlob(1200);
      await expectStatus(await pushBlob(r.url, source, blob), 201);
      const response = await fetch(`${r.url}/v2/conformance/mount-auto/blobs/uploads/?mount=${blob.digest}`, { method: 'POST', headers: { 'content-length': '0' } });
      await expectStatus(response, 201);
      await expectPullable(absoluteLocation(r.url, response.headers.get('location')), blob.bytes);
    });

    it('mount without from of a blob the registry does not hold: 202 and an upload session', async () => {
      const blob = randomBlob(100);
      const response = await fetch(`${r.url}/v2/conformance/mount-auto/blobs/uploads/?mount=${blob.digest}`, { method: 'POST', headers: { 'content-length': '0' } });
      await expectStatus(response, 202);
      expect(absoluteLocation(r.url, response.headers.get('location'))).toMatch(UUID);
    });
  });

  describe('Pushing manifests', () => {
    const image = makeImage({ layers: 2, layerSize: 1024 });
    beforeAll(async () => {
      for (const part of [image.config, ...image.layers]) expect((await pushBlob(r.url, repo, part)).status).toBe(201);
    });

    it('PUT by tag: "the registry MUST return response code 201 Created, and MUST have ... Location", a pullable manifest URL; Docker-Content-Digest is the digest', async () => {
      const put = await pushManifest(r.url, repo, 'by-tag', image.manifest);
      await expectStatus(put, 201);
      expect(put.headers.get('docker-content-digest')).toBe(image.manifest.digest);
      const get = await fetch(absoluteLocation(r.url, put.headers.get('location')), { headers: { accept: OCI_MANIFEST } });
      await expectStatus(get, 200);
      expect((await bytesOf(get)).equals(image.manifest.bytes)).toBe(true);
    });

    it('PUT by digest: 201; "The Docker-Content-Digest header ... MUST be equal to the client provided digest"', async () => {
      const other = makeImage({ layers: 1, layerSize: 100 });
      for (const part of [other.config, ...other.layers]) await pushBlob(r.url, repo, part);
      const put = await pushManifest(r.url, repo, other.manifest.digest, other.manifest);
      await expectStatus(put, 201);
      expect(put.headers.get('docker-content-digest')).toBe(other.manifest.digest);
      const get = await fetch(absoluteLocation(r.url, put.headers.get('location')), { headers: { accept: OCI_MANIFEST } });
      await expectStatus(get, 200);
      expect((await bytesOf(get)).equals(other.manifest.bytes)).toBe(true);
    });

    it('"The registry MUST store the manifest in the exact byte representation provided by the client" (indentation, key order, escapes, trailing newline)', async () => {
      const text = `{\n\t"layers" : [ ],\n  "config":{"size":${image.config.size},"digest":"${image.config.digest}","mediaType":"${OCI_CONFIG}"},\r\n "schemaVersion":2,\n "mediaType": "application\\/vnd.oci.image.manifest.v1+json",\n "annotations": {"note": "caf\\u00e9 \u00e9t\u00e9"}\n}\n`;
      const manifest = blobOf(Buffer.from(text, 'utf8'));
      const put = await pushManifest(r.url, repo, 'exact-bytes', manifest);
      await expectStatus(put, 201);
      expect(put.headers.get('docker-content-digest')).toBe(manifest.digest);
      const get = await fetch(`${r.url}/v2/${repo}/manifests/exact-bytes`, { headers: { accept: OCI_MANIFEST } });
      await expectStatus(get, 200);
      expect(get.headers.get('docker-content-digest')).toBe(manifest.digest);
      expect((await bytesOf(get)).equals(manifest.bytes)).toBe(true);
    });

    it('re-pushing the same manifest to the same tag: 201 again, the same digest, the tag listed once', async () => {
      const first = await pushManifest(r.url, repo, 'again', image.manifest);
      const second = await pushManifest(r.url, repo, 'again', image.manifest);
      await expectStatus(first, 201);
      await expectStatus(second, 201);
      expect(second.headers.get('docker-content-digest')).toBe(first.headers.get('docker-content-digest'));
      const tags = (await (await fetch(`${r.url}/v2/${repo}/tags/list`)).json()) as { tags: string[] };
      expect(tags.tags.filter((t) => t === 'again')).toHaveLength(1);
    });

    it('a tag moves to new content: the tag then resolves to the new manifest and the old one stays pullable by digest', async () => {
      const next = makeImage({ layers: 1, layerSize: 200 });
      for (const part of [next.config, ...next.layers]) await pushBlob(r.url, repo, part);
      await expectStatus(await pushManifest(r.url, repo, 'moving', image.manifest), 201);
      await expectStatus(await pushManifest(r.url, repo, 'moving', next.manifest), 201);
      const byTag = await fetch(`${r.url}/v2/${repo}/manifests/moving`, { headers: { accept: OCI_MANIFEST } });
      await expectStatus(byTag, 200);
      expect(byTag.headers.get('docker-content-digest')).toBe(next.manifest.digest);
      expect((await bytesOf(byTag)).equals(next.manifest.bytes)).toBe(true);
      await expectStatus(await fetch(`${r.url}/v2/${repo}/manifests/${image.manifest.digest}`, { method: 'HEAD', headers: { accept: OCI_MANIFEST } }), 200);
    });

    it.each([
      ['layer', (img: ReturnType<typeof makeImage>) => [img.config]],
      ['config', (img: ReturnType<typeof makeImage>) => img.layers],
    ])('a manifest whose %s is missing is rejected: "it MUST result in one or more MANIFEST_BLOB_UNKNOWN errors"', async (_what, present) => {
      const img = makeImage({ layers: 1, layerSize: 300 });
      for (const part of present(img)) await pushBlob(r.url, 'conformance/push-missing', part);
      await expectError(await pushManifest(r.url, 'conformance/push-missing', 'v1', img.manifest), 400, 'MANIFEST_BLOB_UNKNOWN');
      await expectStatus(await fetch(`${r.url}/v2/conformance/push-missing/manifests/${img.manifest.digest}`, { method: 'HEAD' }), 404);
    });

    it('an index whose child manifest is missing is rejected with MANIFEST_BLOB_UNKNOWN ("references a manifest or blob unknown")', async () => {
      const missing = makeImage({ layers: 1, layerSize: 50 });
      const index = makeIndex([image, missing]);
      await expectStatus(await pushManifest(r.url, repo, 'index-child', image.manifest), 201);
      await expectError(await pushManifest(r.url, repo, 'index-missing', index, OCI_INDEX), 400, 'MANIFEST_BLOB_UNKNOWN');
    });

    it('a body that does not match the digest in the URL: 400 DIGEST_INVALID, stored under neither digest', async () => {
      const other = makeImage({ layers: 1, layerSize: 10 });
      for (const part of [other.config, ...other.layers]) await pushBlob(r.url, repo, part);
      const wrong = sha256(`not ${other.manifest.digest}`);
      await expectError(await pushManifest(r.url, repo, wrong, other.manifest), 400, 'DIGEST_INVALID');
      await expectStatus(await fetch(`${r.url}/v2/${repo}/manifests/${wrong}`, { method: 'HEAD' }), 404);
      await expectStatus(await fetch(`${r.url}/v2/${repo}/manifests/${other.manifest.digest}`, { method: 'HEAD' }), 404);
    });

    it('a body that is not a manifest (invalid JSON): 400 MANIFEST_INVALID', async () => {
      const put = await fetch(`${r.url}/v2/${repo}/manifests/garbage`, { method: 'PUT', headers: { 'content-type': OCI_MANIFEST }, body: '{"schemaVersion": 2,' });
      await expectError(put, 400, 'MANIFEST_INVALID');
    });

    it('"the list of blobs MAY be empty": an artifact manifest with no layers is accepted (201)', async () => {
      const artifact = makeArtifact({ artifactType: 'application/vnd.example.empty.v1', layers: [] });
      const put = await pushArtifact(r.url, repo, artifact, 'no-layers');
      await expectStatus(put, 201);
      expect(put.headers.get('docker-content-digest')).toBe(artifact.manifest.digest);
    });

    it('"The registry SHOULD ignore parameters on the Content-Type header": a push with charset is accepted', async () => {
      const put = await fetch(`${r.url}/v2/${repo}/manifests/with-params`, {
        method: 'PUT',
        headers: { 'content-type': `${OCI_MANIFEST}; charset=utf-8` },
        body: image.manifest.bytes,
      });
      await expectStatus(put, 201);
      expect(put.headers.get('docker-content-digest')).toBe(image.manifest.digest);
    });

    it('"An attempt to pull a nonexistent repository MUST return response code 404 Not Found"', async () => {
      await expectError(await fetch(`${r.url}/v2/conformance/does-not-exist/manifests/latest`), 404, ['MANIFEST_UNKNOWN', 'NAME_UNKNOWN']);
    });

    it('?tag= on a push by digest: tags are created exactly when announced in OCI-Tag ("MUST include an OCI-Tag response header ... for each accepted tag")', async () => {
      const other = makeImage({ layers: 1, layerSize: 60 });
      for (const part of [other.config, ...other.layers]) await pushBlob(r.url, repo, part);
      const wanted = ['multi-1', 'multi-2', 'multi-3'];
      const put = await fetch(`${r.url}/v2/${repo}/manifests/${other.manifest.digest}?${wanted.map((t) => `tag=${t}`).join('&')}`, {
        method: 'PUT',
        headers: { 'content-type': OCI_MANIFEST },
        body: other.manifest.bytes,
      });
      await expectStatus(put, 201);
      const announced = (put.headers.get('oci-tag') ?? '').split(',').map((t) => t.trim()).filter((t) => t !== '');
      for (const tag of wanted) {
        const head = await fetch(`${r.url}/v2/${repo}/manifests/${tag}`, { method: 'HEAD', headers: { accept: OCI_MANIFEST } });
        expect({ tag, exists: head.status === 200 }).toEqual({ tag, exists: announced.includes(tag) });
        if (head.status === 200) expect(head.headers.get('docker-content-digest')).toBe(other.manifest.digest);
      }
    });

    describe('"Client and registry implementations SHOULD expect to be able to support manifest pushes of at least 4 megabytes"; larger: "SHOULD respond ... 413"', () => {
      /** A valid OCI manifest of exactly `size` bytes (padded with an annotation). */
      function manifestOfSize(size: number): ReturnType<typeof blobOf> {
        const base = (padding: string) =>
          JSON.stringify({
            schemaVersion: 2,
            mediaType: OCI_MANIFEST,
            config: descriptorOf(image.config, OCI_CONFIG),
            layers: image.layers.map((l) => descriptorOf(l, 'application/vnd.oci.image.layer.v1.tar+gzip')),
            annotations: { padding },
          });
        const text = base('x'.repeat(size - Buffer.byteLength(base(''))));
        expect(Buffer.byteLength(text)).toBe(size);
        return blobOf(Buffer.from(text));
      }

      it('a manifest of exactly 4 MiB is accepted (201) and pulled back whole', async () => {
        const manifest = manifestOfSize(4 * 1024 * 1024);
        await expectStatus(await pushManifest(r.url, repo, 'four-mib', manifest), 201);
        const get = await fetch(`${r.url}/v2/${repo}/manifests/four-mib`, { headers: { accept: OCI_MANIFEST } });
        await expectStatus(get, 200);
        expect(sha256(await bytesOf(get))).toBe(manifest.digest);
      });

      it('a manifest over 4 MiB is refused with 413 Payload Too Large (or 400) and an error code, and not stored', async () => {
        const manifest = manifestOfSize(4 * 1024 * 1024 + 1);
        await expectError(await pushManifest(r.url, repo, 'too-big', manifest), [413, 400], ['SIZE_INVALID', 'MANIFEST_INVALID']);
        await expectStatus(await fetch(`${r.url}/v2/${repo}/manifests/too-big`, { method: 'HEAD' }), 404);
      });
    });

    describe('Pushing manifests with subject', () => {
      it('"MUST initially accept an otherwise valid manifest with a subject field that references a manifest that does not exist"; OCI-Subject names the subject', async () => {
        const ghost = makeImage({ layers: 1, layerSize: 20 });
        const artifact = makeArtifact({ artifactType: 'application/vnd.example.sig.v1', subject: descriptorOf(ghost.manifest, OCI_MANIFEST) });
        const put = await pushArtifact(r.url, repo, artifact, artifact.manifest.digest);
        await expectStatus(put, 201);
        expect(put.headers.get('oci-subject')).toBe(ghost.manifest.digest);
        await expectStatus(await fetch(`${r.url}/v2/${repo}/manifests/${artifact.manifest.digest}`, { method: 'HEAD', headers: { accept: OCI_MANIFEST } }), 200);
      });

      it('"a registry ... that supports the referrers API MUST respond with the response header OCI-Subject: <subject digest>" (existing subject)', async () => {
        await expectStatus(await pushManifest(r.url, repo, 'subject', image.manifest), 201);
        const artifact = makeArtifact({ artifactType: 'application/vnd.example.sbom.v1', subject: descriptorOf(image.manifest, OCI_MANIFEST) });
        const put = await pushArtifact(r.url, repo, artifact, 'sbom');
        await expectStatus(put, 201);
        expect(put.headers.get('oci-subject')).toBe(image.manifest.digest);
      });

      it('a manifest without subject gets no OCI-Subject header', async () => {
        const put = await pushManifest(r.url, repo, 'no-subject', image.manifest);
        await expectStatus(put, 201);
        expect(put.headers.get('oci-subject')).toBeNull();
      });

      it('an image index with a subject is accepted (201) even when the subject does not exist', async () => {
        const ghost = jsonBlob({ ghost: Math.random() });
        const index = makeIndex([image], { subject: descriptorOf(ghost, OCI_MANIFEST), artifactType: 'application/vnd.example.bundle.v1' });
        const put = await pushManifest(r.url, repo, index.digest, index, OCI_INDEX);
        await expectStatus(put, 201);
        expect(put.headers.get('docker-content-digest')).toBe(index.digest);
      });
    });
  });

  it('pushes a whole image the way clients do (blobs, then the manifest) and pulls it back', async () => {
    const img = makeImage({ layers: 3, layerSize: 4096 });
    await pushImage(r.url, 'conformance/push-image', img, 'latest');
    const get = await fetch(`${r.url}/v2/conformance/push-image/manifests/latest`, { headers: { accept: OCI_MANIFEST } });
    await expectStatus(get, 200);
    expect((await bytesOf(get)).equals(img.manifest.bytes)).toBe(true);
  });
});
