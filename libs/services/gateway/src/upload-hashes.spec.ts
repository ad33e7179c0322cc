import { createHash } from 'node:crypto';
import { InlineHash, type RunningHash } from './running-hash';
import { UploadHashes } from './upload-hashes';

/** An InlineHash that records whether it was disposed of. */
class TracedHash extends InlineHash {
  disposed = false;
  override dispose(): void {
    this.disposed = true;
  }
}

const fresh = (): RunningHash => new TracedHash();

describe('UploadHashes', () => {
  it('continues a running hash only at the offset it was left at', () => {
    const hashes = new UploadHashes();
    const first = hashes.take('u1', 0, fresh) as TracedHash;
    expect(first).toBeDefined();
    first.update(Buffer.from('abc'));
    hashes.put('u1', 3, first);
    expect(hashes.take('u1', 5, fresh)).toBeUndefined();
    // a mismatch drops the entry (and disposes of its hash): the digest will be computed from the stored object
    expect(first.disposed).toBe(true);
    expect(hashes.take('u1', 3, fresh)).toBeUndefined();
  });

  it('hands the same hash back at the right offset', async () => {
    const hashes = new UploadHashes();
    const hash = hashes.take('u2', 0, fresh) as TracedHash;
    hash.update(Buffer.from('hello '));
    hashes.put('u2', 6, hash);
    const resumed = hashes.take('u2', 6, fresh) as TracedHash;
    expect(resumed).toBe(hash);
    expect(resumed.disposed).toBe(false);
    resumed.update(Buffer.from('world'));
    expect(await resumed.digest()).toBe(createHash('sha256').update('hello world').digest('hex'));
  });

  it('forgets the oldest entries beyond its capacity, disposing of their hashes', () => {
    const hashes = new UploadHashes(2);
    const made = ['a', 'b', 'c'].map((id) => {
      const hash = new TracedHash();
      hashes.put(id, 1, hash);
      return hash;
    });
    expect(made.map((hash) => hash.disposed)).toEqual([true, false, false]);
    expect(hashes.take('a', 1, fresh)).toBeUndefined();
    expect(hashes.take('c', 1, fresh)).toBe(made[2]);
  });

  it('disposes of a hash it drops or replaces, never of one put back in its own place', () => {
    const hashes = new UploadHashes();
    const first = new TracedHash();
    hashes.put('u', 1, first);
    hashes.put('u', 2, first);
    expect(first.disposed).toBe(false);
    const second = new TracedHash();
    hashes.put('u', 3, second);
    expect(first.disposed).toBe(true);
    hashes.drop('u');
    expect(second.disposed).toBe(true);
    expect(hashes.size).toBe(0);
  });
});
