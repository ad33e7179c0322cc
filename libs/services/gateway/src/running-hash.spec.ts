import { createHash, randomBytes } from 'node:crypto';
import { BATCH_BYTES, HashWorkers, InlineHash, type RunningHash, copyIntoShared } from './running-hash';

const sha = (data: Buffer): string => createHash('sha256').update(data).digest('hex');

/** Feeds `data` in chunks of varying sizes, waiting whenever the hash asks to. */
async function feed(hash: RunningHash, data: Buffer): Promise<void> {
  const sizes = [1, 7, 65536, 300000, BATCH_BYTES, 3];
  for (let offset = 0, i = 0; offset < data.length; i++) {
    const end = Math.min(data.length, offset + (sizes[i % sizes.length] as number));
    await hash.update(data.subarray(offset, end));
    offset = end;
  }
}

describe('RunningHash', () => {
  let workers: HashWorkers;
  beforeEach(() => (workers = new HashWorkers(2)));
  afterEach(() => workers.close());

  it.each([0, 1, BATCH_BYTES - 1, BATCH_BYTES, BATCH_BYTES + 1, 5 * 1024 * 1024 + 17])(
    'on a worker thread, gives the SHA-256 of %i bytes, as on the event loop',
    async (size) => {
      const data = randomBytes(size);
      const off = workers.create();
      const inline = new InlineHash();
      await feed(off, data);
      await feed(inline, data);
      expect(await off.digest()).toBe(sha(data));
      expect(await inline.digest()).toBe(sha(data));
      expect(workers.open).toBe(0);
    },
  );

  it('hashes several uploads at once, each its own bytes', async () => {
    const blobs = Array.from({ length: 5 }, (_, i) => randomBytes(BATCH_BYTES * 2 + i * 1000));
    const hashes = blobs.map(() => workers.create());
    await Promise.all(blobs.map((blob, i) => feed(hashes[i] as RunningHash, blob)));
    expect(await Promise.all(hashes.map((hash) => hash.digest()))).toEqual(blobs.map(sha));
  });

  it('shares its slots among more uploads than it has room for, each waiting its turn for a free one', async () => {
    const blobs = Array.from({ length: 12 }, (_, i) => randomBytes(BATCH_BYTES * 6 + i));
    const one = new HashWorkers(1);
    try {
      const hashes = blobs.map(() => one.create());
      await Promise.all(blobs.map((blob, i) => feed(hashes[i] as RunningHash, blob)));
      expect(await Promise.all(hashes.map((hash) => hash.digest()))).toEqual(blobs.map(sha));
      expect(one.open).toBe(0);
    } finally {
      await one.close();
    }
  });

  it('gives the digest so far and goes on (a PUT without a body after PATCHes)', async () => {
    const first = randomBytes(BATCH_BYTES + 5);
    const second = randomBytes(1000);
    for (const hash of [workers.create(), new InlineHash()]) {
      await feed(hash, first);
      expect(await hash.digestSoFar()).toBe(sha(first));
      await feed(hash, second);
      expect(await hash.digest()).toBe(sha(Buffer.concat([first, second])));
    }
  });

  it('asks its caller to wait once the worker has batches enough to hash, and lets it go on when they are done', async () => {
    const hash = workers.create();
    const batch = randomBytes(BATCH_BYTES);
    const waits: Array<Promise<void> | undefined> = [];
    for (let i = 0; i < 5; i++) waits.push(hash.update(batch));
    expect(waits.slice(0, 3)).toEqual([undefined, undefined, undefined]);
    expect(waits[3]).toBeInstanceOf(Promise);
    await Promise.all(waits);
    expect(await hash.digest()).toBe(sha(Buffer.concat(Array.from({ length: 5 }, () => batch))));
  });

  it('frees a hash disposed of, and the ones left idle by requests that failed', async () => {
    const disposed = workers.create();
    disposed.update(randomBytes(BATCH_BYTES + 1));
    disposed.dispose();
    expect(workers.open).toBe(0);
    await expect(disposed.digest()).rejects.toThrow(/ended/);

    const idle = new HashWorkers(1, 1000);
    try {
      const forgotten = idle.create();
      forgotten.update(randomBytes(10));
      idle.sweep(Date.now() + 500);
      expect(idle.open).toBe(1);
      idle.sweep(Date.now() + 2000);
      expect(idle.open).toBe(0);
    } finally {
      await idle.close();
    }
  });

  it('fails the digests of a thread that stopped, and starts another for the next hash', async () => {
    const data = randomBytes(BATCH_BYTES * 2);
    const hash = workers.create();
    await feed(hash, data);
    await workers.close(); // the threads stop, as a crashed one would
    await expect(hash.digest()).rejects.toThrow(/exited/);
    const next = workers.create();
    await feed(next, data);
    expect(await next.digest()).toBe(sha(data));
  });
});

describe('copyIntoShared', () => {
  it.each([
    [0, 0, 65536],
    [3, 8, 65536],
    [8, 5, 1000],
    [1, 0, 1],
    [5, 7, 0],
  ])('copies a slice at offset %i into shared memory at %i, %i bytes, and nothing else', (from, at, length) => {
    const source = randomBytes(from + length + 9);
    const target = Buffer.from(new SharedArrayBuffer(at + length + 16)).fill(0xaa);
    copyIntoShared(source.subarray(from, from + length), target, at);
    expect(target.subarray(at, at + length).equals(source.subarray(from, from + length))).toBe(true);
    expect([...target.subarray(0, at), ...target.subarray(at + length)].every((byte) => byte === 0xaa)).toBe(true);
  });
});
