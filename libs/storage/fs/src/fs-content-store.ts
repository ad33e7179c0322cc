import { constants as fsConstants } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import path from 'node:path';
import { Readable } from 'node:stream';
import {
  type AppendState, type ByteRange, type ContentStore, type ObjectInfo, ContentNotFoundError, assertValidKey, purgeCutoffMs,
} from '@ocireg/storage';
import {
  APPENDING_DIR, TEMP_DIR, appendingName, assertValidPrefix, assertValidRange, assertValidSize, errorCode, isMissing,
  moveIntoPlace, openRegularFile, pruneEmptyDirectories, uniqueName, streamFile, writeStreamAt,
} from './fs-files';
import { DirectIo, writeStreamDirect } from './direct-io';
import { type FsCalls, INLINE_CALLS, THREAD_POOL_CALLS, datasync, truncate, writeAt } from './fs-calls';
import { removeFilesModifiedBefore } from './fs-purge';
import { walkKeys } from './fs-walk';

export interface FilesystemContentStoreOptions {
  rootDirectory: string;
  /** Large writes bypass the page cache (O_DIRECT) where the filesystem allows it (see direct-io.ts); default on. */
  directIo?: boolean | DirectIo;
  /** Opening existing files, close, stat, rename and unlink run on the event loop (see fs-calls.ts); default on. */
  inlineCalls?: boolean;
  /**
   * Told when the background sync of an append failed (see append); the unfinished upload is discarded.
   * Default: a process warning.
   */
  onBackgroundSyncError?: (file: string, error: unknown) => void;
}

/** O_DSYNC where the platform has it (Linux, macOS); elsewhere bytes in memory are written as a stream. */
const DSYNC: number | undefined = fsConstants.O_DSYNC;

/**
 * Content store over a directory. A key is a file under the root; whole writes go to `<root>/!tmp/<random>`
 * and unfinished appends live in `<root>/!appending/<sha256(key)>`, both renamed into place when complete, so
 * only complete objects are ever visible to read, stat and list ('!' is not a valid key character).
 * The append state is `{ size }`: bytes past it in the unfinished file are garbage from a failed append,
 * truncated by the next append or by completion. Abandoned files in both areas are removed by
 * `purgeUnfinished` once their mtime is older than the cutoff.
 */
export class FilesystemContentStore implements ContentStore {
  readonly kind = 'filesystem' as const;
  private readonly root: string;
  private readonly tempDir: string;
  private readonly appendingDir: string;
  private readonly direct: DirectIo;
  private readonly calls: FsCalls;
  private readonly onBackgroundSyncError: (file: string, error: unknown) => void;
  /** Background syncs of appends still running (see append); close() waits for them. */
  private readonly syncing = new Set<Promise<void>>();

  constructor(options: FilesystemContentStoreOptions) {
    this.direct = options.directIo instanceof DirectIo ? options.directIo : new DirectIo(options.directIo ?? true);
    this.calls = options.inlineCalls === false ? THREAD_POOL_CALLS : INLINE_CALLS;
    this.onBackgroundSyncError =
      options.onBackgroundSyncError ?? ((file, error) => process.emitWarning(`background sync of ${file} failed (${String(error)}); its upload was discarded`));
    this.root = path.resolve(options.rootDirectory);
    this.tempDir = path.join(this.root, TEMP_DIR);
    this.appendingDir = path.join(this.root, APPENDING_DIR);
  }

  async init(): Promise<void> {
    await mkdir(this.tempDir, { recursive: true });
    await mkdir(this.appendingDir, { recursive: true });
  }

  async close(): Promise<void> {
    // Nothing else is held open between calls.
    while (this.syncing.size > 0) await Promise.all([...this.syncing]);
  }

  async stat(key: string): Promise<ObjectInfo | undefined> {
    try {
      const info = await this.calls.stat(this.objectPath(key));
      return info?.isFile() ? { key, size: info.size } : undefined;
    } catch (error) {
      if (isMissing(error)) return undefined;
      throw error;
    }
  }

  async read(key: string, range?: ByteRange): Promise<Readable> {
    if (range) assertValidRange(range);
    const { fd, size } = await openRegularFile(this.calls, this.objectPath(key), key);
    return streamFile(this.calls, fd, size, range);
  }

