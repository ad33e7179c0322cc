import { type Readable, Transform, TransformCallback, finished } from 'node:stream';
import type { RunningHash } from './running-hash';

interface Entry {
  offset: number;
  hash: RunningHash;
  touched: number;
}

/**
 * The running SHA-256 of uploads this process has seen from their first byte. It is only an optimisation,
 * never state: an upload whose previous chunk went to another replica (or was written before a restart)
 * has no entry here, and its digest is then computed once from the completed object at commit time.
 * Node's SHA-256 (OpenSSL) is several times faster than any hash whose state can be serialised, so the
 * common case (one process sees the whole upload) hashes each byte once, at full speed. A hash that leaves
 * (evicted, replaced, found at the wrong offset, dropped) is disposed of; one taken is the taker's to finish.
 */
export class UploadHashes {
  private readonly entries = new Map<string, Entry>();

  constructor(
    private readonly maxEntries = 4096,
    private readonly maxAgeMs = 60 * 60 * 1000,
  ) {}

  /**
   * Takes the running hash of an upload at `offset` (a fresh one from `create` at 0); undefined when this
   * process has none.
   */
  take(uploadId: string, offset: number, create: () => RunningHash): RunningHash | undefined {
    const entry = this.entries.get(uploadId);
    this.entries.delete(uploadId);
    if (entry && entry.offset === offset && offset > 0) return entry.hash;
    entry?.hash.dispose();
    return offset === 0 ? create() : undefined;
  }

  /** Whether this process has the running hash of an upload (it saw its bytes so far). */
  has(uploadId: string): boolean {
    return this.entries.has(uploadId);
  }

  /** The running hash of an upload and the offset it covers, left in place (hash a copy of it). */
  peek(uploadId: string): { offset: number; hash: RunningHash } | undefined {
    const entry = this.entries.get(uploadId);
    return entry && { offset: entry.offset, hash: entry.hash };
  }

  drop(uploadId: string): void {
    this.entries.get(uploadId)?.hash.dispose();
    this.entries.delete(uploadId);
  }

  put(uploadId: string, offset: number, hash: RunningHash): void {
    const replaced = this.entries.get(uploadId)?.hash;
    if (replaced !== hash) replaced?.dispose();
    this.entries.delete(uploadId);
    this.entries.set(uploadId, { offset, hash, touched: Date.now() });
    this.evict();
  }

  get size(): number {
    return this.entries.size;
  }

  private evict(): void {
    const oldest = Date.now() - this.maxAgeMs;
    for (const [id, entry] of this.entries) {
      if (this.entries.size <= this.maxEntries && entry.touched >= oldest) break;
      entry.hash.dispose();
      this.entries.delete(id);
    }
  }
}

/** Bytes a stage of the upload pipeline may hold: enough for the socket to keep flowing while the disk writes. */
const STREAM_BUFFER = 1024 * 1024;
/** The same, in chunks as the socket hands them over (64 KiB each). */
const STREAM_BUFFER_CHUNKS = 16;

/** Counts (and optionally hashes) the bytes flowing through, without copying them. */
export class MeteredStream extends Transform {
  bytes = 0;

  constructor(private hash?: RunningHash) {
    // Chunks come out as they went in (object mode on the readable side): a reader never gets them
    // concatenated into a fresh buffer, which would double the bytes allocated per upload.
    super({ writableHighWaterMark: STREAM_BUFFER, readableObjectMode: true, readableHighWaterMark: STREAM_BUFFER_CHUNKS });
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.bytes += chunk.length;
    // A hash on a worker thread that is behind: the next chunk waits (the socket is read no faster).
    const behind = this.hash?.update(chunk);
    if (!behind) return callback(null, chunk);
    // A hashing thread that failed is not the upload's failure: the bytes go on unhashed, and the digest of
    // the failed hash (which rejects) is computed from the stored bytes instead.
    behind.then(
      () => callback(null, chunk),
      () => {
        this.hash = undefined;
        callback(null, chunk);
      },
    );
  }
}

/**
 * Pipes a request body into its meter, as `pipeline(body, meter)` would: resolves once the meter has taken every
 * byte; when either fails (or the body ends before its end: the client went away), both are destroyed and this
 * rejects. Without pipeline's AbortController, which it aborts at the end of every pipeline, successful or not:
 * the abort builds a DOMException and captures its stack, 2.5% of the registry's CPU on a push of a small blob.
 */
export function meterBody(body: Readable, meter: MeteredStream): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    let settled = false;
    const settle = (error?: Error | null): void => {
      if (settled) return;
      settled = true;
      stopBody();
      stopMeter();
      if (!error) return resolve();
      body.unpipe(meter);
      body.destroy();
      meter.destroy(error);
      reject(error);
    };
    const stopBody = finished(body, { writable: false }, (error) => {
      if (error) settle(error);
    });
    const stopMeter = finished(meter, { readable: false }, settle);
    // Ended by hand, as pipeline does: a body that has already ended (nothing left to read) ends the meter too.
    body.pipe(meter, { end: false });
    if (body.readableEnded) process.nextTick(() => meter.end());
    else body.once('end', () => meter.end());
  });
}
