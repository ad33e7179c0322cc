import { writeSync } from 'node:fs';
import { type FileHandle, open, readdir, rename, rm, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { frame, journalFile, parseLayoutName, snapshotFile } from './layout';

export interface JournalLogOptions {
  directory: string;
  generation: number;
  /** The open journal file of that generation (opened for appending) and its current size. */
  handle: FileHandle;
  size: number;
  /** Journal size that triggers a compaction. */
  compactionBytes: number;
  /** The whole state as the snapshot body of a generation, taken synchronously. */
  snapshot: (generation: number) => string;
}

export interface JournalStats {
  /** Records appended (acknowledged or pending). */
  records: number;
  /** fdatasync calls that made records durable (group commit: fewer than records under concurrency). */
  syncs: number;
  generation: number;
  /** Bytes in the current journal file. */
  journalBytes: number;
  compactions: number;
}

interface Waiter {
  seq: number;
  resolve: () => void;
  reject: (error: Error) => void;
}

/**
 * The append side of the journal, with group commit: records appended while a write + fdatasync is in flight
 * are written and synced together by the next one; each append resolves once a sync covers its record. A
 * failed write or sync fails the log for good (memory is then ahead of the disk): the pending and every later
 * call reject. Compaction starts between two batches, once the journal has grown past its threshold, and
 * writes its snapshot while later batches go on.
 */
export class JournalLog {
  private pending: string[] = [];
  private appended = 0;
  private synced = 0;
  private waiters: Waiter[] = [];
  private running = false;
  private drained: (() => void)[] = [];
  private failure: Error | undefined;
  private closing = false;
  /** The snapshot being written in the background, if any. */
  private compacting: Promise<void> | undefined;
  private closed = false;
  private handle: FileHandle;
  private size: number;
  private generation: number;
  private nextCompactionAt: number;
  private syncs = 0;
  private compactions = 0;

  constructor(private readonly options: JournalLogOptions) {
    this.handle = options.handle;
    this.size = options.size;
    this.generation = options.generation;
    this.nextCompactionAt = options.compactionBytes;
  }

  get stats(): JournalStats {
    return { records: this.appended, syncs: this.syncs, generation: this.generation, journalBytes: this.size, compactions: this.compactions };
  }

  /** The error that failed the log, if any. */
  get failed(): Error | undefined {
    return this.failure;
  }

  /** Throws when the log can take no more records. */
  ensureUsable(): void {
    if (this.failure) throw new Error(`the metadata journal failed (restart the process): ${this.failure.message}`, { cause: this.failure });
    if (this.closing) throw new Error('the metadata journal is closed');
  }

  /** Queues a record; resolves when it is durable. Call ensureUsable first (synchronously, before applying). */
  append(record: string): Promise<void> {
    this.ensureUsable();
    this.pending.push(frame(record));
    const seq = ++this.appended;
    const durable = this.waitFor(seq);
    this.kick();
    return durable;
  }

  /** Resolves when every record appended so far is durable (for calls that changed nothing but saw them). */
  barrier(): Promise<void> {
    this.ensureUsable();
    return this.synced >= this.appended ? Promise.resolve() : this.waitFor(this.appended);
  }

  /** Writes what is pending, then closes the file; later calls fail. */
  async close(): Promise<void> {
    this.closing = true;
    if (this.running) await new Promise<void>((resolve) => this.drained.push(resolve));
    await this.compacting;
    if (this.closed) return;
    this.closed = true;
    await this.handle.close();
  }

  private waitFor(seq: number): Promise<void> {
    return new Promise((resolve, reject) => this.waiters.push({ seq, resolve, reject }));
  }

  private kick(): void {
    if (this.running) return;
    this.running = true;
    void this.loop();
  }

  private async loop(): Promise<void> {
    try {
      while (this.pending.length > 0 && !this.failure) {
        const batch = this.pending;
        this.pending = [];
        const upTo = this.appended;
        // Rotating right after this batch, the snapshot (taken synchronously then) holds exactly the records
        // written so far and this batch.
        const snapshot = !this.compacting && this.size >= this.nextCompactionAt ? this.options.snapshot(this.generation + 1) : undefined;
        try {
          await this.writeBatch(batch.join(''));
        } catch (error) {
          this.fail(error);
          break;
        }
        this.settle(upTo);
        if (snapshot !== undefined) await this.rotate(snapshot);
      }
    } finally {
      this.running = false;
      for (const resolve of this.drained.splice(0)) resolve();
    }
  }

  /**
   * The write goes straight into the page cache on the event loop (microseconds; a trip through the thread
   * pool costs tens), the sync that waits for the disk through the thread pool.
   */
  private async writeBatch(data: string): Promise<void> {
    const bytes = Buffer.from(data, 'utf8');
    let offset = 0;
    while (offset < bytes.length) offset += writeSync(this.handle.fd, bytes, offset, bytes.length - offset);
    await this.handle.datasync();
    this.syncs++;
    this.size += bytes.length;
  }

  private settle(upTo: number): void {
    this.synced = upTo;
    let index = 0;
    while (index < this.waiters.length && (this.waiters[index] as Waiter).seq <= upTo) index++;
    for (const waiter of this.waiters.splice(0, index)) waiter.resolve();
  }

  private fail(error: unknown): void {
    const cause = error instanceof Error ? error : new Error(String(error));
    this.failure ??= cause;
    const failure = new Error(`the metadata journal failed (restart the process): ${cause.message}`, { cause });
    this.pending = [];
    for (const waiter of this.waiters.splice(0)) waiter.reject(failure);
  }

  /**
   * Starts generation+1 at a batch boundary: opens its journal (later batches go there, acknowledged as
   * usual), then writes the snapshot taken at that boundary in the background (temp file, fsync, rename,
   * directory fsync) and only then removes the files of earlier generations. Until the snapshot is in place,
   * the previous snapshot and both journals hold the state; a failure anywhere leaves that chain whole, and
   * compaction is simply tried again later.
   */
  private async rotate(snapshot: string): Promise<void> {
    const { directory } = this.options;
    const next = this.generation + 1;
    let handle: FileHandle | undefined;
    try {
      handle = await open(journalFile(directory, next), 'a');
      await syncDirectory(directory);
    } catch {
      await handle?.close().catch(() => undefined);
      this.nextCompactionAt = this.size + this.options.compactionBytes;
      return;
    }
    const previous = this.handle;
    this.handle = handle;
    this.generation = next;
    this.size = 0;
    this.nextCompactionAt = this.options.compactionBytes;
    await previous.close().catch(() => undefined);
    this.compacting = this.writeSnapshot(snapshot, next).finally(() => (this.compacting = undefined));
  }

  private async writeSnapshot(snapshot: string, generation: number): Promise<void> {
    const { directory } = this.options;
    const target = snapshotFile(directory, generation);
    const temporary = `${target}.tmp`;
    try {
      const handle = await open(temporary, 'w');
      try {
        await handle.writeFile(frame(snapshot));
        await handle.sync();
      } finally {
        await handle.close();
      }
      await rename(temporary, target);
      await syncDirectory(directory);
    } catch {
      await rm(temporary, { force: true }).catch(() => undefined);
      return;
    }
    this.compactions++;
    for (const name of await readdir(directory).catch(() => [])) {
      const file = parseLayoutName(name);
      if (file && !file.temporary && file.generation < generation) await unlink(join(directory, name)).catch(() => undefined);
    }
  }
}

export async function syncDirectory(directory: string): Promise<void> {
  const handle = await open(directory, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}
