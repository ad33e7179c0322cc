import { Readable } from 'node:stream';
import type { ByteRange } from '@ocireg/storage';

export function s3ErrorCode(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | undefined)?.code;
  return typeof code === 'string' ? code : undefined;
}

export function isNotFound(error: unknown): boolean {
  const code = s3ErrorCode(error);
  return code === 'NoSuchKey' || code === 'NotFound' || code === 'NoSuchUpload';
}

export function assertValidRange(range: ByteRange): void {
  const { start, end } = range;
  if (!Number.isSafeInteger(start) || !Number.isSafeInteger(end) || start < 0 || end < start) {
    throw new RangeError(`invalid byte range ${start}-${end}`);
  }
}

/** Escapes a value for a query string as S3 signs it (minio's uploadPart does not escape the upload id). */
export function queryEscape(value: string): string {
  return encodeURIComponent(value).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

export function toBuffer(chunk: unknown): Buffer {
  if (Buffer.isBuffer(chunk)) return chunk;
  if (chunk instanceof Uint8Array) return Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
  if (typeof chunk === 'string') return Buffer.from(chunk);
  throw new TypeError('content streams must carry bytes');
}

/** Passes on at most `length` bytes of `source` (a server that ignores part of a Range must not leak more). */
export function limitBytes(source: Readable, length: number): Readable {
  async function* limited(): AsyncGenerator<Buffer> {
    let remaining = length;
    for await (const chunk of source) {
      const bytes = toBuffer(chunk);
      if (bytes.length >= remaining) {
        yield bytes.subarray(0, remaining);
        return;
      }
      remaining -= bytes.length;
      yield bytes;
    }
  }
  return Readable.from(limited(), { objectMode: false });
}

/**
 * A buffer of exactly one part, filled from a stream and handed out whole: the only large allocation of an
 * append, so memory stays at one part per append in progress.
 */
export class PartBuffer {
  private readonly buffer: Buffer;
  private used = 0;

  constructor(readonly capacity: number) {
    this.buffer = Buffer.allocUnsafe(capacity);
  }

  get length(): number {
    return this.used;
  }

  get full(): boolean {
    return this.used === this.capacity;
  }

  /** Copies as much of `chunk` from `offset` as fits and returns how many bytes it took. */
  fill(chunk: Buffer, offset: number): number {
    const copied = chunk.copy(this.buffer, this.used, offset, Math.min(chunk.length, offset + this.capacity - this.used));
    this.used += copied;
    return copied;
  }

  /** The bytes held so far, emptying the buffer: use them before the next `fill`. */
  take(): Buffer {
    const bytes = this.buffer.subarray(0, this.used);
    this.used = 0;
    return bytes;
  }

  /** Reads a whole stream into the buffer, which must hold exactly `expected` bytes afterwards. */
  async fillFrom(source: Readable, expected: number): Promise<void> {
    for await (const chunk of source) {
      const bytes = toBuffer(chunk);
      if (this.fill(bytes, 0) !== bytes.length) throw new Error('a tail object is larger than a part');
    }
    if (this.used !== expected) throw new Error(`a tail object has ${this.used} bytes, its append state says ${expected}`);
  }
}
