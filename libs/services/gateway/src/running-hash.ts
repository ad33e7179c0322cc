import { type Hash, createHash } from 'node:crypto';
import { Worker } from 'node:worker_threads';

/**
 * The SHA-256 of an upload's bytes as they stream through the gateway, on its event loop (InlineHash) or on a
 * worker thread (WorkerHash). Hashing costs about 0.7 ms of CPU per MB, a third of what the event loop spends
 * on a large push (receiving, copying into the disk's buffers, hashing): with pushes in parallel the event loop
 * was the ceiling while the machine's other core had room. A worker thread hashes the bytes there instead, for
 * a copy (0.1 ms per MB) and two messages per batch.
 */
export interface RunningHash {
  /**
   * Hashes `chunk`. Undefined: done with it (the caller may reuse it). A promise: the caller waits for it before
   * handing over more bytes or reusing this chunk (the worker is behind: the batches waiting for it are
   * bounded, and a chunk that found no free slot is copied once one frees up).
   */
  update(chunk: Buffer): Promise<void> | undefined;
  /** The hex digest of the bytes so far; the hash ends. */
  digest(): Promise<string>;
  /** The hex digest of the bytes so far; the hash goes on. */
  digestSoFar(): Promise<string>;
  /** Ends the hash without a digest (its memory is freed). */
  dispose(): void;
}

/** Node's SHA-256 on the calling thread. */
export class InlineHash implements RunningHash {
  private readonly hash: Hash = createHash('sha256');

  update(chunk: Buffer): undefined {
    this.hash.update(chunk);
    return undefined;
  }

  async digest(): Promise<string> {
    return this.hash.digest('hex');
  }

  async digestSoFar(): Promise<string> {
    return this.hash.copy().digest('hex');
  }

  dispose(): void {
    // Nothing held beyond the object itself.
  }
}

/** Bytes per batch handed to a worker: few messages per MB, little memory per upload. */
export const BATCH_BYTES = 512 * 1024;
/** Batches of one hash the worker may still have to hash before update() asks its caller to wait. */
const MAX_IN_FLIGHT = 4;
/**
 * Batch slots of a thread, in memory it shares with the worker (12 MiB, counted in RSS as they are first
 * used). Shared memory rather than buffers handed over and back: every handover made V8 account for external
 * memory again, and its collector ran twice as often on a busy push.
 */
const SLOTS = 24;

type WorkerRequest =
  | { op: 'update'; id: number; slot: number; length: number }
  | { op: 'digest'; id: number; end: boolean; seq: number }
  | { op: 'drop'; id: number };
type WorkerReply = { op: 'ack'; id: number; slot: number } | { op: 'digest'; id: number; seq: number; digest: string };

