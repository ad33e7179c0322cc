import { PassThrough, Readable } from 'node:stream';
import { tapBytes } from './byte-taps';

async function drain(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

describe('tapBytes', () => {
  it('gives every counter of one body the bytes through a single stage, and tells each when it ends', async () => {
    const owner = {};
    const body = Readable.from([Buffer.from('hello '), Buffer.from('world')]);
    const counts = [0, 0];
    const ended: string[] = [];
    const first = tapBytes(owner, body, (n) => (counts[0] += n), () => ended.push('first'));
    const second = tapBytes(owner, first, (n) => (counts[1] += n), () => ended.push('second'));
    expect(second).toBe(first);
    expect((await drain(second)).toString()).toBe('hello world');
    await new Promise((resolve) => setImmediate(resolve));
    expect(counts).toEqual([11, 11]);
    expect(ended).toEqual(['first', 'second']);
  });

  it('a failing body fails the tapped stream; a tapped stream closed early destroys the body', async () => {
    const failing = new PassThrough();
    const tapped = tapBytes({}, failing, () => undefined);
    const drained = drain(tapped);
    failing.destroy(new Error('socket reset'));
    await expect(drained).rejects.toThrow('socket reset');

    const body = new PassThrough();
    const early = tapBytes({}, body, () => undefined);
    early.destroy();
    await new Promise((resolve) => setImmediate(resolve));
    expect(body.destroyed).toBe(true);
  });

  it('subscribes the counters of a body that counts its own bytes, and hands that body on unchanged', async () => {
    const listeners: Array<(bytes: number) => void> = [];
    const body = Object.assign(Readable.from([Buffer.from('hello '), Buffer.from('world')]), {
      observeBytes: (listener: (bytes: number) => void) => listeners.push(listener),
    });
    body.on('data', (chunk: Buffer) => listeners.forEach((listener) => listener(chunk.length)));
    const owner = {};
    const counts = [0, 0];
    const ended: string[] = [];
    expect(tapBytes(owner, body, (n) => (counts[0] += n), () => ended.push('first'))).toBe(body);
    expect(tapBytes(owner, body, (n) => (counts[1] += n), () => ended.push('second'))).toBe(body);
    await new Promise((resolve) => body.once('close', resolve));
    expect(counts).toEqual([11, 11]);
    expect(ended).toEqual(['first', 'second']);
  });
});
