import { type Hash, createHash } from 'node:crypto';
import { Readable } from 'node:stream';

export const MiB = 1024 * 1024;

/** Deterministic, non-repeating-looking bytes: the same (seed, offset) always gives the same byte. */
export function pattern(size: number, seed = 1, offset = 0): Buffer {
  const buffer = Buffer.allocUnsafe(size);
  for (let i = 0; i < size; i += 1) {
    const n = offset + i;
    buffer[i] = (n * 31 + seed * 17 + (n >>> 8) * 7 + (n >>> 16) * 13) & 0xff;
  }
  return buffer;
}

export function sha256(data: Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}

/**
 * A stream of `size` pattern bytes in chunks, generated lazily (never held in memory as a whole), fed to `hash`;
 * `onChunk` runs before each chunk is made.
 */
export function generated(size: number, seed: number, hash: Hash, onChunk: () => void = () => undefined, chunkSize = MiB): Readable {
  async function* chunks(): AsyncGenerator<Buffer> {
    for (let offset = 0; offset < size; offset += chunkSize) {
      onChunk();
      const chunk = pattern(Math.min(chunkSize, size - offset), seed, offset);
      hash.update(chunk);
      yield chunk;
    }
  }
  return Readable.from(chunks(), { objectMode: false });
}

/** A stream that delivers `bytes` of `data` in small chunks, then fails (a client dropping mid-upload). */
export function failingAfter(data: Buffer, bytes: number, chunkSize = 64 * 1024): Readable {
  async function* chunks(): AsyncGenerator<Buffer> {
    for (let offset = 0; offset < bytes; offset += chunkSize) {
      yield data.subarray(offset, Math.min(offset + chunkSize, bytes));
      await new Promise((resolve) => setImmediate(resolve));
    }
    throw new Error('simulated client disconnect');
  }
  return Readable.from(chunks(), { objectMode: false });
}

/**
 * A stream that delivers `first`, then waits until `resume` is called before delivering `rest`.
 * `paused` resolves once the consumer has taken `first` and asked for more.
 */
export function pausedAfter(first: Buffer, rest: Buffer): { stream: Readable; paused: Promise<void>; resume: () => void } {
  let reached!: () => void;
  let resume!: () => void;
  const paused = new Promise<void>((resolve) => (reached = resolve));
  const gate = new Promise<void>((resolve) => (resume = resolve));
  async function* chunks(): AsyncGenerator<Buffer> {
    yield first;
    reached();
    await gate;
    yield rest;
  }
  return { stream: Readable.from(chunks(), { objectMode: false }), paused, resume };
}

export function fromBuffer(data: Buffer, chunkSize = 256 * 1024): Readable {
  async function* chunks(): AsyncGenerator<Buffer> {
    for (let offset = 0; offset < data.length; offset += chunkSize) yield data.subarray(offset, offset + chunkSize);
  }
  return Readable.from(chunks(), { objectMode: false });
}

export async function readAll(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk as Uint8Array));
  return Buffer.concat(chunks);
}

export async function hashStream(stream: Readable, onChunk: () => void = () => undefined): Promise<{ sha256: string; size: number }> {
  const hash = createHash('sha256');
  let size = 0;
  for await (const chunk of stream) {
    onChunk();
    const buffer = chunk as Buffer;
    hash.update(buffer);
    size += buffer.length;
  }
  return { sha256: hash.digest('hex'), size };
}

export async function collect(keys: AsyncIterable<string>): Promise<string[]> {
  const result: string[] = [];
  for await (const key of keys) result.push(key);
  return result.sort();
}
