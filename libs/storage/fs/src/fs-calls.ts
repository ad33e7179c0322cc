import fs, { type Stats } from 'node:fs';

/**
 * The filesystem calls of the store that never wait for the disk on a local filesystem: open, close, stat,
 * rename, unlink. They take a few microseconds there. Through Node's thread pool each one costs a round
 * trip: a thread woken, the event loop woken again with the result. That costs 30-60 µs of CPU per call, and
 * more on a virtual machine where waking a thread is an interrupt to another virtual CPU (a 1 MiB blob push
 * made about ten such calls). Run inline, they block the event loop only for the call itself, as Go's
 * runtime (Distribution's) does.
 *
 * Creating a file runs inline too while creates are quick (see InlineCreates): through the thread pool, a
 * push's first bytes waited for it. Creating a directory always goes through the thread pool.
 *
 * On a network filesystem any of these calls can take milliseconds: the thread-pool set is for that
 * (REGISTRY_STORAGE_FILESYSTEM_INLINECALLS=false). Reading and writing bytes and syncing always go through
 * the thread pool, whichever set is used, but for the reads of a streamed file (file-body.ts), which run
 * inline while they come from the page cache.
 */
export interface FsCalls {
  /** Whether a streamed read may read on the event loop while the file answers from memory (see file-body.ts). */
  readonly readsInline: boolean;
  /** Opens an existing file (no O_CREAT: see create). */
  open(file: string, flags: string | number, mode?: number): Promise<number>;
  /** Opens a file that the call may create (flags with O_CREAT: 'w', 'wx', 'a'...); see InlineCreates. */
  create(file: string, flags: string | number, mode?: number): Promise<number>;
  close(fd: number): Promise<void>;
  fstat(fd: number): Promise<Stats>;
  /** Undefined when nothing is there (ENOENT): a missing file is an answer, not an error to build. */
  stat(file: string): Promise<Stats | undefined>;
  rename(from: string, to: string): Promise<void>;
  /** mkdir -p */
  mkdirp(dir: string): Promise<void>;
  unlink(file: string): Promise<void>;
}

/** A create slower than this sends the next ones through the thread pool (see InlineCreates). */
export const SLOW_CREATE_MS = 1;
/** For this long. */
export const SLOW_CREATE_BACKOFF_MS = 10_000;

/**
 * File creations on the event loop while they are quick, through the thread pool for a while after a slow one.
 *
 * Through the pool, a create waits for a thread, then for the event loop to notice its result: while a push's
 * body keeps the CPUs busy (two here, shared with the client), that took 1-1.5 ms for a create of 0.1-0.25 ms,
 * and the body's first writes to the disk waited for the file (bench, four pairs of fresh embedded registries,
 * 1 MiB pushes one at a time, inline against pooled: 0.97-1.23x monolithic, 1.06-1.42x chunked). But allocating an inode can take long: ext4 without a
 * journal scans the inodes deleted in the last minutes before it reuses one (0.3-1.4 ms per create measured
 * here after a large delete, a garbage collection's), and inline that holds every other request. So a create
 * that took more than SLOW_CREATE_MS sends the following ones through the pool, where a slow allocation holds
 * only the request that asked for it, for SLOW_CREATE_BACKOFF_MS; then inline again.
 */
export class InlineCreates {
  private pooledUntil = Number.NEGATIVE_INFINITY;

  constructor(
    private readonly openInline: (file: string, flags: string | number, mode?: number) => number = (file, flags, mode) => fs.openSync(file, flags, mode),
    private readonly openPooled: (file: string, flags: string | number, mode?: number) => Promise<number> = poolOpen,
    private readonly now: () => number = () => performance.now(),
  ) {}

  create(file: string, flags: string | number, mode?: number): Promise<number> {
    const start = this.now();
    if (start < this.pooledUntil) return this.openPooled(file, flags, mode);
    try {
      return Promise.resolve(this.openInline(file, flags, mode));
    } catch (error) {
      return Promise.reject(error as Error);
    } finally {
      const end = this.now();
      if (end - start > SLOW_CREATE_MS) this.pooledUntil = end + SLOW_CREATE_BACKOFF_MS;
    }
  }
}

const inlineCreates = new InlineCreates();

/** On the event loop (the functions are async: a failure is a rejection, as with the thread pool). */
export const INLINE_CALLS: FsCalls = {
  readsInline: true,
  open: async (file, flags, mode) => fs.openSync(file, flags, mode),
  create: (file, flags, mode) => inlineCreates.create(file, flags, mode),
  close: async (fd) => fs.closeSync(fd),
  fstat: async (fd) => fs.fstatSync(fd),
  stat: async (file) => fs.statSync(file, { throwIfNoEntry: false }),
  rename: async (from, to) => fs.renameSync(from, to),
  mkdirp: (dir) => poolMkdirp(dir),
  unlink: async (file) => fs.unlinkSync(file),
};

/** Through the thread pool. */
export const THREAD_POOL_CALLS: FsCalls = {
  readsInline: false,
  open: (file, flags, mode) => poolOpen(file, flags, mode),
  create: (file, flags, mode) => poolOpen(file, flags, mode),
  close: (fd) => callback<void>((done) => fs.close(fd, done)),
  fstat: (fd) => callback<Stats>((done) => fs.fstat(fd, done)),
  stat: (file) => fs.promises.stat(file).catch((error: NodeJS.ErrnoException) => (error.code === 'ENOENT' ? undefined : Promise.reject(error))),
  rename: (from, to) => fs.promises.rename(from, to),
  mkdirp: (dir) => poolMkdirp(dir),
  unlink: (file) => fs.promises.unlink(file),
};

function poolOpen(file: string, flags: string | number, mode?: number): Promise<number> {
  return callback<number>((done) => fs.open(file, flags, mode, done));
}

async function poolMkdirp(dir: string): Promise<void> {
  await fs.promises.mkdir(dir, { recursive: true });
}

function callback<T>(call: (done: (error: NodeJS.ErrnoException | null, value?: T) => void) => void): Promise<T> {
  return new Promise<T>((resolve, reject) => call((error, value) => (error ? reject(error) : resolve(value as T))));
}

/** Writes `length` bytes of `buffer` from `offset` at `position`; resolves with the bytes written (maybe fewer). */
export function writeAt(fd: number, buffer: Buffer, offset: number, length: number, position: number): Promise<number> {
  return callback<number>((done) => fs.write(fd, buffer, offset, length, position, done));
}

/** Writes the buffers back to back at `position`; resolves with the bytes written (maybe fewer). */
export function writevAt(fd: number, buffers: Buffer[], position: number): Promise<number> {
  return callback<number>((done) => fs.writev(fd, buffers, position, done));
}

export function datasync(fd: number): Promise<void> {
  return callback<void>((done) => fs.fdatasync(fd, done));
}

export function truncate(fd: number, length: number): Promise<void> {
  return callback<void>((done) => fs.ftruncate(fd, length, done));
}
