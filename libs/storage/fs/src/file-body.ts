import fs from 'node:fs';
import { ServerResponse } from 'node:http';
import { Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import { Readable, type Writable } from 'node:stream';
import type { SelfCountingBody } from '@ocireg/storage';

/**
 * Bytes per read: large reads mean few syscalls and few trips through the stream stages (64 KiB, Node's
 * default, costs several times the CPU per MB).
 */
export const READ_CHUNK = 1024 * 1024;

/** Reads ahead of the socket when writing into one: one chunk in the kernel's hands, the next read. */
const DEPTH = 2;

/** Idle chunks kept for the next bodies (beyond them, chunks are left to the garbage collector). */
const IDLE_CHUNKS = 4;

/**
 * A read that takes longer than this came from the disk rather than the page cache: the rest of that body
 * is read through the thread pool, so that the event loop does not wait for the disk.
 */
const SLOW_READ_MS = 2;

const idleChunks: Buffer[] = [];

export type ReadAt = (fd: number, buffer: Buffer, length: number, position: number) => Promise<number>;

export interface FileBodyOptions {
  /** Reads on the event loop while each one is fast (the page cache); false: always the thread pool. */
  inlineReads: boolean;
  close(fd: number): Promise<void>;
  /** The thread-pool read (replaceable in tests). */
  readAt?: ReadAt;
  /** Threshold of a slow inline read (replaceable in tests). */
  slowReadMs?: number;
}

/**
 * The bytes [start, end) of an open file, which it closes once ended or destroyed.
 *
 * Piped into an HTTP response or a socket, it writes its chunks itself and reuses each one once the write
 * callback says the kernel has taken its bytes: a fresh 1 MiB buffer per read costs page faults and the
 * kernel zeroing its pages on every chunk, about a third of the CPU a pull spends (0.77 against 0.48 ms/MB
 * measured for a cached 256 MiB file sent to curl). Any other consumer gets fresh chunks it may keep.
 *
 * Reads run on the event loop while they are fast: a read from the page cache takes about as long as the
 * copy (0.1 ms per MiB), a trip through the thread pool costs 30-60 µs of CPU more, and reads through the
 * pool made the same pull 15-25% dearer. The first read that takes longer than SLOW_READ_MS came from the
 * disk: the rest of the body goes through the pool.
 */
export class FileBody extends Readable implements SelfCountingBody {
  private position: number;
  private readonly limit: number;
  private inline: boolean;
  private readonly readAt: ReadAt;
  private readonly slowReadMs: number;
  private readonly byteListeners: Array<(bytes: number) => void> = [];
  /** Set while a read through the pool is under way: the descriptor must stay open until it ends. */
  private pending = false;
  private afterPending: (() => void) | undefined;
  private sink: Writable | undefined;
  private endSink = true;
  private inFlight = 0;
  private finished = false;

  constructor(
    private readonly fd: number,
    start: number,
    end: number,
    private readonly options: FileBodyOptions,
  ) {
    super();
    this.position = start;
    this.limit = end;
    this.inline = options.inlineReads;
    this.readAt = options.readAt ?? poolReadAt;
    this.slowReadMs = options.slowReadMs ?? SLOW_READ_MS;
  }

  observeBytes(listener: (bytes: number) => void): void {
    this.byteListeners.push(listener);
  }

  override pipe<T extends NodeJS.WritableStream>(destination: T, options?: { end?: boolean }): T {
    // The bytes go to one socket, written from here: they cannot go anywhere else as well.
    if (this.sink) throw new Error('a file body already writing into a socket cannot be piped again');
    if (this.readableFlowing !== null || this.destroyed || !takesBytesAtCallback(destination)) {
      return super.pipe(destination, options);
    }
    this.sink = destination as unknown as Writable;
    this.endSink = options?.end !== false;
    this.sink.once('close', () => {
      if (!this.finished) this.destroy();
    });
    this.pump();
    return destination;
  }

  /** Any consumer but a socket: fresh chunks, never reused. */
  override _read(): void {
    if (this.sink) return; // writing into a socket: the 'end' of push(null) is all a reader gets
    const length = Math.min(READ_CHUNK, this.limit - this.position);
    if (length <= 0) {
      this.push(null);
      return;
    }
    const chunk = Buffer.allocUnsafeSlow(length);
    this.readChunk(chunk, length, (bytes) => {
      if (this.took(bytes)) this.push(bytes === length ? chunk : chunk.subarray(0, bytes));
    });
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    const close = () => {
      this.options.close(this.fd).then(() => callback(error), (closeError: Error) => callback(error ?? closeError));
    };
    if (this.pending) this.afterPending = close;
    else close();
  }

  /** Into a socket: up to DEPTH chunks out, each one read again once the kernel has its bytes. */
  private pump(): void {
    const sink = this.sink as Writable;
    while (!this.pending && !this.destroyed && this.inFlight < DEPTH && this.position < this.limit) {
      const chunk = idleChunks.pop() ?? Buffer.allocUnsafeSlow(READ_CHUNK);
      const length = Math.min(READ_CHUNK, this.limit - this.position);
      let sync = true;
      this.readChunk(chunk, length, (bytes) => {
        if (!this.took(bytes)) return;
        this.inFlight += 1;
        sink.write(bytes === chunk.length ? chunk : chunk.subarray(0, bytes), (error) => {
          this.inFlight -= 1;
          // A write that failed is the destination's failure (the client went away: ECONNRESET, EPIPE),
          // reported by the destination itself, not this body's (as with pipe): the body just stops. The
          // response may not be marked destroyed yet when its socket's error reaches this callback.
          if (error) return void this.destroy();
          if (idleChunks.length < IDLE_CHUNKS) idleChunks.push(chunk);
          this.pump();
        });
        if (!sync) this.pump();
      });
      sync = false;
    }
    if (this.position >= this.limit && !this.finished && !this.destroyed) {
      this.finished = true;
      if (this.endSink) sink.end();
      this.push(null);
      this.resume(); // 'end', then 'close' (which closes the file)
    }
  }

  /** Reads `length` bytes at the position into `chunk`; `done` gets the count (not called on a failure). */
  private readChunk(chunk: Buffer, length: number, done: (bytes: number) => void): void {
    if (this.inline) {
      let bytes: number;
      const started = performance.now();
      try {
        bytes = fs.readSync(this.fd, chunk, 0, length, this.position);
      } catch (error) {
        this.destroy(error as Error);
        return;
      }
      if (performance.now() - started > this.slowReadMs) this.inline = false;
      done(bytes);
      return;
    }
    this.pending = true;
    this.readAt(this.fd, chunk, length, this.position).then(
      (bytes) => this.settle(() => done(bytes)),
      (error: Error) => this.settle(() => this.destroy(error)),
    );
  }

  private settle(next: () => void): void {
    this.pending = false;
    const afterPending = this.afterPending;
    if (afterPending) {
      this.afterPending = undefined;
      afterPending();
      return;
    }
    if (!this.destroyed) next();
  }

  /** Counts a read's bytes; false (and the body destroyed) when it found the end of the file too early. */
  private took(bytes: number): boolean {
    if (this.destroyed) return false;
    if (bytes === 0) {
      this.destroy(new Error(`file ended at byte ${this.position}, before the ${this.limit} expected`));
      return false;
    }
    this.position += bytes;
    for (const listener of this.byteListeners) listener(bytes);
    return true;
  }
}

/**
 * Destinations whose write callback means the bytes were taken (copied into the kernel, or into TLS
 * records): only those get chunks that are reused. A Transform, for one, calls back while it still holds
 * the chunk. ServerResponse exactly: a subclass may keep what it is given.
 */
function takesBytesAtCallback(destination: NodeJS.WritableStream): boolean {
  return destination instanceof Socket || Object.getPrototypeOf(destination) === ServerResponse.prototype;
}

function poolReadAt(fd: number, buffer: Buffer, length: number, position: number): Promise<number> {
  return new Promise((resolve, reject) => {
    fs.read(fd, buffer, 0, length, position, (error, bytes) => (error ? reject(error) : resolve(bytes)));
  });
}
