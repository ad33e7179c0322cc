import { createHash, randomBytes } from 'node:crypto';
import fs, { constants } from 'node:fs';
import { mkdtemp, open, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { AlignedSlots, DIRECT_ALIGN, DIRECT_CALLS, DIRECT_MIN, type DirectCalls, DirectIo, FIRST_PIECE, SLOT_SIZE } from './direct-io';
import { FilesystemContentStore } from './fs-content-store';

/** Splits bytes into chunks of irregular sizes, as a socket would hand them over. */
function chunked(bytes: Buffer, seed: number): Readable {
  const chunks: Buffer[] = [];
  let at = 0;
  let n = seed;
  while (at < bytes.length) {
    n = (n * 1103515245 + 12345) % 2147483648;
    const size = 1 + (n % 200_000);
    chunks.push(bytes.subarray(at, at + size));
    at += size;
  }
  return Readable.from(chunks);
}

const sha = (bytes: Buffer): string => createHash('sha256').update(bytes).digest('hex');

/** Whether the directory's filesystem takes O_DIRECT at all (tmpfs on older kernels does not). */
async function directSupported(directory: string): Promise<boolean> {
  try {
    const handle = await open(path.join(directory, 'probe'), constants.O_WRONLY | constants.O_CREAT | constants.O_DIRECT);
    await handle.close();
    return true;
  } catch {
    return false;
  }
}

/** The real O_DIRECT calls, counting the opens and the direct writes. */
function countingOpener(counts: { opens: number; writes: number }): DirectCalls {
  return {
    open: (file, calls) => {
      counts.opens += 1;
      return DIRECT_CALLS.open(file, calls);
    },
    write: (fd, buffer, length, position) => {
      counts.writes += 1;
      return DIRECT_CALLS.write(fd, buffer, length, position);
    },
  };
}

describe('FilesystemContentStore with direct I/O', () => {
  let directory: string;
  let supported: boolean;

  beforeAll(async () => {
    directory = await mkdtemp(path.join(tmpdir(), 'ocireg-direct-'));
    supported = await directSupported(directory);
  });
  afterAll(() => rm(directory, { recursive: true, force: true }));

  /** `inlineCalls: false`: creates through the thread pool, as after a slow one (see InlineCreates). */
  async function storeWith(direct: DirectIo, name: string, inlineCalls = true): Promise<FilesystemContentStore> {
    const store = new FilesystemContentStore({ rootDirectory: path.join(directory, name), directIo: direct, inlineCalls });
    await store.init();
    return store;
  }

  it('appends at unaligned offsets across slots keep every byte in place, and the aligned blocks go direct', async () => {
    const counts = { opens: 0, writes: 0 };
    const slots = new AlignedSlots(4);
    const direct = new DirectIo(true, slots, countingOpener(counts));
    const store = await storeWith(direct, 'appends');
    // Pieces that start and end off the alignment, one shorter than a block, one spanning several slots.
    const pieces = [777, DIRECT_ALIGN - 1, 1, SLOT_SIZE + 5, 3 * SLOT_SIZE + 4099, 0, SLOT_SIZE, 12345].map((n) => randomBytes(n));
    const key = 'v1/unaligned';
    let state = await store.startAppend(key);
    for (const [i, piece] of pieces.entries()) state = await store.append(key, state, chunked(piece, i + 1));
    const all = Buffer.concat(pieces);
    expect(state.size).toBe(all.length);
    await store.completeAppend(key, state);

    const read = await readFile(path.join(directory, 'appends', 'v1', 'unaligned'));
    expect(read.length).toBe(all.length);
    expect(sha(read)).toBe(sha(all));
    expect(slots.available).toBe(4);
    if (supported) {
      expect(counts.writes).toBeGreaterThanOrEqual(5); // the whole slots at least
      expect(direct.active).toBe(true);
    }
  });

  it('a whole write of a large object goes direct; a small one (a manifest) never opens the file for it', async () => {
    const counts = { opens: 0, writes: 0 };
    const direct = new DirectIo(true, new AlignedSlots(2), countingOpener(counts));
    const store = await storeWith(direct, 'whole');
    const small = randomBytes(DIRECT_MIN - 1);
    await store.write('v1/small', chunked(small, 7));
    expect(counts.opens).toBe(0);
    const large = randomBytes(2 * SLOT_SIZE + 100);
    await store.write('v1/large', chunked(large, 9));
    expect(sha(await readFile(path.join(directory, 'whole', 'v1', 'small')))).toBe(sha(small));
    expect(sha(await readFile(path.join(directory, 'whole', 'v1', 'large')))).toBe(sha(large));
    if (supported) {
      expect(counts.opens).toBe(1);
      // The first slot in pieces, the second whole; the last 100 bytes through the page cache.
      expect(counts.writes).toBe(SLOT_SIZE / FIRST_PIECE + 1);
      expect(direct.active).toBe(true);
    }
  });

  it('the first piece goes to the disk while the rest of the body is still coming', async () => {
    if (!supported) return;
    const counts = { opens: 0, writes: 0 };
    const store = await storeWith(new DirectIo(true, new AlignedSlots(2), countingOpener(counts)), 'pieces');
    const bytes = randomBytes(SLOT_SIZE);
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    let writesWhilePaused = -1;
    async function* body(): AsyncGenerator<Buffer> {
      yield bytes.subarray(0, FIRST_PIECE + 1000);
      // Let the writer act on the first chunk before the rest comes.
      await new Promise((resolve) => setTimeout(resolve, 50));
      writesWhilePaused = counts.writes;
      await gate;
      yield bytes.subarray(FIRST_PIECE + 1000);
    }
    const writing = store.write('v1/pieces', Readable.from(body()));
    await new Promise((resolve) => setTimeout(resolve, 100));
    release();
    await writing;
    expect(writesWhilePaused).toBe(1);
    expect(sha(await readFile(path.join(directory, 'pieces', 'v1', 'pieces')))).toBe(sha(bytes));
  });

  /** Holds every file creation (fs.open with 'w', through the thread pool) until released, or fails it. */
  function holdCreates(): { held: () => number; release: (error?: Error) => void; restore: () => void } {
    const waiting: Array<(error?: Error) => void> = [];
    const realOpen = fs.open.bind(fs) as (...args: unknown[]) => void;
    const spy = jest.spyOn(fs, 'open').mockImplementation(((...args: unknown[]) => {
      if (args[1] !== 'w') return realOpen(...args);
      const done = args[args.length - 1] as (error: Error | null, fd?: number) => void;
      waiting.push((error) => (error ? done(error) : realOpen(...args)));
    }) as unknown as typeof fs.open);
    return {
      held: () => waiting.length,
      release: (error) => waiting.splice(0).forEach((run) => run(error)),
      restore: () => spy.mockRestore(),
    };
  }

  it('a fresh upload takes its body while the file is still being created; the pieces that waited go out as one write', async () => {
    if (!supported) return;
    const counts = { opens: 0, writes: 0 };
    const slots = new AlignedSlots(2);
    const store = await storeWith(new DirectIo(true, slots, countingOpener(counts)), 'deferred', false);
    const bytes = randomBytes(SLOT_SIZE);
    let taken = false;
    async function* body(): AsyncGenerator<Buffer> {
      for (let at = 0; at < bytes.length; at += 100_000) yield bytes.subarray(at, at + 100_000);
      taken = true;
    }
    const creates = holdCreates();
    try {
      const key = 'v1/deferred';
      const completing = store.completeAppend(key, await store.startAppend(key), Readable.from(body()));
      for (let i = 0; i < 100 && !taken; i++) await new Promise((resolve) => setTimeout(resolve, 5));
      expect(taken).toBe(true);
      expect(creates.held()).toBe(1);
      expect(counts.writes).toBe(0);
      creates.release();
      await expect(completing).resolves.toEqual({ key, size: bytes.length });
      expect(counts.writes).toBe(1);
      expect(sha(await readFile(path.join(directory, 'deferred', 'v1', 'deferred')))).toBe(sha(bytes));
      expect(slots.available).toBe(2);
    } finally {
      creates.release();
      creates.restore();
    }
  });

  it('a fresh upload whose file cannot be created fails, with its body taken or not, and gives its slots back', async () => {
    const slots = new AlignedSlots(2);
    const store = await storeWith(new DirectIo(true, slots), 'create-fails', false);
    const creates = holdCreates();
    try {
      const key = 'v1/refused';
      const body = Readable.from([randomBytes(SLOT_SIZE + 10)]);
      const completing = store.completeAppend(key, await store.startAppend(key), body);
      for (let i = 0; i < 100 && creates.held() === 0; i++) await new Promise((resolve) => setTimeout(resolve, 5));
      creates.release(Object.assign(new Error('EACCES: permission denied, open'), { code: 'EACCES' }));
      await expect(completing).rejects.toThrow('EACCES');
      expect(body.destroyed).toBe(true);
      expect(slots.available).toBe(2);
      await expect(store.stat(key)).resolves.toBeUndefined();
    } finally {
      creates.restore();
    }
  });

  it('a filesystem that refuses O_DIRECT at open: buffered writes, correct bytes, never asked again', async () => {
    let asked = 0;
    const refusing: DirectCalls = {
      ...DIRECT_CALLS,
      open: async () => {
        asked += 1;
        throw Object.assign(new Error('EINVAL: invalid argument, open'), { code: 'EINVAL' });
      },
    };
    const direct = new DirectIo(true, new AlignedSlots(2), refusing);
    const store = await storeWith(direct, 'refused-open');
    const bytes = randomBytes(3 * SLOT_SIZE + 1);
    await store.write('v1/a', chunked(bytes, 3));
    await store.write('v1/b', chunked(bytes, 4));
    expect(asked).toBe(1);
    expect(direct.active).toBe(false);
    expect(sha(await readFile(path.join(directory, 'refused-open', 'v1', 'b')))).toBe(sha(bytes));
  });

  it('a direct write refused with EINVAL is written again through the page cache', async () => {
    const opener: DirectCalls = {
      open: (file, calls) => calls.open(file, 'r+'),
      write: () => Promise.reject(Object.assign(new Error('EINVAL: invalid argument, write'), { code: 'EINVAL' })),
    };
    const direct = new DirectIo(true, new AlignedSlots(2), opener);
    const store = await storeWith(direct, 'refused-write');
    const bytes = randomBytes(2 * SLOT_SIZE + 4097);
    await store.write('v1/a', chunked(bytes, 5));
    expect(direct.active).toBe(false);
    expect(sha(await readFile(path.join(directory, 'refused-write', 'v1', 'a')))).toBe(sha(bytes));
  });

  it('writers beyond the pool write through the page cache; slots come back after a failed body', async () => {
    const counts = { opens: 0, writes: 0 };
    const slots = new AlignedSlots(2);
    const store = await storeWith(new DirectIo(true, slots, countingOpener(counts)), 'pool');
    const bodies = [randomBytes(2 * SLOT_SIZE), randomBytes(2 * SLOT_SIZE), randomBytes(2 * SLOT_SIZE)];
    await Promise.all(bodies.map((bytes, i) => store.write(`v1/w${i}`, chunked(bytes, 11 + i))));
    for (const [i, bytes] of bodies.entries()) {
      expect(sha(await readFile(path.join(directory, 'pool', 'v1', `w${i}`)))).toBe(sha(bytes));
    }
    if (supported) expect(counts.opens).toBe(1); // one writer at a time holds the pool's two slots
    expect(slots.available).toBe(2);

    const failing = Readable.from(
      (async function* () {
        yield randomBytes(SLOT_SIZE + 10);
        throw new Error('client went away');
      })(),
    );
    await expect(store.write('v1/failed', failing)).rejects.toThrow('client went away');
    expect(slots.available).toBe(2);
  });

});
