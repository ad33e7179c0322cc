import { evictSecondChance } from './second-chance';

/**
 * What an entry costs besides its bytes: the digest key (71 characters), the map's entry, the Buffer and its
 * ArrayBuffer objects. Counted, so that the budget bounds the memory of many small manifests too.
 */
export const ENTRY_OVERHEAD = 256;

/**
 * Manifest bytes by digest. Content-addressed bytes never change, so caching them is always correct; whether
 * a repository may see a manifest is still asked of the manifest service on every request.
 *
 * An entry owns its memory. A small Buffer is most often a view into a larger one: Node hands out Buffers
 * under 4 KiB from shared 8 KiB slabs (Buffer.concat of a request body, a base64 decode), and a chunk read from
 * a socket or file is a view into the read's buffer. Kept as it is, a cached 500-byte manifest kept its slab
 * alive: after 27,000 manifest PUTs the embedded registry held 39 MiB of such memory for 13 MB of cached
 * manifests (heap snapshot), three times what the cache counted, and the budget bounded only what it counted.
 * Copied, the same manifests took 11 MiB.
 */
export class ManifestCache {
  private readonly entries = new Map<string, { bytes: Buffer; used: boolean }>();
  private bytes = 0;

  constructor(private readonly maxBytes = 64 * 1024 * 1024) {}

  /** A hit only marks the entry used (see evictSecondChance): no change to the map on the way of every manifest read. */
  get(digest: string): Buffer | undefined {
    const entry = this.entries.get(digest);
    if (!entry) return undefined;
    entry.used = true;
    return entry.bytes;
  }

  set(digest: string, bytes: Buffer): void {
    if (bytes.length > this.maxBytes / 16 || this.entries.has(digest)) return;
    this.entries.set(digest, { bytes: ownCopy(bytes), used: false });
    this.bytes += bytes.length + ENTRY_OVERHEAD;
    this.evict();
  }

  private evict(): void {
    evictSecondChance(this.entries, () => this.bytes > this.maxBytes, (entry) => (this.bytes -= entry.bytes.length + ENTRY_OVERHEAD));
  }

  /** Bytes counted against the budget: the entries' bytes and their overhead. */
  get size(): number {
    return this.bytes;
  }
}

/** The bytes in a Buffer of their own (no view into a larger ArrayBuffer), copying them if need be. */
function ownCopy(bytes: Buffer): Buffer {
  if (bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength) return bytes;
  const copy = Buffer.allocUnsafeSlow(bytes.length);
  bytes.copy(copy);
  return copy;
}
