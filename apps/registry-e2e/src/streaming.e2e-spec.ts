import { createHash, randomBytes } from 'node:crypto';
import { request } from 'node:http';
import { Readable } from 'node:stream';
import { RunMode, TestRegistry, rssOf, startRegistry } from '@ocireg/testing';

const GiB = 1024 * 1024 * 1024;
const CHUNK = randomBytes(1024 * 1024);
/**
 * Growth allowed over the idle resident size of any registry process while 1 GiB goes through it: "a few
 * tens of MiB". Measured on a freshly started process: the embedded registry (journal metadata) 34-42 MiB
 * and the distributed gateway on S3 about 40 MiB on the push, 1-10 MiB on the pull. Most of the push's share is
 * released socket buffers waiting for V8's next young-generation collection (about 32 MiB of them); the
 * memory is then kept for reuse, so a second 1 GiB push does not grow the process (the bench's memory
 * scenarios, run after others, measure +0.1 to +0.5 MiB).
 */
const MAX_GROWTH = 64 * 1024 * 1024;

/** 1 GiB of bytes generated on the fly (never held in memory), each MiB made distinct by its index. */
function gibibyte(): { stream: () => Readable; digest: string } {
  const block = (i: number) => {
    const copy = Buffer.from(CHUNK);
    copy.writeUInt32BE(i, 0);
    return copy;
  };
  const hash = createHash('sha256');
  for (let i = 0; i < GiB / CHUNK.length; i++) hash.update(block(i));
  return {
    digest: `sha256:${hash.digest('hex')}`,
    stream: () =>
      Readable.from(
        (function* () {
          for (let i = 0; i < GiB / CHUNK.length; i++) yield block(i);
        })(),
      ),
  };
}

function send(url: string, method: string, body?: Readable): Promise<{ status: number; headers: Record<string, unknown>; digest: string; bytes: number }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method, headers: body ? { 'content-type': 'application/octet-stream', 'content-length': GiB } : {} }, (res) => {
      const hash = createHash('sha256');
      let bytes = 0;
      res.on('data', (chunk: Buffer) => {
        bytes += chunk.length;
        hash.update(chunk);
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, digest: `sha256:${hash.digest('hex')}`, bytes }));
      res.on('error', reject);
    });
    req.on('error', reject);
    if (body) body.pipe(req);
    else req.end();
  });
}

/** Samples the resident size of every registry process while `work` runs; returns each one's peak growth. */
async function peakGrowth(pids: number[], work: () => Promise<void>): Promise<number[]> {
  const idle = await Promise.all(pids.map(async (pid) => (await rssOf(pid)) ?? 0));
  const peak = [...idle];
  const timer = setInterval(() => {
    pids.forEach(async (pid, i) => {
      const rss = (await rssOf(pid)) ?? 0;
      if (rss > (peak[i] ?? 0)) peak[i] = rss;
    });
  }, 50);
  try {
    await work();
  } finally {
    clearInterval(timer);
  }
  return peak.map((p, i) => p - (idle[i] ?? 0));
}

describe.each<RunMode>(['embedded', 'distributed'])('streaming in constant memory (%s)', (mode) => {
  let registry: TestRegistry;
  const content = gibibyte();

  beforeAll(async () => {
    registry = await startRegistry(mode);
  }, 120_000);
  afterAll(async () => registry?.stop());

  it('pushes and pulls 1 GiB without any process growing by more than a few tens of MiB', async () => {
    const pids = registry.processes.map((p) => p.child.pid ?? 0);
    const pushGrowth = await peakGrowth(pids, async () => {
      const pushed = await send(`${registry.url}/v2/big/blob/blobs/uploads/?digest=${content.digest}`, 'POST', content.stream());
      expect(pushed.status).toBe(201);
    });
    const pullGrowth = await peakGrowth(pids, async () => {
      const pulled = await send(`${registry.url}/v2/big/blob/blobs/${content.digest}`, 'GET');
      expect(pulled.status).toBe(200);
      expect(pulled.bytes).toBe(GiB);
      expect(pulled.digest).toBe(content.digest);
    });
    const mib = (bytes: number) => `${(bytes / 2 ** 20).toFixed(1)} MiB`;
    const report = registry.processes.map((p, i) => `${p.name} +${mib(pushGrowth[i] ?? 0)} / +${mib(pullGrowth[i] ?? 0)}`);
    process.stdout.write(`[${mode}] RSS growth during a 1 GiB push / pull: ${report.join(', ')}\n`);
    expect(Math.max(...pushGrowth)).toBeLessThan(MAX_GROWTH);
    expect(Math.max(...pullGrowth)).toBeLessThan(MAX_GROWTH);
  }, 300_000);
});
