/**
 * Conformance: Pull (OCI Distribution Spec, "Pull": pulling manifests, pulling blobs, checking if content
 * exists), with the spec's `<name>`/`<tag-or-digest>` grammar, content negotiation
 * (content-negotiation.md, without schema1: this registry stores none) and RFC 9110 range reads.
 */
import {
  DOCKER_LIST, DOCKER_MANIFEST, OCI_CONFIG, OCI_INDEX, OCI_LAYER, OCI_MANIFEST, blobOf, digestOf, jsonBlob,
  makeArtifact, makeDockerList, makeDockerManifest, makeImage, makeIndex, pushArtifact, pushBlob, pushImage,
  pushManifest, randomBlob, sha256, sha512,
} from '@ocireg/testing';
import {
  ACCEPT_ALL_MANIFESTS, MODES, bytesOf, comparableHeaders, expectError, expectStatus, useRegistry,
} from './harness';

jest.setTimeout(30_000);

describe.each(MODES)('Pull (%s)', (mode) => {
  const r = useRegistry(mode);
  const repo = 'conformance/pull';
  const image = makeImage({ layers: 2, layerSize: 2048 });
  const blob = randomBlob(1000);

  beforeAll(async () => {
    await pushImage(r.url, repo, image, 'tagged');
    expect((await pushBlob(r.url, repo, blob)).status).toBe(201);
  });

  it('GET /v2/ answers 200 OK ("If the response is 200 OK, then the registry implements this specification")', async () => {
    const response = await fetch(`${r.url}/v2/`);
    await expectStatus(response, 200);
  });

  describe('Pulling manifests', () => {
    it.each([
      ['tag', 'tagged'],
      ['digest', image.manifest.digest],
    ])('GET by %s "MUST provide the expected manifest, with a response code that MUST be 200 OK" and Docker-Content-Digest', async (_by, reference) => {
      const response = await fetch(`${r.url}/v2/${repo}/manifests/${reference}`, { headers: { accept: OCI_MANIFEST } });
      await expectStatus(response, 200);
      expect(response.headers.get('content-type')).toBe(OCI_MANIFEST);
      expect(response.headers.get('docker-content-digest')).toBe(image.manifest.digest);
      expect(response.headers.get('content-length')).toBe(String(image.manifest.size));
      const body = await bytesOf(response);
      expect(body.equals(image.manifest.bytes)).toBe(true);
      expect(sha256(body)).toBe(image.manifest.digest);
    });

    describe('"The Content-Type header SHOULD match what the client pushed as the manifest\'s Content-Type"', () => {
      const kinds: Array<[string, () => Promise<{ bytes: Buffer; mediaType: string }>]> = [
        ['an OCI image manifest', async () => ({ bytes: image.manifest.bytes, mediaType: OCI_MANIFEST })],
        [
          'an OCI image index',
          async () => {
            const index = makeIndex([image]);
            expect((await pushManifest(r.url, repo, 'ct-index', index, OCI_INDEX)).status).toBe(201);
            return { bytes: index.bytes, mediaType: OCI_INDEX };
          },
        ],
        [
          'a Docker schema2 manifest',
          async () => {
            const docker = makeDockerManifest(image);
            expect((await pushManifest(r.url, repo, 'ct-docker', docker, DOCKER_MANIFEST)).status).toBe(201);
            return { bytes: docker.bytes, mediaType: DOCKER_MANIFEST };
          },
        ],
        [
          'a Docker manifest list',
          async () => {
            const docker = makeDockerManifest(image);
            await pushManifest(r.url, repo, 'ct-docker', docker, DOCKER_MANIFEST);
            const list = makeDockerList([{ manifest: docker, platform: image.platform }]);
            expect((await pushManifest(r.url, repo, 'ct-list', list, DOCKER_LIST)).status).toBe(201);
            return { bytes: list.bytes, mediaType: DOCKER_LIST };
          },
        ],
        [
          'an OCI artifact manifest (artifactType, empty config)',
          async () => {
            const artifact = makeArtifact({ artifactType: 'application/vnd.example.thing.v1' });
            expect((await pushArtifact(r.url, repo, artifact, 'ct-artifact')).status).toBe(201);
            return { bytes: artifact.manifest.bytes, mediaType: OCI_MANIFEST };
          },
        ],
        [
          'an OCI image manifest without a mediaType field',
          async () => {
            const bare = jsonBlob({
              schemaVersion: 2,
              config: { mediaType: OCI_CONFIG, digest: image.config.digest, size: image.config.size },
              layers: image.layers.map((l) => ({ mediaType: OCI_LAYER, digest: l.digest, size: l.size })),
            });
            expect((await pushManifest(r.url, repo, 'ct-bare', bare, OCI_MANIFEST)).status).toBe(201);
            return { bytes: bare.bytes, mediaType: OCI_MANIFEST };
          },
        ],
      ];

      it.each(kinds)('%s comes back with its own Content-Type, bytes and digest, by digest', async (_kind, push) => {
        const pushed = await push();
        const digest = sha256(pushed.bytes);
        const response = await fetch(`${r.url}/v2/${repo}/manifests/${digest}`, { headers: { accept: ACCEPT_ALL_MANIFESTS } });
        await expectStatus(response, 200);
        expect(response.headers.get('content-type')).toBe(pushed.mediaType);
        expect(response.headers.get('docker-content-digest')).toBe(digest);
        expect((await bytesOf(response)).equals(pushed.bytes)).toBe(true);
      });
    });

    it('"The registry SHOULD NOT include parameters on the Content-Type header" (even when the push had some)', async () => {
      const manifest = makeImage({ layers: 1, layerSize: 64 });
      await pushImage(r.url, repo, manifest, 'ct-params-base');
      const put = await fetch(`${r.url}/v2/${repo}/manifests/ct-params`, {
        method: 'PUT',
        headers: { 'content-type': `${OCI_MANIFEST}; charset=utf-8` },
        body: manifest.manifest.bytes,
      });
      await expectStatus(put, 201);
      const get = await fetch(`${r.url}/v2/${repo}/manifests/ct-params`, { headers: { accept: OCI_MANIFEST } });
      await expectStatus(get, 200);
      expect(get.headers.get('content-type')).toBe(OCI_MANIFEST);
    });

    it('"If the manifest is not found in the repository, the response code MUST be 404 Not Found" (MANIFEST_UNKNOWN), by tag and by digest', async () => {
      for (const reference of ['no-such-tag', sha256(`missing ${Math.random()}`)]) {
        await expectError(await fetch(`${r.url}/v2/${repo}/manifests/${reference}`), 404, 'MANIFEST_UNKNOWN');
        await expectError(await fetch(`${r.url}/v2/${repo}/manifests/${reference}`, { method: 'HEAD' }), 404, 'MANIFEST_UNKNOWN', true);
      }
    });

    it('a manifest pushed to another repository is "not found in the repository": 404 MANIFEST_UNKNOWN', async () => {
      await pushImage(r.url, 'conformance/pull-elsewhere', image, 'v1');
      await expectError(await fetch(`${r.url}/v2/conformance/pull-unrelated/manifests/${image.manifest.digest}`), 404, ['MANIFEST_UNKNOWN', 'NAME_UNKNOWN']);
      await expectError(await fetch(`${r.url}/v2/conformance/pull-unrelated/manifests/v1`), 404, ['MANIFEST_UNKNOWN', 'NAME_UNKNOWN']);
    });
  });

  describe('Checking if content exists in the registry (HEAD)', () => {
    it.each([
      ['tag', 'tagged'],
      ['digest', image.manifest.digest],
    ])('HEAD manifest by %s "MUST return 200 OK" with Docker-Content-Digest and Content-Length', async (_by, reference) => {
      const head = await fetch(`${r.url}/v2/${repo}/manifests/${reference}`, { method: 'HEAD', headers: { accept: OCI_MANIFEST } });
      await expectStatus(head, 200);
      expect(head.headers.get('docker-content-digest')).toBe(image.manifest.digest);
      expect(head.headers.get('content-length')).toBe(String(image.manifest.size));
      expect((await bytesOf(head)).length).toBe(0);
    });

    it('HEAD blob "MUST return 200 OK" with Docker-Content-Digest and "the size in bytes ... in the header Content-Length"', async () => {
      const head = await fetch(`${r.url}/v2/${repo}/blobs/${blob.digest}`, { method: 'HEAD' });
      await expectStatus(head, 200);
      expect(head.headers.get('docker-content-digest')).toBe(blob.digest);
      expect(head.headers.get('content-length')).toBe(String(blob.size));
    });

    it('HEAD of absent content: "If the blob or manifest is not found in the repository, the response code MUST be 404 Not Found"', async () => {
      await expectStatus(await fetch(`${r.url}/v2/${repo}/blobs/${sha256('absent blob')}`, { method: 'HEAD' }), 404);
      await expectStatus(await fetch(`${r.url}/v2/${repo}/manifests/absent`, { method: 'HEAD' }), 404);
    });

    // RFC 9110 §9.3.2 (the spec defers to RFC 9110 where it is silent): "The server SHOULD send the same header
    // fields in response to a HEAD request as it would have sent if the request method had been GET".
    it.each([
      ['a manifest by tag', () => `/v2/${repo}/manifests/tagged`],
      ['a manifest by digest', () => `/v2/${repo}/manifests/${image.manifest.digest}`],
      ['a blob', () => `/v2/${repo}/blobs/${blob.digest}`],
      ['an absent manifest (404)', () => `/v2/${repo}/manifests/absent`],
      ['an absent blob (404)', () => `/v2/${repo}/blobs/${sha256('absent')}`],
    ])('HEAD of %s answers exactly the header fields GET would (RFC 9110 §9.3.2)', async (_what, path) => {
      const init = { headers: { accept: ACCEPT_ALL_MANIFESTS } };
      const get = await fetch(`${r.url}${path()}`, init);
      await get.arrayBuffer();
      const head = await fetch(`${r.url}${path()}`, { ...init, method: 'HEAD' });
      expect(head.status).toBe(get.status);
      expect(comparableHeaders(head)).toEqual(comparableHeaders(get));
    });
  });

  describe('Pulling blobs', () => {
    it('GET "MUST provide the expected blob, with a response code that MUST be 200 OK", Docker-Content-Digest and Content-Length', async () => {
      const response = await fetch(`${r.url}/v2/${repo}/blobs/${blob.digest}`);
      await expectStatus(response, 200);
      expect(response.headers.get('docker-content-digest')).toBe(blob.digest);
      expect(response.headers.get('content-length')).toBe(String(blob.size));
      expect((await bytesOf(response)).equals(blob.bytes)).toBe(true);
    });

    it('config and layers of a pushed image are pullable and each body matches its digest', async () => {
      for (const part of [image.config, ...image.layers]) {
        const response = await fetch(`${r.url}/v2/${repo}/blobs/${part.digest}`);
        await expectStatus(response, 200);
        expect(sha256(await bytesOf(response))).toBe(part.digest);
      }
    });

    it('"If the blob is not found in the repository, the response code MUST be 404 Not Found" (BLOB_UNKNOWN)', async () => {
      await expectError(await fetch(`${r.url}/v2/${repo}/blobs/${sha256(`no such blob ${Math.random()}`)}`), 404, 'BLOB_UNKNOWN');
    });

    it('a blob pushed only to another repository is "not found in the repository": 404 BLOB_UNKNOWN', async () => {
      const other = randomBlob(300);
      await pushBlob(r.url, 'conformance/pull-elsewhere', other);
      await expectError(await fetch(`${r.url}/v2/${repo}/blobs/${other.digest}`), 404, 'BLOB_UNKNOWN');
    });

    it('a zero-length blob is pulled with 200, Content-Length: 0 and its digest', async () => {
      const empty = blobOf(Buffer.alloc(0));
      expect((await pushBlob(r.url, repo, empty)).status).toBe(201);
      const response = await fetch(`${r.url}/v2/${repo}/blobs/${empty.digest}`);
      await expectStatus(response, 200);
      expect(response.headers.get('content-length')).toBe('0');
      expect(response.headers.get('docker-content-digest')).toBe(empty.digest);
      expect((await bytesOf(response)).length).toBe(0);
    });

    describe('"A registry SHOULD support the Range request header in accordance with RFC 9110 (section 14)"', () => {
      const range = async (header: string) => fetch(`${r.url}/v2/${repo}/blobs/${blob.digest}`, { headers: { range: header } });

      it.each([
        ['bytes=10-19', 10, 19],
        ['bytes=900-', 900, 999],
        ['bytes=-50', 950, 999],
        ['bytes=0-0', 0, 0],
        ['bytes=990-5000', 990, 999],
      ])('%s: 206 Partial Content with Content-Range and exactly those bytes', async (header, start, end) => {
        const response = await range(header);
        await expectStatus(response, 206);
        expect(response.headers.get('content-range')).toBe(`bytes ${start}-${end}/${blob.size}`);
        expect(response.headers.get('content-length')).toBe(String(end - start + 1));
        expect((await bytesOf(response)).equals(blob.bytes.subarray(start, end + 1))).toBe(true);
      });

      it('a range starting at or past the end: 416 Range Not Satisfiable (RANGE_INVALID)', async () => {
        await expectError(await range(`bytes=${blob.size}-`), 416, 'RANGE_INVALID');
        await expectError(await range(`bytes=${blob.size + 10}-${blob.size + 20}`), 416, 'RANGE_INVALID');
      });

      it('the 416 carries "Content-Range: bytes */<size>" (RFC 9110 §15.5.17: a server generating a 416 "SHOULD send a Content-Range header field with an unsatisfied-range value")', async () => {
        const response = await range(`bytes=${blob.size}-`);
        await expectStatus(response, 416);
        expect(response.headers.get('content-range')).toBe(`bytes */${blob.size}`);
      });

      it('a Range of a unit other than bytes is ignored: 200 with the whole blob (RFC 9110 §14.2: a server "MUST ignore a Range header field that contains a range unit it does not understand")', async () => {
        const response = await range('items=0-5');
        await expectStatus(response, 200);
        expect((await bytesOf(response)).equals(blob.bytes)).toBe(true);
      });

      it('several satisfiable ranges are served or ignored, not refused (RFC 9110 §14.2 "MAY ignore"; §15.5.17: 416 when "none of the requested ranges are satisfiable")', async () => {
        const response = await range('bytes=0-9,20-29');
        await expectStatus(response, 200, 206);
        const body = await bytesOf(response);
        if (response.status === 200) expect(body.equals(blob.bytes)).toBe(true);
        else expect(body.length).toBeGreaterThanOrEqual(20);
      });
    });
  });

  describe('Digests other than sha256 (sha512)', () => {
    it('a blob pushed with a sha512 digest is pulled by that digest; Docker-Content-Digest "MUST be a digest matching that of the response body"', async () => {
      const bytes = randomBlob(4000).bytes;
      const digest = sha512(bytes);
      const push = await fetch(`${r.url}/v2/${repo}/blobs/uploads/?digest=${digest}`, {
        method: 'POST',
        headers: { 'content-type': 'application/octet-stream', 'content-length': String(bytes.length) },
        body: bytes,
      });
      await expectStatus(push, 201);
      const head = await fetch(`${r.url}/v2/${repo}/blobs/${digest}`, { method: 'HEAD' });
      await expectStatus(head, 200);
      expect(head.headers.get('content-length')).toBe(String(bytes.length));
      const get = await fetch(`${r.url}/v2/${repo}/blobs/${digest}`);
      await expectStatus(get, 200);
      const body = await bytesOf(get);
      expect(body.equals(bytes)).toBe(true);
      const header = get.headers.get('docker-content-digest') ?? '';
      const algorithm = header.startsWith('sha512:') ? 'sha512' : 'sha256';
      expect(header).toBe(digestOf(body, algorithm));
    });

    it('a manifest of sha512 blobs pushed by its sha512 digest is pulled by that digest, byte for byte', async () => {
      const config = blobOf(Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [] } })), 'sha512');
      const layer = blobOf(randomBlob(1500).bytes, 'sha512');
      for (const part of [config, layer]) expect((await pushBlob(r.url, 'conformance/pull-sha512', part)).status).toBe(201);
      const manifest = jsonBlob(
        {
          schemaVersion: 2,
          mediaType: OCI_MANIFEST,
          config: { mediaType: OCI_CONFIG, digest: config.digest, size: config.size },
          layers: [{ mediaType: 'application/octet-stream', digest: layer.digest, size: layer.size }],
        },
        'sha512',
      );
      const put = await pushManifest(r.url, 'conformance/pull-sha512', manifest.digest, manifest);
      await expectStatus(put, 201);
      expect(put.headers.get('docker-content-digest')).toBe(manifest.digest);
      const get = await fetch(`${r.url}/v2/conformance/pull-sha512/manifests/${manifest.digest}`, { headers: { accept: OCI_MANIFEST } });
      await expectStatus(get, 200);
      expect(get.headers.get('docker-content-digest')).toBe(manifest.digest);
      expect(get.headers.get('content-type')).toBe(OCI_MANIFEST);
      expect((await bytesOf(get)).equals(manifest.bytes)).toBe(true);
    });
  });

  describe('"<name> MUST match" the repository name grammar; "<tag-or-digest> MUST be either the digest of the manifest or a tag"', () => {
    it.each(['a__b', 'a---b', 'a.b_c-d/e0/f.g', 'x'])('the valid name %s is served', async (name) => {
      const small = makeImage({ layers: 1, layerSize: 64 });
      await pushImage(r.url, name, small, 'v1');
      await expectStatus(await fetch(`${r.url}/v2/${name}/manifests/v1`, { headers: { accept: OCI_MANIFEST } }), 200);
      await expectStatus(await fetch(`${r.url}/v2/${name}/blobs/${small.config.digest}`), 200);
    });

    it.each(['Upper/case', 'a..b', 'a___b', '-lead', 'trail-', 'a/-b', 'a/.b'])('the invalid name %s: 400 NAME_INVALID', async (name) => {
      await expectError(await fetch(`${r.url}/v2/${name}/manifests/latest`), 400, 'NAME_INVALID');
      await expectError(await fetch(`${r.url}/v2/${name}/blobs/${blob.digest}`), 400, 'NAME_INVALID');
    });

    it.each(['_underscore', 'A.b-C_9', 'x'.repeat(128)])('the valid tag %s ("[a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}") is pushed and pulled', async (tag) => {
      await expectStatus(await pushManifest(r.url, repo, tag, image.manifest), 201);
      const response = await fetch(`${r.url}/v2/${repo}/manifests/${tag}`, { headers: { accept: OCI_MANIFEST } });
      await expectStatus(response, 200);
      expect(response.headers.get('docker-content-digest')).toBe(image.manifest.digest);
    });

    it.each(['x'.repeat(129), '.dot', '-dash'])('a tag "MUST be at most 128 characters" and match the grammar: pushing to %s is refused with 400', async (tag) => {
      await expectError(await pushManifest(r.url, repo, tag, image.manifest), 400, ['TAG_INVALID', 'MANIFEST_INVALID']);
    });

    it.each([
      ['a non-hex encoding', 'sha256:xyz'],
      ['a short encoding', `sha256:${'a'.repeat(63)}`],
      ['an upper-case encoding', `sha256:${'A'.repeat(64)}`],
      ['a sha512 of sha256 length', `sha512:${'a'.repeat(64)}`],
      ['an empty encoding', 'sha256:'],
    ])('a malformed digest reference (%s) is "in any other format": 400 DIGEST_INVALID, never a 5xx', async (_what, reference) => {
      await expectError(await fetch(`${r.url}/v2/${repo}/manifests/${reference}`), 400, 'DIGEST_INVALID');
      await expectError(await fetch(`${r.url}/v2/${repo}/blobs/${reference}`), 400, 'DIGEST_INVALID');
    });
  });

  describe('Content negotiation (content-negotiation.md, read without schema1: the registry never converts to schema1)', () => {
    // A single-manifest tag holds a Docker schema2 manifest; a multi-arch tag holds a manifest list of linux/amd64
    // and linux/arm64 schema2 manifests.
    const amd = makeImage({ architecture: 'amd64', layers: 1, layerSize: 128 });
    const arm = makeImage({ architecture: 'arm64', layers: 1, layerSize: 128 });
    const amdManifest = makeDockerManifest(amd);
    const armManifest = makeDockerManifest(arm);
    const list = makeDockerList([
      { manifest: armManifest, platform: arm.platform },
      { manifest: amdManifest, platform: amd.platform },
    ]);
    const negRepo = 'conformance/negotiation';
    const V1 = 'application/vnd.docker.distribution.manifest.v1+json';
    const stored = { single: { bytes: amdManifest.bytes, digest: amdManifest.digest, type: DOCKER_MANIFEST }, list: { bytes: list.bytes, digest: list.digest, type: DOCKER_LIST } };

    beforeAll(async () => {
      for (const img of [amd, arm]) for (const part of [img.config, ...img.layers]) expect((await pushBlob(r.url, negRepo, part)).status).toBe(201);
      expect((await pushManifest(r.url, negRepo, 'single', amdManifest, DOCKER_MANIFEST)).status).toBe(201);
      expect((await pushManifest(r.url, negRepo, 'arm', armManifest, DOCKER_MANIFEST)).status).toBe(201);
      expect((await pushManifest(r.url, negRepo, 'multi', list, DOCKER_LIST)).status).toBe(201);
    });

    const get = (tag: string, accept: string | undefined, method = 'GET') =>
      fetch(`${r.url}/v2/${negRepo}/manifests/${tag}`, { method, headers: accept === undefined ? {} : { accept } });

    /** Asserts the answer is one of the expected manifests, self-consistent (type, digest, length, bytes). */
    async function expectOneOf(response: Response, ...candidates: Array<{ bytes: Buffer; digest: string; type: string }>): Promise<void> {
      await expectStatus(response, 200);
      const body = await bytesOf(response);
      const served = { type: response.headers.get('content-type'), digest: response.headers.get('docker-content-digest'), length: response.headers.get('content-length'), bodyDigest: sha256(body) };
      expect(candidates.map((c) => ({ type: c.type, digest: c.digest, length: String(c.bytes.length), bodyDigest: c.digest }))).toContainEqual(served);
    }

    describe('single-manifest tag (rows without "Multi")', () => {
      it.each([
        ['<not present> (v1 in the table: the stored v2 manifest, as no schema1 exists)', undefined],
        ['*/* (same)', '*/*'],
        ['manifest.v2+json', DOCKER_MANIFEST],
        ['manifest.list.v2+json (the table: manifest.v2+json)', DOCKER_LIST],
        ['manifest.list.v2+json, manifest.v2+json, manifest.v1+json', `${DOCKER_LIST}, ${DOCKER_MANIFEST}, ${V1}`],
        ['manifest.v2+json, manifest.list.v2+json, manifest.v1+json', `${DOCKER_MANIFEST}, ${DOCKER_LIST}, ${V1}`],
      ])('Accept %s: the stored manifest.v2+json', async (_row, accept) => {
        await expectOneOf(await get('single', accept), stored.single);
      });

      // These rows' result is schema1 and nothing else: with no schema1 to give, the stored manifest or a refusal.
      it.each([
        ['manifest.v1+json alone', V1],
        ['application/json', 'application/json'],
      ])('Accept %s (the table: schema1, which the registry cannot produce): the stored manifest or 404 MANIFEST_UNKNOWN', async (_row, accept) => {
        const response = await get('single', accept);
        if (response.status === 200) await expectOneOf(response, stored.single);
        else await expectError(response, [404, 406], 'MANIFEST_UNKNOWN');
      });
    });

    describe('multi-arch tag (rows with "Multi")', () => {
      it.each([
        ['manifest.list.v2+json', DOCKER_LIST],
        ['manifest.list.v2+json, manifest.v2+json, manifest.v1+json ("matching first Accept header")', `${DOCKER_LIST}, ${DOCKER_MANIFEST}, ${V1}`],
      ])('Accept %s: the stored manifest list', async (_row, accept) => {
        await expectOneOf(await get('multi', accept), stored.list);
      });

      it('Accept manifest.v2+json: "v2, matching Accept header (linux/amd64 for backward compatibility)": the linux/amd64 manifest, by GET and HEAD', async () => {
        await expectOneOf(await get('multi', DOCKER_MANIFEST), stored.single);
        const head = await get('multi', DOCKER_MANIFEST, 'HEAD');
        await expectStatus(head, 200);
        expect(head.headers.get('docker-content-digest')).toBe(amdManifest.digest);
        expect(head.headers.get('content-type')).toBe(DOCKER_MANIFEST);
      });

      // The table's result (manifest.v2+json) and its note ("prefers manifest list over manifest (ignoring order?)")
      // disagree, and RFC 9110 gives equal-weight media ranges no order: either answer is accepted, but it must be
      // one of the two, self-consistent.
      it('Accept manifest.v2+json, manifest.list.v2+json, manifest.v1+json: the list or the linux/amd64 manifest', async () => {
        await expectOneOf(await get('multi', `${DOCKER_MANIFEST}, ${DOCKER_LIST}, ${V1}`), stored.list, stored.single);
      });

      // The table answers v1 linux/amd64 for "old, non-v2 clients"; with no schema1 the registry answers either
      // the stored list (RFC 9110: no Accept, or */*, accepts anything) or the linux/amd64 v2 manifest.
      it.each([
        ['<not present>', undefined],
        ['*/*', '*/*'],
      ])('Accept %s: the stored list or the linux/amd64 manifest', async (_row, accept) => {
        await expectOneOf(await get('multi', accept), stored.list, stored.single);
      });

      it('Accept application/json (the table: schema1 only): the list, the linux/amd64 manifest, or 404 MANIFEST_UNKNOWN', async () => {
        const response = await get('multi', 'application/json');
        if (response.status === 200) await expectOneOf(response, stored.list, stored.single);
        else await expectError(response, [404, 406], 'MANIFEST_UNKNOWN');
      });

      it('by digest the stored list is served whenever its type is accepted ("clients SHOULD verify the returned manifest matches this digest")', async () => {
        const response = await fetch(`${r.url}/v2/${negRepo}/manifests/${list.digest}`, { headers: { accept: `${DOCKER_MANIFEST}, ${DOCKER_LIST}` } });
        await expectOneOf(response, stored.list);
      });
    });

    it('OCI index and manifest: Accept listing both OCI types gets each stored manifest as pushed', async () => {
      const index = makeIndex([image]);
      expect((await pushManifest(r.url, repo, 'neg-oci-index', index, OCI_INDEX)).status).toBe(201);
      const accept = `${OCI_MANIFEST}, ${OCI_INDEX}`;
      const response = await fetch(`${r.url}/v2/${repo}/manifests/neg-oci-index`, { headers: { accept } });
      await expectOneOf(response, { bytes: index.bytes, digest: index.digest, type: OCI_INDEX });
      const single = await fetch(`${r.url}/v2/${repo}/manifests/tagged`, { headers: { accept } });
      await expectOneOf(single, { bytes: image.manifest.bytes, digest: image.manifest.digest, type: OCI_MANIFEST });
    });
  });
});
