/**
 * Manifest bytes by digest. Content-addressed bytes never change, so caching them is always correct; whether
 * a repository may see a manifest is still asked of the manifest service on every request.
 */
export class ManifestCache {
  private readonly entries = new Map<string, Buffer>();
  private bytes = 0;

  constructor(private readonly maxBytes = 64 * 1024 * 1024) {}

  get(digest: string): Buffer | undefined {
    const bytes = this.entries.get(digest);
    if (bytes) {
      this.entries.delete(digest);
      this.entries.set(digest, bytes);
    }
    return bytes;
  }

  set(digest: string, bytes: Buffer): void {
    if (bytes.length > this.maxBytes / 16 || this.entries.has(digest)) return;
    this.entries.set(digest, bytes);
    this.bytes += bytes.length;
    for (const [oldest, value] of this.entries) {
      if (this.bytes <= this.maxBytes) break;
      this.entries.delete(oldest);
      this.bytes -= value.length;
    }
  }
}
