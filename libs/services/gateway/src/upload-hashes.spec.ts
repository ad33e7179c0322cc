import { createHash } from 'node:crypto';
import { UploadHashes } from './upload-hashes';

describe('UploadHashes', () => {
  it('continues a running hash only at the offset it was left at', () => {
    const hashes = new UploadHashes();
    const first = hashes.take('u1', 0);
    expect(first).toBeDefined();
    first?.update('abc');
    hashes.put('u1', 3, first!);
    expect(hashes.take('u1', 5)).toBeUndefined();
    // a mismatch drops the entry: the upload's digest will be computed from the stored object
    expect(hashes.take('u1', 3)).toBeUndefined();
  });

  it('hands the same hash back at the right offset', () => {
    const hashes = new UploadHashes();
    const hash = hashes.take('u2', 0)!;
    hash.update('hello ');
    hashes.put('u2', 6, hash);
    const resumed = hashes.take('u2', 6)!;
    resumed.update('world');
    expect(resumed.digest('hex')).toBe(createHash('sha256').update('hello world').digest('hex'));
  });

  it('forgets the oldest entries beyond its capacity', () => {
    const hashes = new UploadHashes(2);
    for (const id of ['a', 'b', 'c']) hashes.put(id, 1, createHash('sha256'));
    expect(hashes.take('a', 1)).toBeUndefined();
    expect(hashes.take('c', 1)).toBeDefined();
  });
});
