import { OCI_CONFIG, OCI_LAYER, OCI_MANIFEST, TestRegistry, descriptorOf, jsonBlob, randomBlob, sha256, startDistributed } from '@ocireg/testing';

describe('stateless gateways (distributed)', () => {
  let registry: TestRegistry;

  beforeAll(async () => {
    registry = await startDistributed({ gateways: 2, env: { REGISTRY_STORAGE_DELETE_ENABLED: 'true' } });
  }, 120_000);
  afterAll(async () => registry?.stop());

  it('completes a chunked upload whose PATCHes alternate between two gateway processes', async () => {
    const [a, b] = registry.urls;
    const gateways = [a ?? '', b ?? ''];
    const blob = randomBlob(6 * 1024 * 1024 + 123);
    const chunk = 1024 * 1024;
    const start = await fetch(`${gateways[0]}/v2/replicas/repo/blobs/uploads/`, { method: 'POST' });
    expect(start.status).toBe(202);
    let location = start.headers.get('location') ?? '';
    let turn = 1;
    for (let offset = 0; offset < blob.size; offset += chunk) {
      const end = Math.min(offset + chunk, blob.size) - 1;
      const response = await fetch(`${gateways[turn % 2]}${location}`, {
        method: 'PATCH',
        headers: { 'content-type': 'application/octet-stream', 'content-range': `${offset}-${end}` },
        body: blob.bytes.subarray(offset, end + 1),
      });
      expect(response.status).toBe(202);
      expect(response.headers.get('range')).toBe(`0-${end}`);
      location = response.headers.get('location') ?? '';
      turn++;
    }
    const done = await fetch(`${gateways[turn % 2]}${location}?digest=${blob.digest}`, { method: 'PUT' });
    expect(done.status).toBe(201);
    for (const gateway of gateways) {
      const get = await fetch(`${gateway}/v2/replicas/repo/blobs/${blob.digest}`);
      expect(sha256(Buffer.from(await get.arrayBuffer()))).toBe(blob.digest);
    }
  }, 60_000);

  /** Calls gateway `index` made to the upload service, by subject, from its metrics. */
  async function uploadCalls(index: number): Promise<Record<string, number>> {
    const metrics = await (await fetch(`${registry.debugUrls[`gateway-${index}`]}/metrics`)).text();
    const calls: Record<string, number> = {};
    for (const match of metrics.matchAll(/^ocireg_rpc_requests_total\{[^}]*subject="(upload\.[a-z]+)"[^}]*\} (\d+)/gm)) {
      calls[match[1] ?? ''] = (calls[match[1] ?? ''] ?? 0) + Number(match[2]);
    }
    return calls;
  }

  function callsSince(before: Record<string, number>, after: Record<string, number>): Record<string, number> {
    return Object.fromEntries(Object.entries(after).map(([subject, n]) => [subject, n - (before[subject] ?? 0)]).filter(([, n]) => n !== 0));
  }

  it('a POST then a monolithic PUT (the whole blob as its body) take one call to the upload service: upload.complete', async () => {
    const [a] = registry.urls as [string, string];
    const blob = randomBlob(3 * 1024 * 1024 + 7);
    const before = await uploadCalls(0);
    const start = await fetch(`${a}/v2/replicas/mono/blobs/uploads/`, { method: 'POST' });
    expect(start.status).toBe(202);
    // The gateway signed the upload's id itself.
    expect(callsSince(before, await uploadCalls(0))).toEqual({});
    const done = await fetch(`${a}${start.headers.get('location')}?digest=${blob.digest}`, {
      method: 'PUT',
      headers: { 'content-type': 'application/octet-stream' },
      body: blob.bytes,
    });
    expect(done.status).toBe(201);
    expect(callsSince(before, await uploadCalls(0))).toEqual({ 'upload.complete': 1 });
    const get = await fetch(`${a}/v2/replicas/mono/blobs/${blob.digest}`);
    expect(sha256(Buffer.from(await get.arrayBuffer()))).toBe(blob.digest);
  }, 60_000);

  it('an empty closing PUT on the gateway that received every chunk takes one call too; on another gateway it goes the long way', async () => {
    const [a, b] = registry.urls as [string, string];
    for (const [closer, index, expected] of [
      [a, 0, { 'upload.complete': 1 }],
      [b, 1, { 'upload.claim': 1, 'upload.commit': 1 }],
    ] as const) {
      const blob = randomBlob(2 * 1024 * 1024 + 1);
      const start = await fetch(`${a}/v2/replicas/closing/blobs/uploads/`, { method: 'POST' });
      const patched = await fetch(`${a}${start.headers.get('location')}`, {
        method: 'PATCH',
        headers: { 'content-range': `0-${blob.size - 1}` },
        body: blob.bytes,
      });
      expect(patched.status).toBe(202);
      const before = await uploadCalls(index);
      const done = await fetch(`${closer}${patched.headers.get('location')}?digest=${blob.digest}`, { method: 'PUT' });
      expect(done.status).toBe(201);
      expect(callsSince(before, await uploadCalls(index))).toEqual(expected);
      const get = await fetch(`${b}/v2/replicas/closing/blobs/${blob.digest}`);
      expect(sha256(Buffer.from(await get.arrayBuffer()))).toBe(blob.digest);
    }
  }, 60_000);

  it('a first PATCH takes one call to the upload service (upload.adopt); a later one the lease and an advance', async () => {
    const [a] = registry.urls as [string, string];
    const blob = randomBlob(2 * 1024 * 1024 + 9);
    const half = 1024 * 1024;
    const start = await fetch(`${a}/v2/replicas/first/blobs/uploads/`, { method: 'POST' });
    let before = await uploadCalls(0);
    const first = await fetch(`${a}${start.headers.get('location')}`, {
      method: 'PATCH',
      headers: { 'content-range': `0-${half - 1}` },
      body: blob.bytes.subarray(0, half),
    });
    expect(first.status).toBe(202);
    expect(first.headers.get('range')).toBe(`0-${half - 1}`);
    expect(callsSince(before, await uploadCalls(0))).toEqual({ 'upload.adopt': 1 });
    before = await uploadCalls(0);
    const second = await fetch(`${a}${first.headers.get('location')}`, { method: 'PATCH', body: blob.bytes.subarray(half) });
    expect(second.status).toBe(202);
    expect(second.headers.get('range')).toBe(`0-${blob.size - 1}`);
    expect(callsSince(before, await uploadCalls(0))).toEqual({ 'upload.claim': 1, 'upload.advance': 1 });
    const done = await fetch(`${a}${second.headers.get('location')}?digest=${blob.digest}`, { method: 'PUT' });
    expect(done.status).toBe(201);
    const get = await fetch(`${a}/v2/replicas/first/blobs/${blob.digest}`);
    expect(sha256(Buffer.from(await get.arrayBuffer()))).toBe(blob.digest);
  }, 60_000);

  it('a PATCH that looks first on a gateway that saw no chunk: appended after the bytes another gateway wrote, or 416 if it says it starts at 0', async () => {
    const [a, b] = registry.urls as [string, string];
    const blob = randomBlob(2 * 1024 * 1024 + 11);
    const half = 1024 * 1024 + 1;
    const start = await fetch(`${a}/v2/replicas/second/blobs/uploads/`, { method: 'POST' });
    const first = await fetch(`${a}${start.headers.get('location')}`, { method: 'PATCH', body: blob.bytes.subarray(0, half) });
    expect(first.status).toBe(202);
    const location = first.headers.get('location') ?? '';
    // From 0 again, on B: out of order, the upload unchanged.
    const again = await fetch(`${b}${location}`, { method: 'PATCH', headers: { 'content-range': `0-${half - 1}` }, body: blob.bytes.subarray(0, half) });
    expect(again.status).toBe(416);
    expect(((await again.json()) as { errors: Array<{ code: string }> }).errors[0]?.code).toBe('RANGE_INVALID');
    expect((await fetch(`${a}${location}`)).headers.get('range')).toBe(`0-${half - 1}`);
    // No Content-Range, on B: appended where the upload stands.
    const before = await uploadCalls(1);
    const second = await fetch(`${b}${location}`, { method: 'PATCH', body: blob.bytes.subarray(half) });
    expect(second.status).toBe(202);
    expect(second.headers.get('range')).toBe(`0-${blob.size - 1}`);
    expect(callsSince(before, await uploadCalls(1))).toEqual({ 'upload.adopt': 1, 'upload.claim': 1, 'upload.advance': 1 });
    const done = await fetch(`${a}${second.headers.get('location')}?digest=${blob.digest}`, { method: 'PUT' });
    expect(done.status).toBe(201);
    const get = await fetch(`${b}/v2/replicas/second/blobs/${blob.digest}`);
    expect(sha256(Buffer.from(await get.arrayBuffer()))).toBe(blob.digest);
  }, 60_000);

  it('a PUT whose body (no Content-Range) is the last chunk of an upload begun through another gateway: appended to it, the right blob', async () => {
    const [a, b] = registry.urls as [string, string];
    const blob = randomBlob(3 * 1024 * 1024 + 5);
    const half = 1024 * 1024 + 3;
    const start = await fetch(`${a}/v2/replicas/tail/blobs/uploads/`, { method: 'POST' });
    const first = await fetch(`${a}${start.headers.get('location')}`, {
      method: 'PATCH',
      headers: { 'content-range': `0-${half - 1}` },
      body: blob.bytes.subarray(0, half),
    });
    expect(first.status).toBe(202);
    const before = await uploadCalls(1);
    const done = await fetch(`${b}${first.headers.get('location')}?digest=${blob.digest}`, {
      method: 'PUT',
      headers: { 'content-type': 'application/octet-stream' },
      body: blob.bytes.subarray(half),
    });
    expect(done.status).toBe(201);
    // Gateway B tried the one call, learnt the upload held bytes, then appended the body to them.
    expect(callsSince(before, await uploadCalls(1))).toEqual({ 'upload.complete': 1, 'upload.claim': 1, 'upload.commit': 1 });
    for (const gateway of [a, b]) {
      const get = await fetch(`${gateway}/v2/replicas/tail/blobs/${blob.digest}`);
      expect(sha256(Buffer.from(await get.arrayBuffer()))).toBe(blob.digest);
    }
    // Nothing of the upload is left: its id is unknown now.
    expect((await fetch(`${a}${first.headers.get('location')}`)).status).toBe(404);
  }, 60_000);

  it('a monolithic PUT with a wrong digest: 400 DIGEST_INVALID, nothing stored, the upload gone', async () => {
    const [a] = registry.urls as [string, string];
    const blob = randomBlob(1024 * 1024);
    const start = await fetch(`${a}/v2/replicas/wrong-mono/blobs/uploads/`, { method: 'POST' });
    const location = start.headers.get('location') ?? '';
    const wrong = sha256('something else');
    const done = await fetch(`${a}${location}?digest=${wrong}`, { method: 'PUT', headers: { 'content-type': 'application/octet-stream' }, body: blob.bytes });
    expect(done.status).toBe(400);
    expect(((await done.json()) as { errors: Array<{ code: string }> }).errors[0]?.code).toBe('DIGEST_INVALID');
    for (const digest of [wrong, blob.digest]) {
      expect((await fetch(`${a}/v2/replicas/wrong-mono/blobs/${digest}`, { method: 'HEAD' })).status).toBe(404);
    }
    expect((await fetch(`${a}${location}`)).status).toBe(404);
  }, 60_000);

  it('refuses a wrong digest even when no gateway saw the whole upload', async () => {
    const [a, b] = registry.urls;
    const blob = randomBlob(2 * 1024 * 1024);
    const start = await fetch(`${a}/v2/replicas/wrong/blobs/uploads/`, { method: 'POST' });
    const first = await fetch(`${b}${start.headers.get('location')}`, {
      method: 'PATCH',
      headers: { 'content-range': `0-${blob.size / 2 - 1}` },
      body: blob.bytes.subarray(0, blob.size / 2),
    });
    const second = await fetch(`${a}${first.headers.get('location')}`, {
      method: 'PATCH',
      headers: { 'content-range': `${blob.size / 2}-${blob.size - 1}` },
      body: blob.bytes.subarray(blob.size / 2),
    });
    expect(second.status).toBe(202);
    const wrong = sha256('not the content');
    const done = await fetch(`${b}${second.headers.get('location')}?digest=${wrong}`, { method: 'PUT' });
    expect(done.status).toBe(400);
    expect(((await done.json()) as { errors: Array<{ code: string }> }).errors[0]?.code).toBe('DIGEST_INVALID');
    expect((await fetch(`${a}/v2/replicas/wrong/blobs/${blob.digest}`, { method: 'HEAD' })).status).toBe(404);
  }, 60_000);

  it("has every gateway forget a cached answer as soon as another gateway changes it (not after the cache's TTL)", async () => {
    const [a, b] = registry.urls as [string, string];
    const name = 'replicas/cached';
    const layer = randomBlob(1024);
    const config = jsonBlob({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [] } });
    for (const blob of [layer, config]) {
      const pushed = await fetch(`${a}/v2/${name}/blobs/uploads/?digest=${blob.digest}`, { method: 'POST', headers: { 'content-type': 'application/octet-stream' }, body: blob.bytes });
      expect(pushed.status).toBe(201);
    }
    const manifest = (note: string) =>
      jsonBlob({ schemaVersion: 2, mediaType: OCI_MANIFEST, config: descriptorOf(config, OCI_CONFIG), layers: [descriptorOf(layer, OCI_LAYER)], annotations: { note } });
    const put = async (m: ReturnType<typeof manifest>) =>
      expect((await fetch(`${a}/v2/${name}/manifests/v1`, { method: 'PUT', headers: { 'content-type': OCI_MANIFEST }, body: m.bytes })).status).toBe(201);
    const tagOnB = async () => (await fetch(`${b}/v2/${name}/manifests/v1`, { method: 'HEAD', headers: { accept: OCI_MANIFEST } })).headers.get('docker-content-digest');
    const statusOnB = async (path: string) => (await fetch(`${b}/v2/${name}/${path}`, { method: 'HEAD', headers: { accept: OCI_MANIFEST } })).status;
    /** The answer gateway B gives within 2 s (the cache's TTL is 30 s: only the broadcast can explain a change). */
    const soon = async <T>(ask: () => Promise<T>, expected: T): Promise<T> => {
      const deadline = Date.now() + 2000;
      let answer = await ask();
      while (answer !== expected && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 20));
        answer = await ask();
      }
      return answer;
    };

    const first = manifest('first');
    await put(first);
    // B asks twice: the second answer comes from its cache.
    expect(await tagOnB()).toBe(first.digest);
    expect(await tagOnB()).toBe(first.digest);
    expect(await statusOnB(`blobs/${layer.digest}`)).toBe(200);
    expect(await statusOnB(`manifests/${first.digest}`)).toBe(200);

    // The tag moves on A: B follows.
    const second = manifest('second');
    await put(second);
    expect(await soon(tagOnB, second.digest)).toBe(second.digest);
    // The blob is deleted on A: B stops serving it.
    expect((await fetch(`${a}/v2/${name}/blobs/${layer.digest}`, { method: 'DELETE' })).status).toBe(202);
    expect(await soon(() => statusOnB(`blobs/${layer.digest}`), 404)).toBe(404);
    // The first manifest is deleted on A: B answers 404 for it.
    expect((await fetch(`${a}/v2/${name}/manifests/${first.digest}`, { method: 'DELETE' })).status).toBe(202);
    expect(await soon(() => statusOnB(`manifests/${first.digest}`), 404)).toBe(404);
  }, 60_000);

  it('without a shared secret, the POST stores the upload session (upload.start), and the push works the same', async () => {
    const eager = await startDistributed({ env: { REGISTRY_HTTP_SECRET: '' } });
    try {
      const metrics = async () => (await fetch(`${eager.debugUrls['gateway-0']}/metrics`)).text();
      const blob = randomBlob(1024 * 1024 + 3);
      const start = await fetch(`${eager.url}/v2/replicas/eager/blobs/uploads/`, { method: 'POST' });
      expect(start.status).toBe(202);
      expect(await metrics()).toMatch(/^ocireg_rpc_requests_total\{[^}]*subject="upload\.start"[^}]*\} 1$/m);
      const done = await fetch(`${eager.url}${start.headers.get('location')}?digest=${blob.digest}`, { method: 'PUT', body: blob.bytes });
      expect(done.status).toBe(201);
      const again = await fetch(`${eager.url}${start.headers.get('location')}?digest=${blob.digest}`, { method: 'PUT', body: blob.bytes });
      expect(again.status).toBe(404);
      const get = await fetch(`${eager.url}/v2/replicas/eager/blobs/${blob.digest}`);
      expect(sha256(Buffer.from(await get.arrayBuffer()))).toBe(blob.digest);
    } finally {
      await eager.stop();
    }
  }, 120_000);
});
