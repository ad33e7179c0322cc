import { TestRegistry, randomBlob, sha256, startDistributed } from '@ocireg/testing';

describe('stateless gateways (distributed)', () => {
  let registry: TestRegistry;

  beforeAll(async () => {
    registry = await startDistributed({ gateways: 2 });
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
});