  async write(key: string, body: Readable | Buffer): Promise<ObjectInfo> {
    const target = this.objectPath(key);
    const temp = path.join(this.tempDir, uniqueName());
    try {
      const size = Buffer.isBuffer(body) && DSYNC !== undefined ? await this.writeBytes(temp, body, DSYNC) : await this.writeStream(temp, body);
      await moveIntoPlace(this.calls, temp, target);
      return { key, size };
    } catch (error) {
      if (!Buffer.isBuffer(body)) body.destroy();
      await rm(temp, { force: true });
      throw error;
    }
  }

  private async writeStream(temp: string, bytes: Readable | Buffer): Promise<number> {
    const body = Buffer.isBuffer(bytes) ? Readable.from([bytes]) : bytes;
    const fd = await this.calls.create(temp, 'wx');
    try {
      return await this.writeBody(fd, temp, body, 0, true);
    } finally {
      await this.calls.close(fd);
    }
  }

  /**
   * Bytes in memory (a manifest), written through a descriptor opened with O_DSYNC: each write is durable
   * when it returns, as a write then fdatasync would make it, with one trip through the thread pool fewer
   * (each costs a thread woken and the event loop woken again: see fs-calls.ts).
   */
  private async writeBytes(temp: string, bytes: Buffer, dsync: number): Promise<number> {
    const { O_WRONLY, O_CREAT, O_EXCL } = fsConstants;
    const fd = await this.calls.create(temp, O_WRONLY | O_CREAT | O_EXCL | dsync);
    try {
      for (let done = 0; done < bytes.length; ) done += await writeAt(fd, bytes, done, bytes.length - done, done);
    } finally {
      await this.calls.close(fd);
    }
    return bytes.length;
  }

  async delete(key: string): Promise<void> {
    const target = this.objectPath(key);
    try {
      await this.calls.unlink(target);
    } catch (error) {
      if (isMissing(error) || errorCode(error) === 'EISDIR' || errorCode(error) === 'EPERM') return;
      throw error;
    }
    await pruneEmptyDirectories(this.root, path.dirname(target));
  }

  list(prefix: string): AsyncIterable<string> {
    assertValidPrefix(prefix);
    return walkKeys(this.root, prefix);
  }

  /** Nothing on disk yet: the unfinished file is created by the first append (or by completing an empty upload). */
  async startAppend(key: string): Promise<AppendState> {
    this.appendingPath(key);
    return { size: 0 };
  }

  /**
   * Not synced before it returns: completeAppend syncs the whole object (an fsync before every PATCH's answer
   * would cost each a disk flush). The sync starts in the background as the append ends instead, so that the
   * completion, which most often follows at once, finds the bytes on disk already: its own sync then has little
   * left to do (a chunked 1 MiB push: the PUT's 1 ms sync overlapped with the PATCH's answer and the PUT's
   * arrival). A background sync that fails removes the unfinished file: the failed write-back is reported to
   * one sync only, and the completion's would then succeed on bytes the disk may not hold; without the file
   * the upload cannot complete (its bytes are lost: the client starts again).
   */
  async append(key: string, state: AppendState, body: Readable): Promise<AppendState> {
    const written = await this.writeAppending(key, state, body, false);
    return { ...state, size: state.size + written };
  }

  async completeAppend(key: string, state: AppendState, body?: Readable): Promise<ObjectInfo> {
    const target = this.objectPath(key);
    if (body) return this.appendAndComplete(key, target, state, body);
    let opened;
    try {
      opened = await this.openAppending(key, state);
    } catch (error) {
      // A retried completion: the first one already renamed the file into place.
      const done = error instanceof ContentNotFoundError ? await this.stat(key) : undefined;
      if (done?.size === state.size) return done;
      throw error;
    }
    const { fd, size } = opened;
    try {
      if (size > state.size) await truncate(fd, state.size);
      await datasync(fd);
    } finally {
      await this.calls.close(fd);
    }
    await moveIntoPlace(this.calls, this.appendingPath(key), target);
    return { key, size: state.size };
  }

  /** The last chunk and the completion with one open file: written, synced once, renamed into place. */
  private async appendAndComplete(key: string, target: string, state: AppendState, body: Readable): Promise<ObjectInfo> {
    const size = state.size + (await this.writeAppending(key, state, body, true));
    await moveIntoPlace(this.calls, this.appendingPath(key), target);
    return { key, size };
  }

