import { writeSync } from 'node:fs';
import { type FileHandle, mkdir, open, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { UploadSession, UploadSessionStore } from '@ocireg/sessions';

export interface FileUploadSessionStoreOptions {
  /** Directory holding the session log (`sessions.log`). Created by init() when missing. */
  directory: string;
  /** How often expired sessions are dropped from memory, in milliseconds. Default 60 000; 0 disables the timer. */
  sweepIntervalMs?: number;
  /**
   * Log bytes past which the log is rewritten with the live sessions only (or twice the live sessions, when
   * they alone are larger). Default 4 MiB.
   */
  compactAfterBytes?: number;
}

/** Session ids, as the Redis store and the upload routes accept them. */
const VALID_ID = /^[a-zA-Z0-9-]{1,64}$/;
const LOG_NAME = 'sessions.log';
/** What earlier versions kept: one `<id>.json` per session (imported by init) and their temp files. */
const LEGACY_SUFFIX = '.json';
const LEGACY_FORMAT = 1;

/** An operation waiting for its line to be written, and how to undo its change if the write fails. */
interface Waiter {
  resolve: () => void;
  reject: (error: unknown) => void;
  undo: () => void;
}

/** A line of the log: a session as it now is (with its expiry), or the removal of one. */
type LogLine = { s: UploadSession; e: number } | { d: string };

interface Live {
  expiresAt: number;
  /** The session as JSON: parsed on every read, so callers get their own objects. */
  text: string;
}

export class InvalidUploadSessionIdError extends Error {
  constructor(readonly id: string) {
    super(`invalid upload session id ${JSON.stringify(id)}: expected 1-64 characters of [a-zA-Z0-9-]`);
    this.name = 'InvalidUploadSessionIdError';
  }
}

/**
 * Upload sessions of the embedded (single process) registry: in memory, each change appended as one line to
 * a log on disk so they survive a restart. Only one process uses the directory, so the memory is the truth:
 * every operation checks and changes it at once (which makes compareAndSet atomic without locks) and returns
 * once its line is written. Changes made while the log is being rewritten wait and share one write. On init
 * the log is read back (a line a crash cut short is skipped), then rewritten with the live sessions only, as
 * it is whenever it has grown past `compactAfterBytes` (or twice the live sessions). A change whose line
 * cannot be written is undone in memory and its operation fails. Expiry is kept with each session and
 * enforced on read, on replay and by a sweep.
 *
 * A change costs one write to a file already open, made at once on the event loop: a few microseconds into
 * the page cache, where a trip through the thread pool costs tens (a file per session, as before, cost a
 * create, a write and a rename, each such a trip). Durability is Redis's (the distributed registry's session
 * store), not the database's: the log is not fsynced. A power loss may lose the last changes of uploads in
 * progress: the client gets BLOB_UPLOAD_UNKNOWN and uploads again. Committed blobs are unaffected (the
 * content store and the metadata sync them).
 */
export class FileUploadSessionStore implements UploadSessionStore {
  private readonly directory: string;
  private readonly logPath: string;
  private readonly sweepIntervalMs: number;
  private readonly compactAfterBytes: number;
  private readonly live = new Map<string, Live>();
  private log: FileHandle | undefined;
  private logBytes = 0;
  /** Log size past which it is rewritten: the limit, or twice the live sessions when they alone are larger. */
  private compactAt: number;
  /** Lines waiting for the next write, and the callbacks of the operations that wrote them. */
  private pending: string[] = [];
  private waiters: Waiter[] = [];
  /** Whether drain() is running (it waits only while a compaction rewrites the log), and its end. */
  private draining = false;
  private drained: Promise<void> = Promise.resolve();
  private sweepTimer: NodeJS.Timeout | undefined;

  constructor(options: FileUploadSessionStoreOptions) {
    if (!options.directory) {
      throw new Error('FileUploadSessionStore needs a directory');
    }
    this.directory = options.directory;
    this.logPath = join(this.directory, LOG_NAME);
    this.sweepIntervalMs = options.sweepIntervalMs ?? 60_000;
    this.compactAfterBytes = options.compactAfterBytes ?? 4 * 1024 * 1024;
    this.compactAt = this.compactAfterBytes;
  }

  async init(): Promise<void> {
    await mkdir(this.directory, { recursive: true });
    if (!this.log) {
      await this.replay();
      await this.importLegacyFiles();
      await this.compact();
    }
    if (this.sweepIntervalMs > 0 && !this.sweepTimer) {
      this.sweepTimer = setInterval(() => this.sweep(), this.sweepIntervalMs);
      this.sweepTimer.unref();
    }
  }

  async close(): Promise<void> {
    if (this.sweepTimer) {
      clearInterval(this.sweepTimer);
      this.sweepTimer = undefined;
    }
    while (this.draining) await this.drained;
    await this.log?.close();
    this.log = undefined;
  }

  /** Drops expired sessions from memory (the log forgets them at its next rewrite). */
  sweep(): void {
    const now = Date.now();
    for (const [id, entry] of this.live) if (entry.expiresAt <= now) this.live.delete(id);
  }

  async create(session: UploadSession, ttlSeconds: number): Promise<boolean> {
    assertValidId(session.id);
    const expiresAt = expiryFrom(ttlSeconds);
    if (this.current(session.id)) return false;
    await this.put(session, expiresAt);
    return true;
  }

  async get(id: string): Promise<UploadSession | undefined> {
    const entry = VALID_ID.test(id) ? this.current(id) : undefined;
    return entry ? (JSON.parse(entry.text) as UploadSession) : undefined;
  }

  async compareAndSet(id: string, expectedVersion: number, next: UploadSession, ttlSeconds: number): Promise<boolean> {
    if (next.id !== id) {
      throw new Error(`compareAndSet of upload session ${id} was given a session with id ${next.id}`);
    }
    if (!VALID_ID.test(id)) {
      return false;
    }
    const expiresAt = expiryFrom(ttlSeconds);
    const entry = this.current(id);
    if (!entry || (JSON.parse(entry.text) as UploadSession).version !== expectedVersion) {
      return false;
    }
    await this.put(next, expiresAt);
    return true;
  }

  async delete(id: string): Promise<boolean> {
    if (!VALID_ID.test(id) || !this.current(id)) {
      return false;
    }
    await this.change(id, undefined, { d: id });
    return true;
  }

  /** The live entry of an id; an expired one is forgotten. */
  private current(id: string): Live | undefined {
    const entry = this.live.get(id);
    if (entry && entry.expiresAt <= Date.now()) {
      this.live.delete(id);
      return undefined;
    }
    return entry;
  }

  private put(session: UploadSession, expiresAt: number): Promise<void> {
    return this.change(session.id, { expiresAt, text: JSON.stringify(session) }, { s: session, e: expiresAt });
  }

  /**
   * Applies a change to memory at once (the next operation sees it) and queues its line; resolves once the
   * line is written. If the write fails, the change is undone (unless a later one replaced it), so memory
   * never holds what the log does not: a restart would otherwise bring back the earlier state.
   */
  private change(id: string, next: Live | undefined, line: LogLine): Promise<void> {
    if (!this.log) return Promise.reject(new Error('the upload session store is not open'));
    const previous = this.live.get(id);
    if (next) this.live.set(id, next);
    else this.live.delete(id);
    const undo = () => {
      if (this.live.get(id) !== next) return;
      if (previous) this.live.set(id, previous);
      else this.live.delete(id);
    };
    this.pending.push(`${JSON.stringify(line)}\n`);
    const written = new Promise<void>((resolve, reject) => this.waiters.push({ resolve, reject, undo }));
    if (!this.draining) this.drained = this.drain();
    return written;
  }

  /**
   * Writes queued lines until none are left, one write per batch; rewrites the log when it has grown large.
   * Lines queued while a rewrite is running wait for it and go to the new log.
   */
  private async drain(): Promise<void> {
    this.draining = true;
    try {
      while (this.pending.length > 0) {
        const text = this.pending.join('');
        const waiters = this.waiters;
        this.pending = [];
        this.waiters = [];
        try {
          const bytes = Buffer.from(text);
          writeFullySync((this.log as FileHandle).fd, bytes);
          this.logBytes += bytes.length;
        } catch (error) {
          // The batch is not in the log: its changes are undone, latest first, before their callers hear of it.
          for (const waiter of [...waiters].reverse()) waiter.undo();
          for (const waiter of waiters) waiter.reject(error);
          continue;
        }
        for (const waiter of waiters) waiter.resolve();
        if (this.logBytes > this.compactAt) {
          // The lines are written: a rewrite that fails is tried again once the log has grown by the limit again.
          await this.compact().catch(() => (this.compactAt = this.logBytes + this.compactAfterBytes));
        }
      }
    } finally {
      this.draining = false;
    }
  }

  /** Reads the log back into memory; lines that do not parse (cut short by a crash) are skipped. */
  private async replay(): Promise<void> {
    let text: string;
    try {
      text = await readFile(this.logPath, 'utf8');
    } catch (error) {
      if (isErrnoCode(error, 'ENOENT')) return;
      throw error;
    }
    const now = Date.now();
    for (const raw of text.split('\n')) {
      const line = parseLine(raw);
      if (!line) continue;
      if ('d' in line) this.live.delete(line.d);
      else if (line.e > now) this.live.set(line.s.id, { expiresAt: line.e, text: JSON.stringify(line.s) });
      else this.live.delete(line.s.id);
    }
  }

  /** Sessions an earlier version kept as one file each: taken into memory (the live ones), files removed. */
  private async importLegacyFiles(): Promise<void> {
    const now = Date.now();
    for (const name of await readdir(this.directory)) {
      if (name.endsWith('.tmp')) {
        await rm(join(this.directory, name), { force: true });
        continue;
      }
      if (!name.endsWith(LEGACY_SUFFIX) || !VALID_ID.test(name.slice(0, -LEGACY_SUFFIX.length))) continue;
      const path = join(this.directory, name);
      const legacy = parseLegacy(await readFile(path, 'utf8'), name.slice(0, -LEGACY_SUFFIX.length));
      if (legacy && legacy.expiresAt > now && !this.live.has(legacy.session.id)) {
        this.live.set(legacy.session.id, { expiresAt: legacy.expiresAt, text: JSON.stringify(legacy.session) });
      }
      await rm(path, { force: true });
    }
  }

  /** Rewrites the log with the live sessions only (to a temp file renamed over it), and appends from there. */
  private async compact(): Promise<void> {
    this.sweep();
    const lines = [...this.live.values()].map((entry) => `{"s":${entry.text},"e":${entry.expiresAt}}\n`);
    const temp = `${this.logPath}.tmp`;
    const bytes = Buffer.from(lines.join(''));
    await mkdir(this.directory, { recursive: true });
    await writeFile(temp, bytes, { mode: 0o600 });
    await rename(temp, this.logPath);
    await this.log?.close();
    this.log = await open(this.logPath, 'a', 0o600);
    this.logBytes = bytes.length;
    this.compactAt = Math.max(this.compactAfterBytes, 2 * bytes.length);
  }
}

function parseLine(raw: string): LogLine | undefined {
  if (raw.length === 0) return undefined;
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch {
    return undefined;
  }
  if (typeof value !== 'object' || value === null) return undefined;
  const line = value as Record<string, unknown>;
  if (typeof line['d'] === 'string') return { d: line['d'] };
  const session = line['s'] as Record<string, unknown> | undefined;
  if (typeof line['e'] !== 'number' || typeof session !== 'object' || session === null) return undefined;
  if (typeof session['id'] !== 'string' || !VALID_ID.test(session['id']) || typeof session['version'] !== 'number') return undefined;
  return { s: session as unknown as UploadSession, e: line['e'] };
}

function parseLegacy(text: string, id: string): { expiresAt: number; session: UploadSession } | undefined {
  try {
    const value = JSON.parse(text) as { format?: unknown; expiresAt?: unknown; session?: { id?: unknown; version?: unknown } };
    if (value.format !== LEGACY_FORMAT || typeof value.expiresAt !== 'number' || value.session?.id !== id || typeof value.session.version !== 'number') {
      return undefined;
    }
    return { expiresAt: value.expiresAt, session: value.session as UploadSession };
  } catch {
    return undefined; // empty (a power loss) or corrupt: that upload starts over
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

function isErrnoCode(error: unknown, code: string): boolean {
  // Not `instanceof Error`: errors from Node's fs may come from another realm (as under jest).
  return typeof error === 'object' && error !== null && (error as { code?: unknown }).code === code;
}

function writeFullySync(fd: number, bytes: Buffer): void {
  let done = 0;
  while (done < bytes.length) done += writeSync(fd, bytes, done, bytes.length - done);
}