/**
 * The worker: one SHA-256 per id, fed batches (a slot of the shared memory, given back by its answer), asked
 * for digests (of a copy, or ending the hash) and told to drop hashes nobody will finish. Its source is here,
 * so that it runs the same from dist and under jest.
 */
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const { createHash } = require('node:crypto');
const { memory, slotBytes } = workerData;
const hashes = new Map();
const hashOf = (id) => {
  let hash = hashes.get(id);
  if (!hash) {
    hash = createHash('sha256');
    hashes.set(id, hash);
  }
  return hash;
};
parentPort.on('message', (message) => {
  if (message.op === 'update') {
    hashOf(message.id).update(new Uint8Array(memory, message.slot * slotBytes, message.length));
    parentPort.postMessage({ op: 'ack', id: message.id, slot: message.slot });
  } else if (message.op === 'digest') {
    const hash = hashOf(message.id);
    if (message.end) hashes.delete(message.id);
    parentPort.postMessage({ op: 'digest', id: message.id, seq: message.seq, digest: (message.end ? hash : hash.copy()).digest('hex') });
  } else {
    hashes.delete(message.id);
  }
});
`;

/**
 * One worker thread, its slots and the hashes it runs; a worker that fails fails them, and the pool starts
 * another. A hash that finds no free slot waits in line for one.
 */
class HashThread {
  readonly worker: Worker;
  readonly hashes = new Map<number, WorkerHash>();
  failure: Error | undefined;
  private readonly memory = new SharedArrayBuffer(SLOTS * BATCH_BYTES);
  private readonly views = Array.from({ length: SLOTS }, (_, i) => Buffer.from(this.memory, i * BATCH_BYTES, BATCH_BYTES));
  private readonly free = Array.from({ length: SLOTS }, (_, i) => SLOTS - 1 - i);
  private readonly waiting: WorkerHash[] = [];

  constructor(onFailure: (thread: HashThread) => void) {
    this.worker = new Worker(WORKER_SOURCE, {
      eval: true,
      workerData: { memory: this.memory, slotBytes: BATCH_BYTES },
      // It holds a few hundred bytes per hash: a small young generation keeps its memory small (V8 would
      // otherwise let it grow to 16 MiB and more before collecting the messages it has read).
      resourceLimits: { maxYoungGenerationSizeMb: 2, maxOldGenerationSizeMb: 64 },
    });
    this.worker.unref();
    const fail = (error: Error): void => {
      if (this.failure) return;
      this.failure = error;
      onFailure(this);
      for (const hash of this.hashes.values()) hash.fail(error);
      this.hashes.clear();
      this.waiting.length = 0;
    };
    this.worker.on('error', fail);
    this.worker.on('exit', (code) => fail(new Error(`the hashing thread exited (code ${code})`)));
    this.worker.on('message', (reply: WorkerReply) => {
      if (reply.op === 'ack') this.give(reply.slot);
      this.hashes.get(reply.id)?.settle(reply);
    });
  }

  /** The bytes of a slot. */
  view(slot: number): Buffer {
    return this.views[slot] as Buffer;
  }

  take(): number | undefined {
    return this.free.pop();
  }

  /** A slot back: to the first hash waiting for one that still wants it, else to the free ones. */
  give(slot: number): void {
    for (let hash = this.waiting.shift(); hash; hash = this.waiting.shift()) {
      if (hash.resume(slot)) return;
    }
    this.free.push(slot);
  }

  /** `hash` waits for a slot (see give). */
  queue(hash: WorkerHash): void {
    this.waiting.push(hash);
  }

  post(request: WorkerRequest): void {
    this.worker.postMessage(request);
  }
}

/** A hash untouched for this long belongs to a request that failed without disposing of it: it is dropped. */
const IDLE_MS = 60 * 60 * 1000;
/** Hashes created between two sweeps for idle ones. */
const SWEEP_EVERY = 1024;

/** Threads that hash uploads off the event loop; each hash stays on the thread it started on. */
export class HashWorkers {
  private readonly threads: Array<HashThread | undefined>;
  private next = 0;
  private ids = 0;

  constructor(
    readonly size: number,
    private readonly idleMs = IDLE_MS,
  ) {
    if (!(size >= 1)) throw new Error(`HashWorkers needs at least one thread, got ${size}`);
    this.threads = new Array<HashThread | undefined>(size).fill(undefined);
  }

  /** A new hash on the next thread (started on first use, or again after a failure). */
  create(): RunningHash {
    const index = this.next;
    this.next = (this.next + 1) % this.size;
    let thread = this.threads[index];
    if (!thread) {
      thread = new HashThread((failed) => {
        if (this.threads[index] === failed) this.threads[index] = undefined;
      });
      this.threads[index] = thread;
    }
    const id = ++this.ids;
    if (id % SWEEP_EVERY === 0) this.sweep();
    const hash = new WorkerHash(thread, id);
    thread.hashes.set(id, hash);
    return hash;
  }

  /** Hashes held by the threads (started and not ended, or ended with a digest still to come). */
  get open(): number {
    return this.threads.reduce((sum, thread) => sum + (thread?.hashes.size ?? 0), 0);
  }

  /** Starts the threads now (rather than at the first upload that needs one). */
  start(): void {
    for (let i = 0; i < this.size; i++) this.create().dispose();
  }

  /** Drops the hashes idle for longer than idleMs (see IDLE_MS). */
  sweep(now = Date.now()): void {
    for (const thread of this.threads) {
      for (const hash of thread?.hashes.values() ?? []) if (now - hash.touched > this.idleMs) hash.dispose();
    }
  }

  async close(): Promise<void> {
    const threads = this.threads.filter((thread): thread is HashThread => thread !== undefined);
    this.threads.fill(undefined);
    await Promise.all(threads.map((thread) => thread.worker.terminate()));
  }
}

class WorkerHash implements RunningHash {
  /** The slot being filled, and the bytes in it. */
  private slot: number | undefined;
  private batch: Buffer | undefined;
  private used = 0;
  private inFlight = 0;
  /** Bytes of the last update not yet copied for want of a free slot, and its caller waiting. */
  private stalled: { chunk: Buffer; offset: number; resolve: () => void; reject: (error: Error) => void } | undefined;
  private waiting: Array<{ resolve: () => void; reject: (error: Error) => void }> = [];
  private readonly digests = new Map<number, { resolve: (digest: string) => void; reject: (error: Error) => void }>();
  private seq = 0;
  private ended = false;
  private failure: Error | undefined;
  touched = Date.now();

  constructor(
    private readonly thread: HashThread,
    private readonly id: number,
  ) {}

  update(chunk: Buffer): Promise<void> | undefined {
    if (this.ended) throw new Error('update() after the hash ended');
    if (this.stalled) throw new Error('update() before the previous one was done');
    this.touched = Date.now();
    if (this.failure) return Promise.reject(this.failure);
    const offset = this.fill(chunk, 0);
    if (offset < chunk.length) {
      return new Promise<void>((resolve, reject) => {
        this.stalled = { chunk, offset, resolve, reject };
        this.thread.queue(this);
      });
    }
    if (this.inFlight < MAX_IN_FLIGHT) return undefined;
    return new Promise<void>((resolve, reject) => this.waiting.push({ resolve, reject }));
  }

  digest(): Promise<string> {
    const digest = this.ask(true);
    this.end();
    return digest;
  }

  digestSoFar(): Promise<string> {
    return this.ask(false);
  }

  dispose(): void {
    if (!this.ended) {
      this.end();
      if (!this.failure) this.thread.post({ op: 'drop', id: this.id });
    }
    // Nothing waits for ever: a writer waiting goes on (its bytes no longer count), a digest on its way fails.
    const waiting = this.stalled ? [this.stalled, ...this.waiting] : this.waiting;
    this.stalled = undefined;
    this.waiting = [];
    for (const { resolve } of waiting) resolve();
    if (this.digests.size > 0) this.fail(new Error('the hash was dropped'));
    this.thread.hashes.delete(this.id);
  }

  /** A free slot for the stalled update; false when this hash no longer wants one. */
  resume(slot: number): boolean {
    const stalled = this.stalled;
    if (!stalled || this.ended || this.failure) return false;
    this.use(slot);
    stalled.offset = this.fill(stalled.chunk, stalled.offset);
    if (stalled.offset < stalled.chunk.length) {
      this.thread.queue(this);
      return true;
    }
    this.stalled = undefined;
    if (this.inFlight < MAX_IN_FLIGHT) stalled.resolve();
    else this.waiting.push(stalled);
    return true;
  }

  /** The worker's answer about this hash. */
  settle(reply: WorkerReply): void {
    if (reply.op === 'ack') {
      this.inFlight -= 1;
      if (this.waiting.length > 0 && this.inFlight < MAX_IN_FLIGHT) {
        const waiting = this.waiting;
        this.waiting = [];
        for (const { resolve } of waiting) resolve();
      }
      return;
    }
    const pending = this.digests.get(reply.seq);
    this.digests.delete(reply.seq);
    if (this.ended && this.digests.size === 0) this.thread.hashes.delete(this.id);
    pending?.resolve(reply.digest);
  }

  /** The worker failed: whatever waits for it fails too. */
  fail(error: Error): void {
    this.failure = error;
    const waiting = this.stalled ? [this.stalled, ...this.waiting] : this.waiting;
    this.stalled = undefined;
    this.waiting = [];
    for (const { reject } of waiting) reject(error);
    for (const { reject } of this.digests.values()) reject(error);
    this.digests.clear();
  }

  /** Copies `chunk` from `offset` into slots, sending each one filled; returns how far it got (free slots ran out). */
  private fill(chunk: Buffer, offset: number): number {
    while (offset < chunk.length) {
      if (this.slot === undefined) {
        const slot = this.thread.take();
        if (slot === undefined) return offset;
        this.use(slot);
      }
      const take = Math.min(chunk.length - offset, BATCH_BYTES - this.used);
      copyIntoShared(chunk.subarray(offset, offset + take), this.batch as Buffer, this.used);
      this.used += take;
      offset += take;
      if (this.used === BATCH_BYTES) this.send();
    }
    return offset;
  }

  private use(slot: number): void {
    this.slot = slot;
    this.batch = this.thread.view(slot);
    this.used = 0;
  }

  private ask(end: boolean): Promise<string> {
    this.touched = Date.now();
    if (this.ended) return Promise.reject(new Error('the hash has ended'));
    if (this.failure) return Promise.reject(this.failure);
    if (this.used > 0) this.send();
    const seq = ++this.seq;
    const answer = new Promise<string>((resolve, reject) => this.digests.set(seq, { resolve, reject }));
    this.thread.post({ op: 'digest', id: this.id, end, seq });
    return answer;
  }

  private send(): void {
    this.thread.post({ op: 'update', id: this.id, slot: this.slot as number, length: this.used });
    this.inFlight += 1;
    this.slot = undefined;
    this.batch = undefined;
    this.used = 0;
  }

  /** No more bytes: a slot still held (not sent) goes back. */
  private end(): void {
    this.ended = true;
    if (this.slot !== undefined) {
      const slot = this.slot;
      this.slot = undefined;
      this.batch = undefined;
      if (!this.failure) this.thread.give(slot);
    }
  }
}

/**
 * Copies `source` into `target` (a view of shared memory) at `at`, with one memcpy. Buffer#copy (and
 * TypedArray#set) into shared memory copy byte by byte, with relaxed atomic stores, whenever the source and the
 * target are not aligned alike, as the slices of a request body that node's HTTP parser hands over mostly are:
 * 2 GB/s here, a third of the event loop's time with 16 pushers, against 60-80 GB/s for Buffer#fill with a
 * buffer of the region's exact length, which node does with memcpy.
 */
export function copyIntoShared(source: Buffer, target: Buffer, at: number): void {
  if (source.length > 0) target.fill(source, at, at + source.length);
}
