import { makeImage, pushImage, randomBlob, removeDir, sha256, startEmbedded, tempDir } from '@ocireg/testing';

describe('the embedded registry across a restart', () => {
  const dataDir = tempDir('restart');
  afterAll(() => removeDir(dataDir));

  it('keeps images, and continues an upload that was started before the restart', async () => {
    const image = makeImage();
    const blob = randomBlob(3 * 1024 * 1024);
    const half = blob.size / 2;

    const before = await startEmbedded({ dataDir });
    let location: string;
    try {
      await pushImage(before.url, 'restart/app', image, 'v1');
      const start = await fetch(`${before.url}/v2/restart/blob/blobs/uploads/`, { method: 'POST' });
      const first = await fetch(`${before.url}${start.headers.get('location')}`, {
        method: 'PATCH',
        headers: { 'content-range': `0-${half - 1}` },
        body: blob.bytes.subarray(0, half),
      });
      expect(first.status).toBe(202);
      location = first.headers.get('location') ?? '';
    } finally {
      await before.stop();
    }

    const after = await startEmbedded({ dataDir });
    try {
      const manifest = await fetch(`${after.url}/v2/restart/app/manifests/v1`);
      expect(manifest.status).toBe(200);
      expect(sha256(Buffer.from(await manifest.arrayBuffer()))).toBe(image.manifest.digest);

      const status = await fetch(`${after.url}${location}`);
      expect(status.status).toBe(204);
      expect(status.headers.get('range')).toBe(`0-${half - 1}`);
      const done = await fetch(`${after.url}${location}?digest=${blob.digest}`, {
        method: 'PUT',
        headers: { 'content-range': `${half}-${blob.size - 1}` },
        body: blob.bytes.subarray(half),
      });
      expect(done.status).toBe(201);
      const get = await fetch(`${after.url}/v2/restart/blob/blobs/${blob.digest}`);
      expect(sha256(Buffer.from(await get.arrayBuffer()))).toBe(blob.digest);
    } finally {
      await after.stop();
    }
  }, 120_000);
});
