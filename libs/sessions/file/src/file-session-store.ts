import { randomBytes } from 'node:crypto';
import { mkdir, readdir, readFile, rename, stat, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { UploadSession, UploadSessionStore } from '@ocireg/sessions';

export interface FileUploadSessionStoreOptions {
  /** Directory holding one `<id>.json` per session. Created by init() when missing. */
  directory: string;
  /** How often expired session files are removed, in milliseconds. Default 60 000; 0 disables the timer. */
  sweepIntervalMs?: number;
}

/** Session ids become file names, so only these are accepted. */
const VALID_ID = /^[a-zA-Z0-9-]{1,64}$/;
const SESSION_SUFFIX = '.json';
const TEMP_SUFFIX = '.tmp';
/** A temp file this old is left over from a crash, not a write in progress. */
const STALE_TEMP_MS = 60_000;
const FORMAT_VERSION = 1;
/** Sessions kept in memory; beyond that the least recently used are read from their files again. */
const MAX_CACHED = 10_000;

/** What each file holds: the session and the epoch millisecond after which it counts as absent. */
interface SessionFile {
  format: number;
  expiresAt: number;
  session: UploadSession;
}

export class InvalidUploadSessionIdError extends Error {
  constructor(readonly id: string) {
    super(`invalid upload session id ${JSON.stringify(id)}: expected 1-64 characters of [a-zA-Z0-9-]`);
    this.name = 'InvalidUploadSessionIdError';
  }
}

/**
 * Upload sessions as files, for the embedded (single process) registry: they survive a restart.
 * Every write goes to a temp file that is then renamed over `<id>.json`, so a crash of the process leaves the
 * old or the new session, never half of one. Expiry is stored in the file and enforced on read; expired files
 * are deleted lazily and by a sweep on init() and on a timer. Operations on one id are serialised by an
 * in-process mutex, which makes compareAndSet atomic as long as only one process uses the directory; for the
 * same reason the sessions this process wrote or read are kept in memory and read from there (every change
 * still goes to its file first).
 *
 * Durability is Redis's (the distributed registry's session store), not the database's: files are not
 * fsynced. A power loss may lose the last changes of uploads in progress (or leave an empty file, read as no
 * session): the client gets BLOB_UPLOAD_UNKNOWN and uploads again. The bytes of an unfinished upload are not
 * synced either; committed blobs are (the content store syncs them before the commit is recorded).
 */
export class FileUploadSessionStore implements UploadSessionStore {
  private readonly directory: string;
  private readonly sweepIntervalMs: number;
  /** Tail of each id's operation chain; removed when the chain drains. */
  private readonly locks = new Map<string, Promise<void>>();
  /** The text of each session file as last written or read by this process (the only one using the directory). */
  private readonly cache = new Map<string, string>();
  private sweepTimer: NodeJS.Timeout | undefined;
  private sweeping: Promise<void> | undefined;

  constructor(options: FileUploadSessionStoreOptions) {
    if (!options.directory) {
      throw new Error('FileUploadSessionStore needs a directory');
    }
    this.directory = options.directory;
    this.sweepIntervalMs = options.sweepIntervalMs ?? 60_000;
  }

  async init(): Promise<void> {
    await mkdir(this.directory, { recursive: true });
    await this.sweep(0);
    if (this.sweepIntervalMs > 0 && !this.sweepTimer) {
      this.sweepTimer = setInterval(() => {
        if (!this.sweeping) {
          this.sweeping = this.sweep(STALE_TEMP_MS)
            .catch(() => undefined)
            .finally(() => {
              this.sweeping = undefined;
            });
        }
      }, this.sweepIntervalMs);
      this.sweepTimer.unref();
    }
  }

  async close(): Promise<void> {
    if (this.sweepTimer) {
      clearInterval(this.sweepTimer);
      this.sweepTimer = undefined;
    }
    await this.sweeping;
    await Promise.all([...this.locks.values()]);
  }

  /**
   * Removes expired session files now, and temp files older than tempOlderThanMs (all of them when 0: init()
   * does that, as no write can be in progress before it returns). Returns when done.
   */
  async sweep(tempOlderThanMs = STALE_TEMP_MS): Promise<void> {
    let names: string[];
    try {
      names = await readdir(this.directory);
    } catch (error) {
      if (isErrnoCode(error, 'ENOENT')) {
        return;
      }
      throw error;
    }
    const now = Date.now();
    for (const name of names) {
      if (name.endsWith(TEMP_SUFFIX)) {
        await this.removeStaleTemp(join(this.directory, name), tempOlderThanMs <= 0 ? Infinity : now - tempOlderThanMs);
        continue;
      }
      if (!name.endsWith(SESSION_SUFFIX)) {
        continue;
      }
      const id = name.slice(0, -SESSION_SUFFIX.length);
      if (!VALID_ID.test(id)) {
        continue;
      }
      await this.withLock(id, async () => {
        try {
          await this.readLive(id);
        } catch {
          // A file that cannot be parsed is left alone for someone to look at; get() reports it.
        }
      });
    }
  }

  async create(session: UploadSession, ttlSeconds: number): Promise<void> {
    assertValidId(session.id);
    const expiresAt = expiryFrom(ttlSeconds);
    await this.withLock(session.id, async () => {
      if (await this.readLive(session.id)) {
        throw new Error(`upload session already exists: ${session.id}`);
      }
      await this.write(session.id, { format: FORMAT_VERSION, expiresAt, session });
    });
  }

  async get(id: string): Promise<UploadSession | undefined> {
    if (!VALID_ID.test(id)) {
      return undefined; // no such file can exist
    }
    return this.withLock(id, async () => (await this.readLive(id))?.session);
  }

  async compareAndSet(id: string, expectedVersion: number, next: UploadSession, ttlSeconds: number): Promise<boolean> {
    if (next.id !== id) {
      throw new Error(`compareAndSet of upload session ${id} was given a session with id ${next.id}`);
    }
    if (!VALID_ID.test(id)) {
      return false;
    }
    const expiresAt = expiryFrom(ttlSeconds);
    return this.withLock(id, async () => {
      const current = await this.readLive(id);
      if (!current || current.session.version !== expectedVersion) {
        return false;
      }
      await this.write(id, { format: FORMAT_VERSION, expiresAt, session: next });
      return true;
    });
  }

  async delete(id: string): Promise<boolean> {
    if (!VALID_ID.test(id)) {
      return false;
    }
    return this.withLock(id, async () => {
      const current = await this.readLive(id);
      if (!current) {
        return false;
      }
      this.cache.delete(id);
      await unlinkIfPresent(this.pathOf(id));
      return true;
    });
  }

  /** Reads a session file; an expired one is deleted and reported absent. Call with the id's lock held. */
  private async readLive(id: string): Promise<SessionFile | undefined> {
    const path = this.pathOf(id);
    let text = this.cache.get(id);
    if (text === undefined) {
      try {
        text = await readFile(path, 'utf8');
      } catch (error) {
        if (isErrnoCode(error, 'ENOENT')) {
          return undefined;
        }
        throw error;
      }
      if (text.length === 0) {
        // What a power loss can leave of a file written without fsync: no session (the client starts over).
        await unlinkIfPresent(path);
        return undefined;
      }
    }
    // Parsed on every read, cached or not: callers get their own objects, exactly what the file holds.
    const file = parseSessionFile(text, id, path);
    if (file.expiresAt <= Date.now()) {
      this.cache.delete(id);
      await unlinkIfPresent(path);
      return undefined;
    }
    this.remember(id, text);
    return file;
  }

  /** Keeps a session in memory, at most MAX_CACHED (the least recently used go; their files stay). */
  private remember(id: string, text: string): void {
    this.cache.delete(id);
    this.cache.set(id, text);
    if (this.cache.size > MAX_CACHED) {
      const oldest = this.cache.keys().next().value;
      if (oldest !== undefined) this.cache.delete(oldest);
    }
  }

  private async write(id: string, file: SessionFile): Promise<void> {
    const path = this.pathOf(id);
    const temp = `${path}.${randomBytes(6).toString('hex')}${TEMP_SUFFIX}`;
    const text = JSON.stringify(file);
    try {
      this.cache.delete(id);
      await writeFile(temp, text, { encoding: 'utf8', flag: 'wx', mode: 0o600 });
      await rename(temp, path);
    } catch (error) {
      await unlinkIfPresent(temp);
      throw error;
    }
    this.remember(id, text);
  }

  private async removeStaleTemp(path: string, cutoff: number): Promise<void> {
    try {
      if (cutoff === Infinity || (await stat(path)).mtimeMs <= cutoff) {
        await unlinkIfPresent(path);
      }
    } catch (error) {
      if (!isErrnoCode(error, 'ENOENT')) {
        throw error;
      }
    }
  }

  private pathOf(id: string): string {
    return join(this.directory, id + SESSION_SUFFIX);
  }

  /** Runs fn after every earlier operation on the same id has settled. */
  private async withLock<T>(id: string, fn: () => Promise<T>): Promise<T> {
    const previous = this.locks.get(id) ?? Promise.resolve();
    const result = previous.then(fn);
    const tail = result.then(
      () => undefined,
      () => undefined,
    );
    this.locks.set(id, tail);
    void tail.then(() => {
      if (this.locks.get(id) === tail) {
        this.locks.delete(id);
      }
    });
    return result;
  }
}

function assertValidId(id: string): void {
  if (typeof id !== 'string' || !VALID_ID.test(id)) {
    throw new InvalidUploadSessionIdError(String(id));
  }
}

function expiryFrom(ttlSeconds: number): number {
  if (!Number.isFinite(ttlSeconds) || ttlSeconds <= 0) {
    throw new RangeError(`upload session TTL must be a positive number of seconds, got ${ttlSeconds}`);
  }
  return Date.now() + Math.ceil(ttlSeconds * 1000);
}

function parseSessionFile(text: string, id: string, path: string): SessionFile {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new Error(`corrupt upload session file ${path}: not JSON`);
  }
  if (typeof value !== 'object' || value === null) {
    throw new Error(`corrupt upload session file ${path}`);
  }
  const record = value as Record<string, unknown>;
  const session = record['session'];
  if (
    record['format'] !== FORMAT_VERSION
    || typeof record['expiresAt'] !== 'number'
    || typeof session !== 'object' || session === null
    || (session as Record<string, unknown>)['id'] !== id
    || typeof (session as Record<string, unknown>)['version'] !== 'number'
  ) {
    throw new Error(`corrupt upload session file ${path}`);
  }
  return value as SessionFile;
}

async function unlinkIfPresent(path: string): Promise<void> {
  try {
    await unlink(path);
  } catch (error) {
    if (!isErrnoCode(error, 'ENOENT')) {
      throw error;
    }
  }
}

function isErrnoCode(error: unknown, code: string): boolean {
  // Not `instanceof Error`: errors from Node's fs may come from another realm (as under jest).
  return typeof error === 'object' && error !== null && (error as { code?: unknown }).code === code;
}
