import crypto, { createHash, randomBytes } from 'node:crypto';
import { rmdir } from 'node:fs/promises';
import path from 'node:path';
import { Readable } from 'node:stream';
import { type ByteRange, ContentNotFoundError, assertValidKey } from '@ocireg/storage';
import { FileBody } from './file-body';
import { type FsCalls, datasync, writevAt } from './fs-calls';

/** Directory names a valid key segment can never have ('!' is outside the key alphabet). */
export const TEMP_DIR = '!tmp';
export const APPENDING_DIR = '!appending';

export function isMissing(error: unknown): boolean {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  return code === 'ENOENT' || code === 'ENOTDIR';
}

export function errorCode(error: unknown): string | undefined {
  return (error as NodeJS.ErrnoException | undefined)?.code;
}

/** Random per process, so that processes sharing the directory (replicas on one volume) never collide. */
const PROCESS_TAG = randomBytes(8).toString('hex');
let sequence = 0;

/**
 * A name no other temporary file has: the process's random tag and a counter (32 hex digits). Random bytes
 * per name cost a synchronous call into OpenSSL on every write, for no more uniqueness.
 */
export function uniqueName(): string {
  sequence += 1;
  return PROCESS_TAG + sequence.toString(16).padStart(16, '0');
}

/** Flat, fixed-length name for the unfinished file of a key (no directories, no name-length limits). */
export function appendingName(key: string): string {
  assertValidKey(key);
  return sha256Hex(key);
}

/**
 * crypto.hash where Node has it (20.12 and later): one call, no Hash object to create and collect; several
 * times faster for a short string, and a push names its unfinished file several times.
 */
const oneShot = (crypto as { hash?: (algorithm: string, data: string, encoding: 'hex') => string }).hash;
const sha256Hex = oneShot
  ? (text: string): string => oneShot('sha256', text, 'hex')
  : (text: string): string => createHash('sha256').update(text).digest('hex');

/** Accepts '' or any prefix of a valid key: every segment but the last must be valid, the last may be partial. */
export function assertValidPrefix(prefix: string): void {
  if (prefix === '') return;
  assertValidKey(prefix.endsWith('/') ? prefix.slice(0, -1) : prefix);
}

export function assertValidRange(range: ByteRange): void {
  const { start, end } = range;
  if (!Number.isSafeInteger(start) || !Number.isSafeInteger(end) || start < 0 || end < start) {
    throw new RangeError(`invalid byte range ${start}-${end}`);
  }
}

export function assertValidSize(size: unknown): asserts size is number {
  if (typeof size !== 'number' || !Number.isSafeInteger(size) || size < 0) {
    throw new Error(`invalid append state size: ${String(size)}`);
  }
}

/** Opens a regular file for reading; a missing path or a directory is ContentNotFoundError. */
export async function openRegularFile(calls: FsCalls, filePath: string, key: string): Promise<{ fd: number; size: number }> {
  let fd: number;
  try {
    fd = await calls.open(filePath, 'r');
  } catch (error) {
    if (isMissing(error)) throw new ContentNotFoundError(key);
    throw error;
  }
  const info = await calls.fstat(fd).catch(async (error: unknown) => {
    await calls.close(fd);
    throw error;
  });
  if (!info.isFile()) {
    await calls.close(fd);
    throw new ContentNotFoundError(key);
  }
  return { fd, size: info.size };
}

/** Streams the inclusive range [start, end] of an open file (end clamped to its size) and closes it. */
export async function streamFile(calls: FsCalls, fd: number, size: number, range?: ByteRange): Promise<Readable> {
  const start = range?.start ?? 0;
  const end = Math.min(range?.end ?? size - 1, size - 1);
  if (range && start >= size) {
    await calls.close(fd);
    throw new RangeError(`byte range ${range.start}-${range.end} starts beyond the object size ${size}`);
  }
  if (end < start) {
    await calls.close(fd);
    return Readable.from([]);
  }
  return new FileBody(fd, start, end + 1, { inlineReads: calls.readsInline, close: (descriptor) => calls.close(descriptor) });
}

/** Bytes gathered from the stream before they go to the file in one write (while the previous batch is written). */
const WRITE_BATCH = 1024 * 1024;

/**
 * Bytes written between two background syncs of a long write: the disk flushes while the rest still arrives,
 * so the sync that makes the object durable at the end finds little left to write (a 256 MiB blob would
 * otherwise wait for all of it after its last byte; a direct-written 32 MiB one waited 21 ms for the disk's
 * own cache).
 */
const SYNC_EVERY = 32 * 1024 * 1024;

/**
 * The background syncs of one long write: once SYNC_EVERY bytes have gone out unsynced and more follow, one
 * fdatasync after the write that completed them has ended, one at a time (each covers everything written
 * before it started). Only when more follow: a sync started by the last bytes would come just before the
 * final one, two disk flushes where one does (every 32 MiB blob paid for both).
 */
export class BackgroundSync {
  private syncing: Promise<void> | undefined;
  private unsynced = 0;
  private lastWrite: Promise<void> | undefined;