  /**
   * Writes the body into the unfinished file from the acknowledged size (with `sync`, durably); returns the
   * bytes written. The file is opened (a fresh one created) while the body already fills the writer's slots:
   * a create goes through the thread pool and can take a millisecond (see fs-calls.ts), and a small blob
   * would otherwise wait for it before its first byte was taken from the socket.
   */
  private async writeAppending(key: string, state: AppendState, body: Readable, sync: boolean): Promise<number> {
    const opening = this.openAppending(key, state).then(async ({ fd, size }) => {
      if (size <= state.size) return fd;
      try {
        await truncate(fd, state.size);
        return fd;
      } catch (error) {
        await this.calls.close(fd);
        throw error;
      }
    });
    opening.catch(() => undefined); // awaited by the writes, or below
    let written: number | undefined;
    try {
      written = await this.writeBody(opening, this.appendingPath(key), body, state.size, sync);
      await opening; // a file that could not be opened fails the append even when no write needed it (an empty body)
      return written;
    } catch (error) {
      written = undefined;
      body.destroy();
      throw error;
    } finally {
      const fd = await opening.catch(() => undefined);
      // Unsynced bytes of a successful append are synced in the background (see append).
      if (fd !== undefined && !sync && written !== undefined && written > 0) this.syncInBackground(fd, this.appendingPath(key));
      else if (fd !== undefined) await this.calls.close(fd);
    }
  }

  /** Syncs then closes an unfinished file without waiting; see append. */
  private syncInBackground(fd: number, file: string): void {
    const done: Promise<void> = datasync(fd)
      .catch(async (error: unknown) => {
        this.onBackgroundSyncError(file, error);
        await this.calls.unlink(file).catch(() => undefined);
      })
      .finally(async () => {
        await this.calls.close(fd).catch(() => undefined);
        this.syncing.delete(done);
      });
    this.syncing.add(done);
  }

  async abortAppend(key: string, _state: AppendState): Promise<void> {
    await rm(this.appendingPath(key), { force: true });
  }

  /** Unfinished appends and interrupted whole writes idle since before the cutoff (by mtime). */
  async purgeUnfinished(cutoff: Date): Promise<number> {
    const before = purgeCutoffMs(cutoff);
    const appends = await removeFilesModifiedBefore(this.appendingDir, before);
    return appends + (await removeFilesModifiedBefore(this.tempDir, before));
  }

  /**
   * Opens the unfinished file for writing, checking it holds at least the acknowledged bytes (bytes past them
   * are left by a failed append: the caller truncates); creates it when nothing was acknowledged yet
   * (startAppend leaves the disk alone).
   */
  private async openAppending(key: string, state: AppendState): Promise<{ fd: number; size: number }> {
    assertValidSize(state.size);
    const file = this.appendingPath(key);
    // Nothing acknowledged yet: whatever the file holds (if it exists) is garbage, so create or truncate it.
    if (state.size === 0) return { fd: await this.openEmpty(file), size: 0 };
    let fd;
    try {
      fd = await this.calls.open(file, 'r+');
    } catch (error) {
      if (!isMissing(error)) throw error;
      throw new ContentNotFoundError(key);
    }
    let size: number;
    try {
      ({ size } = await this.calls.fstat(fd));
    } catch (error) {
      await this.calls.close(fd);
      throw error;
    }
    if (size < state.size) {
      await this.calls.close(fd);
      throw new Error(`unfinished object ${key} has ${size} bytes, fewer than its append state (${state.size})`);
    }
    return { fd, size };
  }

  /** Large bodies go direct through aligned slots; small ones, or all when direct I/O is off, through the page cache. */
  private writeBody(fd: number | Promise<number>, file: string, body: Readable, start: number, sync: boolean): Promise<number> {
    return writeStreamDirect(this.calls, fd, file, body, start, sync, this.direct, async () => writeStreamAt(await fd, body, start, sync));
  }

  /** Opens an unfinished file empty, creating the appending directory again if it was removed. */
  private async openEmpty(file: string): Promise<number> {
    try {
      return await this.calls.create(file, 'w');
    } catch (error) {
      if (!isMissing(error)) throw error;
      await this.calls.mkdirp(this.appendingDir);
      return this.calls.create(file, 'w');
    }
  }

  private objectPath(key: string): string {
    assertValidKey(key);
    return path.join(this.root, ...key.split('/'));
  }

  private appendingPath(key: string): string {
    return path.join(this.appendingDir, appendingName(key));
  }
}
