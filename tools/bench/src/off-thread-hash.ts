/**
 * SHA-256 of a response body on a worker thread. Hashing every pulled byte on the load generator's one
 * thread made that thread the ceiling of every large pull (its CPU: 0.7 ms of hashing per MB on top of 1 ms of
 * receiving), so that both registries ran at the client's speed, whichever was faster. The body is copied into
 * 1 MiB batches handed over (transferred, not copied again) to one worker; at most MAX_IN_FLIGHT batches of a
 * body wait for it, beyond which the response is paused (constant memory however large the blob).
 */
import type { IncomingMessage } from 'node:http';
import { Worker } from 'node:worker_threads';

const BATCH = 1024 * 1024;
const MAX_IN_FLIGHT = 8;

type HashReply = { id: number; ack: true; data: ArrayBuffer } | { id: number; digest: string };

/**
 * The worker: one SHA-256 per open id, fed batches ({ id, data, length }) it hands back when hashed (the
 * same memory serves again: a fresh 1 MiB per batch cost page faults), finished by { id, end: true } with the
 * hex digest. Its source is here, so that it runs the same from dist and under jest.
 */
const WORKER_SOURCE = `
const { parentPort } = require('node:worker_threads');
const { createHash } = require('node:crypto');
const hashes = new Map();
parentPort.on('message', (message) => {
  let hash = hashes.get(message.id);
  if (!hash) {
    hash = createHash('sha256');
    hashes.set(message.id, hash);
  }
  if (message.data) {
    hash.update(new Uint8Array(message.data, 0, message.length));
    parentPort.postMessage({ id: message.id, ack: true, data: message.data }, [message.data]);
  } else {
    hashes.delete(message.id);
    parentPort.postMessage({ id: message.id, digest: hash.digest('hex') });
  }
});
`;

interface Open {
  inFlight: number;
  paused?: IncomingMessage;
  done: (digest: string) => void;
  fail: (error: Error) => void;
}

export class OffThreadHasher {
  private worker: Worker | undefined;
  private readonly open = new Map<number, Open>();
  private readonly spare: ArrayBuffer[] = [];
  private next = 0;

  /** Hashes what `response` sends; resolves with the hex digest once it has ended. */
  digestOf(response: IncomingMessage): Promise<string> {
    const worker = this.start();
    const id = ++this.next;
    return new Promise<string>((resolve, reject) => {
      // The worker answers with the digest (done) once the end is sent; a worker that dies fails it (see start()).
      const state: Open = { inFlight: 0, done: resolve, fail: reject };
      this.open.set(id, state);
      let batch = this.batch();
      let used = 0;
      const send = (data: ArrayBuffer, length: number): void => {
        state.inFlight += 1;
        worker.postMessage({ id, data, length }, [data]);
        if (state.inFlight >= MAX_IN_FLIGHT && !response.isPaused()) {
          response.pause();
          state.paused = response;
        }
      };
      response.on('data', (chunk: Buffer) => {
        for (let offset = 0; offset < chunk.length; ) {
          const take = Math.min(chunk.length - offset, BATCH - used);
          chunk.copy(batch, used, offset, offset + take);
          used += take;
          offset += take;
          if (used === BATCH) {
            send(batch.buffer as ArrayBuffer, used);
            batch = this.batch();
            used = 0;
          }
        }
      });
      response.once('error', (error) => {
        this.open.delete(id);
        worker.postMessage({ id, end: true }); // the worker drops the unfinished hash
        reject(error);
      });
      response.once('end', () => {
        if (used > 0) send(batch.buffer as ArrayBuffer, used);
        else this.spare.push(batch.buffer as ArrayBuffer);
        worker.postMessage({ id, end: true });
      });
    });
  }

  /** A batch buffer: one the worker handed back, else a new one (a Buffer over its own ArrayBuffer). */
  private batch(): Buffer {
    const spare = this.spare.pop();
    return spare ? Buffer.from(spare) : Buffer.allocUnsafeSlow(BATCH);
  }

  async close(): Promise<void> {
    const worker = this.worker;
    this.worker = undefined;
    await worker?.terminate();
  }

  private start(): Worker {
    if (this.worker) return this.worker;
    const worker = new Worker(WORKER_SOURCE, { eval: true });
    worker.unref();
    // A worker that dies fails every digest it was computing (none waits for ever), and the next starts another.
    worker.once('error', (error) => {
      if (this.worker === worker) this.worker = undefined;
      for (const state of this.open.values()) state.fail(error);
      this.open.clear();
    });
    worker.on('message', (reply: HashReply) => {
      if ('ack' in reply) this.spare.push(reply.data);
      const state = this.open.get(reply.id);
      if (!state) return;
      if ('ack' in reply) {
        state.inFlight -= 1;
        if (state.paused && state.inFlight < MAX_IN_FLIGHT / 2) {
          state.paused.resume();
          state.paused = undefined;
        }
        return;
      }
      this.open.delete(reply.id);
      state.done(reply.digest);
    });
    this.worker = worker;
    return worker;
  }
}