  /** `fd` may still be being opened: the first sync comes after a write, which waited for it. */
  constructor(private readonly fd: number | Promise<number>) {}

  /** `bytes` more are on their way to the file; `written` settles when they are written. */
  wrote(bytes: number, written: Promise<void>): void {
    const previous = this.lastWrite;
    this.lastWrite = written;
    if (previous && this.unsynced >= SYNC_EVERY && !this.syncing) {
      this.unsynced = 0;
      const started: Promise<void> = previous.then(async () => datasync(await this.fd)).finally(() => {
        if (this.syncing === started) this.syncing = undefined;
      });
      this.syncing = started;
      started.catch(() => undefined); // awaited by ended(); never left unhandled if the body fails first
    }
    this.unsynced += bytes;
  }

  /** Waits for a sync still running (before the file is closed); its failure is the write's failure. */
  async ended(): Promise<void> {
    await this.syncing;
  }

  /** The same, ignoring its failure (a write already failing). */
  async settled(): Promise<void> {
    await this.syncing?.catch(() => undefined);
  }
}

/**
 * Writes a stream into the file at `start` and, with `sync`, syncs it to disk; returns the bytes written. Reading and
 * writing overlap: while one batch of chunks is being written (one `writev`), the next is gathered, so the
 * socket keeps flowing; at most two batches are held (constant memory whatever the size).
 */
export async function writeStreamAt(fd: number, body: Readable, start: number, sync = true): Promise<number> {
  let position = start;
  let batch: Buffer[] = [];
  let batched = 0;
  let writing: Promise<void> = Promise.resolve();
  const background = new BackgroundSync(fd);
  const flush = async (): Promise<void> => {
    await writing;
    const buffers = batch;
    const bytes = batched;
    const at = position;
    position += bytes;
    batch = [];
    batched = 0;
    writing = writeAllAt(fd, buffers, at);
    // Awaited at the next flush or at the end; never left unhandled if the body fails first.
    writing.catch(() => undefined);
    background.wrote(bytes, writing);
  };
  try {
    for await (const chunk of body) {
      const buffer = toBuffer(chunk);
      if (buffer.length === 0) continue;
      batch.push(buffer);
      batched += buffer.length;
      // Many tiny chunks (a slow client) go out well before they add up to a batch.
      if (batched >= WRITE_BATCH || batch.length >= 256) await flush();
    }
    if (batched > 0) await flush();
    await writing;
    await background.ended();
  } catch (error) {
    // The caller closes the descriptor next: no write or sync may still be using it (a descriptor number closed
    // under a write in flight can be reused by the next open, and the write would land in another file).
    await writing.catch(() => undefined);
    await background.settled();
    throw error;
  }
  if (sync) await datasync(fd);
  return position - start;
}

/** Writes buffers back to back at `position`, however many calls short writes take. */
async function writeAllAt(fd: number, buffers: Buffer[], position: number): Promise<void> {
  let rest = buffers;
  let at = position;
  while (rest.length > 0) {
    const bytesWritten = await writevAt(fd, rest, at);
    at += bytesWritten;
    rest = skipBytes(rest, bytesWritten);
  }
}

/** The buffers after their first `count` bytes. */
function skipBytes(buffers: Buffer[], count: number): Buffer[] {
  let skip = count;
  let index = 0;
  while (index < buffers.length && skip >= (buffers[index]?.length ?? 0)) {
    skip -= buffers[index]?.length ?? 0;
    index++;
  }
  const rest = buffers.slice(index);
  if (skip > 0 && rest[0]) rest[0] = rest[0].subarray(skip);
  return rest;
}

export function toBuffer(chunk: unknown): Buffer {
  if (Buffer.isBuffer(chunk)) return chunk;
  if (chunk instanceof Uint8Array) return Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
  if (typeof chunk === 'string') return Buffer.from(chunk);
  throw new TypeError('content streams must carry bytes');
}

/**
 * Renames a finished file into place, creating the parent directories when they are missing (the first object
 * under them, or a delete pruned them meanwhile). The rename comes first: the directories almost always exist,
 * and a mkdir per object would cost every write one more call.
 */
export async function moveIntoPlace(calls: FsCalls, from: string, to: string): Promise<void> {
  for (let attempt = 0; ; attempt += 1) {
    try {
      await calls.rename(from, to);
      return;
    } catch (error) {
      const parentMissing = errorCode(error) === 'ENOENT' && (await exists(calls, from));
      if (!parentMissing || attempt >= 3) throw error;
    }
    await calls.mkdirp(path.dirname(to));
  }
}

async function exists(calls: FsCalls, filePath: string): Promise<boolean> {
  try {
    return (await calls.stat(filePath)) !== undefined;
  } catch (error) {
    if (isMissing(error)) return false;
    throw error;
  }
}

/** Removes empty directories from `dir` up to (not including) `root`; stops at the first non-empty one. */
export async function pruneEmptyDirectories(root: string, dir: string): Promise<void> {
  let current = dir;
  while (current !== root && current.startsWith(root + path.sep)) {
    try {
      await rmdir(current);
    } catch {
      return;
    }
    current = path.dirname(current);
  }
}
