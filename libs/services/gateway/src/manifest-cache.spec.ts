import { ENTRY_OVERHEAD, ManifestCache } from './manifest-cache';

describe('ManifestCache', () => {
  const digest = (n: number) => `sha256:${n.toString(16).padStart(64, '0')}`;

  it('keeps a small manifest in memory of its own, not the larger buffer it was a view into', () => {
    const cache = new ManifestCache();
    const slab = Buffer.alloc(64 * 1024, 7);
    const manifest = slab.subarray(1000, 1500);
    cache.set(digest(1), manifest);
    const cached = cache.get(digest(1)) as Buffer;
    expect(cached.equals(manifest)).toBe(true);
    expect(cached.buffer.byteLength).toBe(500);
    // A pooled Buffer (Node's 8 KiB slabs for small allocations) is copied out too.
    const pooled = Buffer.from('{"schemaVersion":2}');
    expect(pooled.buffer.byteLength).toBeGreaterThan(pooled.length);
    cache.set(digest(2), pooled);
    expect((cache.get(digest(2)) as Buffer).buffer.byteLength).toBe(pooled.length);
  });

  it('keeps a buffer that owns its memory as it is', () => {
    const cache = new ManifestCache();
    const own = Buffer.allocUnsafeSlow(300).fill(1);
    cache.set(digest(1), own);
    expect(cache.get(digest(1))).toBe(own);
  });

  it('counts each entry with its overhead and evicts the least recently used beyond the budget', () => {
    const entry = 100;
    const cache = new ManifestCache(20 * (entry + ENTRY_OVERHEAD));
    for (let n = 1; n <= 20; n++) cache.set(digest(n), Buffer.alloc(entry, n));
    expect(cache.size).toBe(20 * (entry + ENTRY_OVERHEAD));
    cache.get(digest(1));
    cache.set(digest(21), Buffer.alloc(entry, 21));
    expect(cache.get(digest(2))).toBeUndefined();
    expect([1, 3, 20, 21].map((n) => cache.get(digest(n))?.[0])).toEqual([1, 3, 20, 21]);
    expect(cache.size).toBe(20 * (entry + ENTRY_OVERHEAD));
  });

  it('does not keep a manifest larger than a sixteenth of the budget', () => {
    const cache = new ManifestCache(16 * 1024);
    cache.set(digest(1), Buffer.alloc(1025));
    expect(cache.get(digest(1))).toBeUndefined();
    expect(cache.size).toBe(0);
  });
});
