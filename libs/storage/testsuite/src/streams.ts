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

/** A stream of `size` pattern bytes in chunks, generated lazily (never held in memory as a whole). */
export function generated(size: number, seed = 1, chunkSize = MiB, hash?: Hash): Readable {
  async function* chunks(): AsyncGenerator<Buffer> {
    for (let offset = 0; offset < size; offset += chunkSize) {
      const chunk = pattern(Math.min(chunkSize, size - offset), seed, offset);
      hash?.update(chunk);
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

export async function hashStream(stream: Readable): Promise<{ sha256: string; size: number }> {
  const hash = createHash('sha256');
  let size = 0;
  for await (const chunk of stream) {
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

/** Samples the process RSS while `work` runs and returns the largest growth over the starting value. */
export async function peakRssGrowth<T>(work: () => Promise<T>): Promise<{ result: T; growth: number }> {
  const baseline = process.memoryUsage.rss();
  let peak = baseline;
  const timer = setInterval(() => {
    peak = Math.max(peak, process.memoryUsage.rss());
  }, 10);
  try {
    const result = await work();
    peak = Math.max(peak, process.memoryUsage.rss());
    return { result, growth: peak - baseline };
  } finally {
    clearInterval(timer);
  }
}
