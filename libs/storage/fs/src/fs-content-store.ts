import { type FileHandle, mkdir, open, rm, stat, unlink } from 'node:fs/promises';
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
import { removeFilesModifiedBefore } from './fs-purge';
import { walkKeys } from './fs-walk';

export interface FilesystemContentStoreOptions {
  rootDirectory: string;
  /** Large writes bypass the page cache (O_DIRECT) where the filesystem allows it (see direct-io.ts); default on. */
  directIo?: boolean | DirectIo;
}

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

  constructor(options: FilesystemContentStoreOptions) {
    this.direct = options.directIo instanceof DirectIo ? options.directIo : new DirectIo(options.directIo ?? true);
    this.root = path.resolve(options.rootDirectory);
    this.tempDir = path.join(this.root, TEMP_DIR);
    this.appendingDir = path.join(this.root, APPENDING_DIR);
  }

  async init(): Promise<void> {
    await mkdir(this.tempDir, { recursive: true });
    await mkdir(this.appendingDir, { recursive: true });
  }

  async close(): Promise<void> {
    // Nothing is held open between calls.
  }

  async stat(key: string): Promise<ObjectInfo | undefined> {
    try {
      const info = await stat(this.objectPath(key));
      return info.isFile() ? { key, size: info.size } : undefined;
    } catch (error) {
      if (isMissing(error)) return undefined;
      throw error;
    }
  }

  async read(key: string, range?: ByteRange): Promise<Readable> {
    if (range) assertValidRange(range);
    const { handle, size } = await openRegularFile(this.objectPath(key), key);
    return streamFile(handle, size, range);
  }

  async write(key: string, body: Readable): Promise<ObjectInfo> {
    const target = this.objectPath(key);
    const temp = path.join(this.tempDir, uniqueName());
    try {
      const handle = await open(temp, 'wx');
      let size: number;
      try {
        size = await this.writeBody(handle, temp, body, 0, true);
      } finally {
        await handle.close();
      }
      await moveIntoPlace(temp, target);
      return { key, size };
    } catch (error) {
      body.destroy();
      await rm(temp, { force: true });
      throw error;
    }
  }

  async delete(key: string): Promise<void> {
    const target = this.objectPath(key);
    try {
      await unlink(target);
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

  async append(key: string, state: AppendState, body: Readable): Promise<AppendState> {
    const { handle, size } = await this.openAppending(key, state);
    try {
      if (size > state.size) await handle.truncate(state.size);
      // Not synced: completeAppend syncs the whole object once (an fsync per chunk would cost every PATCH a disk flush).
      const written = await this.writeBody(handle, this.appendingPath(key), body, state.size, false);
      return { ...state, size: state.size + written };
    } catch (error) {
      body.destroy();
      throw error;
    } finally {
      await handle.close();
    }
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
    const { handle, size } = opened;
    try {
      if (size > state.size) await handle.truncate(state.size);
      await handle.datasync();
    } finally {
      await handle.close();
    }
    await moveIntoPlace(this.appendingPath(key), target);
    return { key, size: state.size };
  }

  /** The last chunk and the completion with one open file: written, synced once, renamed into place. */
  private async appendAndComplete(key: string, target: string, state: AppendState, body: Readable): Promise<ObjectInfo> {
    const file = this.appendingPath(key);
    let size: number;
    try {
      const opened = await this.openAppending(key, state);
      try {
        if (opened.size > state.size) await opened.handle.truncate(state.size);
        size = state.size + (await this.writeBody(opened.handle, file, body, state.size, true));
      } finally {
        await opened.handle.close();
      }
    } catch (error) {
      body.destroy();
      throw error;
    }
    await moveIntoPlace(file, target);
    return { key, size };
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
  private async openAppending(key: string, state: AppendState): Promise<{ handle: FileHandle; size: number }> {
    assertValidSize(state.size);
    const file = this.appendingPath(key);
    // Nothing acknowledged yet: whatever the file holds (if it exists) is garbage, so create or truncate it.
    if (state.size === 0) return { handle: await this.openEmpty(file), size: 0 };
    let handle;
    try {
      handle = await open(file, 'r+');
    } catch (error) {
      if (!isMissing(error)) throw error;
      throw new ContentNotFoundError(key);
    }
    const { size } = await handle.stat();
    if (size < state.size) {
      await handle.close();
      throw new Error(`unfinished object ${key} has ${size} bytes, fewer than its append state (${state.size})`);
    }
    return { handle, size };
  }

  /** Large bodies go direct through aligned slots; small ones, or all when direct I/O is off, through the page cache. */
  private writeBody(handle: FileHandle, file: string, body: Readable, start: number, sync: boolean): Promise<number> {
    return writeStreamDirect(handle, file, body, start, sync, this.direct, () => writeStreamAt(handle, body, start, sync));
  }

  /** Opens an unfinished file empty, creating the appending directory again if it was removed. */
  private async openEmpty(file: string): Promise<FileHandle> {
    try {
      return await open(file, 'w');
    } catch (error) {
      if (!isMissing(error)) throw error;
      await mkdir(this.appendingDir, { recursive: true });
      return open(file, 'w');
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
