/**
 * Blob content generated on the fly and never held whole in memory: a unique 64-byte prefix followed by one
 * shared random 1 MiB pattern repeated. Unique prefixes make every blob's digest unique (no dedup), and the
 * digest is computed before any timing starts.
 */
import { createHash, randomBytes } from 'node:crypto';

export const PREFIX_BYTES = 64;
export const PATTERN_BYTES = 1024 * 1024;

let sharedPattern: Buffer | undefined;

export function pattern(): Buffer {
  sharedPattern ??= randomBytes(PATTERN_BYTES);
  return sharedPattern;
}

export interface BlobSpec {
  size: number;
  prefix: Buffer;
  digest: string;
}

/** The bytes [start, end) of a blob, as views on the prefix and the pattern (no copy). */
export function* slices(blob: Pick<BlobSpec, 'size' | 'prefix'>, start = 0, end = blob.size, source = pattern()): Generator<Buffer> {
  let offset = start;
  const prefixLength = Math.min(blob.prefix.length, blob.size);
  while (offset < end) {
    if (offset < prefixLength) {
      const stop = Math.min(prefixLength, end);
      yield blob.prefix.subarray(offset, stop);
      offset = stop;
      continue;
    }
    const at = (offset - prefixLength) % source.length;
    const stop = Math.min(end, offset + (source.length - at));
    yield source.subarray(at, at + (stop - offset));
    offset = stop;
  }
}

export function uniquePrefix(label: string): Buffer {
  const prefix = Buffer.alloc(PREFIX_BYTES, 0x20);
  const text = `${label} ${randomBytes(12).toString('hex')}`;
  prefix.write(text.slice(0, PREFIX_BYTES));
  return prefix;
}

export function sha256Of(chunks: Iterable<Buffer>): string {
  const hash = createHash('sha256');
  for (const chunk of chunks) hash.update(chunk);
  return `sha256:${hash.digest('hex')}`;
}

/** A new blob of `size` bytes with a unique prefix, its digest computed (this costs one pass of hashing). */
export function makeBlob(size: number, label: string): BlobSpec {
  const prefix = uniquePrefix(label);
  return { size, prefix, digest: sha256Of(slices({ size, prefix })) };
}
