import { createHash } from 'node:crypto';
import { PassThrough, Readable } from 'node:stream';
import { InlineHash, type RunningHash } from './running-hash';
import { MeteredStream, UploadHashes, meterBody } from './upload-hashes';

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

describe('meterBody', () => {
  /** Reads the meter as the store does, collecting what it hands over. */
  async function drain(meter: MeteredStream): Promise<Buffer> {
    const chunks: Buffer[] = [];
    for await (const chunk of meter) chunks.push(chunk as Buffer);
    return Buffer.concat(chunks);
  }

  it('resolves once the meter has taken every byte of the body, hashed', async () => {
    const parts = [Buffer.from('hello '), Buffer.from('wor'), Buffer.from('ld')];
    const hash = new InlineHash();
    const meter = new MeteredStream(hash);
    const [, received] = await Promise.all([meterBody(Readable.from(parts), meter), drain(meter)]);
    expect(received.toString()).toBe('hello world');
    expect(meter.bytes).toBe(11);
    expect(await hash.digest()).toBe(createHash('sha256').update('hello world').digest('hex'));
  });

  it('lets the bytes through when its hash fails (a hashing thread that died), and stops feeding that hash', async () => {
    const fed: number[] = [];
    const failing: RunningHash = {
      update: (chunk) => {
        fed.push(chunk.length);
        return Promise.reject(new Error('the hashing thread exited'));
      },
      digest: () => Promise.reject(new Error('the hashing thread exited')),
      digestSoFar: () => Promise.reject(new Error('the hashing thread exited')),
      dispose: () => undefined,
    };
    const meter = new MeteredStream(failing);
    const [, received] = await Promise.all([meterBody(Readable.from([Buffer.from('abc'), Buffer.from('de')]), meter), drain(meter)]);
    expect(received.toString()).toBe('abcde');
    expect(meter.bytes).toBe(5);
    expect(fed).toEqual([3]);
  });

  it('ends the meter of a body that has already ended', async () => {
    const body = Readable.from([]);
    await new Promise((resolve) => body.once('end', resolve).resume());
    const meter = new MeteredStream();
    const [, received] = await Promise.all([meterBody(body, meter), drain(meter)]);
    expect(received.length).toBe(0);
  });

  it('rejects and destroys the meter when the body fails or stops before its end (the client went away)', async () => {
    const failing = new PassThrough();
    const meter = new MeteredStream();
    const metering = meterBody(failing, meter);
    const draining = drain(meter);
    failing.write('abc');
    failing.destroy(new Error('socket hang up'));
    await expect(metering).rejects.toThrow('socket hang up');
    await expect(draining).rejects.toThrow('socket hang up');
    expect(meter.destroyed).toBe(true);

    const cut = new PassThrough();
    const other = new MeteredStream();
    const cutting = meterBody(cut, other);
    const drainingOther = drain(other);
    cut.write('abc');
    cut.destroy();
    await expect(cutting).rejects.toThrow(/premature close/i);
    await expect(drainingOther).rejects.toThrow(/premature close/i);
    expect(other.destroyed).toBe(true);
  });

  it('rejects and destroys the body when the reader of the meter gives up', async () => {
    const body = new PassThrough();
    const meter = new MeteredStream();
    const metering = meterBody(body, meter);
    body.write('abc');
    meter.destroy(new Error('disk full'));
    await expect(metering).rejects.toThrow('disk full');
    expect(body.destroyed).toBe(true);
  });
});
