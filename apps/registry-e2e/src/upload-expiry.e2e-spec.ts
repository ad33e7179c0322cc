import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { randomBlob, removeDir, startEmbedded, tempDir } from '@ocireg/testing';

describe('an upload that is never finished expires (embedded)', () => {
  const dataDir = tempDir('expiry');
  afterAll(() => removeDir(dataDir));

  it('forgets the session and removes the bytes it left in the content store', async () => {
    const registry = await startEmbedded({
      dataDir,
      env: {
        REGISTRY_STORAGE_MAINTENANCE_UPLOADPURGING_AGE: '2s',
        REGISTRY_STORAGE_MAINTENANCE_UPLOADPURGING_INTERVAL: '1s',
      },
    });
    try {
      const blob = randomBlob(256 * 1024);
      const start = await fetch(`${registry.url}/v2/expiry/repo/blobs/uploads/`, { method: 'POST' });
      const location = start.headers.get('location') ?? '';
      const patch = await fetch(`${registry.url}${location}`, { method: 'PATCH', body: blob.bytes });
      expect(patch.status).toBe(202);
      const leftovers = () => readdirSync(join(dataDir, 'content', '!appending'));
      expect(leftovers()).toHaveLength(1);

      const deadline = Date.now() + 15_000;
      while (leftovers().length > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 250));
      expect(leftovers()).toHaveLength(0);
      const status = await fetch(`${registry.url}${location}`);
      expect(status.status).toBe(404);
      expect(((await status.json()) as { errors: Array<{ code: string }> }).errors[0]?.code).toBe('BLOB_UPLOAD_UNKNOWN');
    } finally {
      await registry.stop();
    }
  }, 60_000);
});
