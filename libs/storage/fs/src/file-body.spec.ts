import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import { type AddressInfo, Socket } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { PassThrough, type Readable } from 'node:stream';
import { FileBody, type FileBodyOptions, READ_CHUNK } from './file-body';

const MiB = 1024 * 1024;

describe('FileBody', () => {
  let dir: string;
  let file: string;
  let content: Buffer;
  const closed: number[] = [];
  const close = async (fd: number): Promise<void> => {
    closed.push(fd);
    fs.closeSync(fd);
  };

  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'file-body-'));
    file = path.join(dir, 'blob');
    content = randomBytes(12 * MiB + 12345); // every chunk different, the last one short
    fs.writeFileSync(file, content);
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  function body(start = 0, end = content.length, options: Partial<FileBodyOptions> = {}): { body: FileBody; fd: number } {
    const fd = fs.openSync(file, 'r');
    return { body: new FileBody(fd, start, end, { inlineReads: true, close, ...options }), fd };
  }

  function isOpen(fd: number): boolean {
    try {
      fs.fstatSync(fd);
      return true;
    } catch {
      return false;
    }
  }

  async function collect(stream: Readable): Promise<Buffer[]> {
    const chunks: Buffer[] = [];
    for await (const chunk of stream) chunks.push(chunk as Buffer);
    return chunks;
  }

  /** Serves one body per request; the client reads nothing for a while, so that the socket pushes back. */
  async function fetchSlowly(make: () => FileBody): Promise<{ received: Buffer; statusCode: number }> {
    const server = http.createServer((_request, response) => {
      response.writeHead(200, { 'content-type': 'application/octet-stream' });
      make().pipe(response);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const { port } = server.address() as AddressInfo;
      return await new Promise((resolve, reject) => {
        http.get({ host: '127.0.0.1', port, path: '/' }, (response) => {
          response.pause();
          setTimeout(() => {
            collect(response).then((chunks) => resolve({ received: Buffer.concat(chunks), statusCode: response.statusCode ?? 0 }), reject);
          }, 300);
        }).on('error', reject);
      });
    } finally {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
  }

  const sha = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');

  it('piped into an HTTP response, sends every byte right while reusing its chunks once the socket has taken them', async () => {
    const allocations = jest.spyOn(Buffer, 'allocUnsafeSlow');
    try {
      const { received, statusCode } = await fetchSlowly(() => body().body);
      expect(statusCode).toBe(200);
      expect(received.length).toBe(content.length);
      expect(sha(received)).toBe(sha(content));
      // 13 chunks went out of at most two buffers (fewer when earlier bodies left idle ones).
      expect(allocations.mock.calls.filter(([size]) => size === READ_CHUNK).length).toBeLessThanOrEqual(2);
    } finally {
      allocations.mockRestore();
    }
  });

  it('piped into a socket from the middle of the file, sends exactly the range', async () => {
    const start = 3 * MiB - 7;
    const end = 9 * MiB + 11;
    const { received } = await fetchSlowly(() => body(start, end).body);
    expect(sha(received)).toBe(sha(content.subarray(start, end)));
  });

  it('gives any other consumer fresh chunks it may keep', async () => {
    const { body: fileBody, fd } = body();
    const chunks = await collect(fileBody.pipe(new PassThrough()));
    expect(chunks.length).toBeGreaterThan(2);
    expect(sha(Buffer.concat(chunks))).toBe(sha(content));
    await new Promise((resolve) => setImmediate(resolve));
    expect(isOpen(fd)).toBe(false);
  });

  it('tells every byte observer the size of each chunk sent', async () => {
    const counts = [0, 0];
    const { body: fileBody } = body(10, 5 * MiB);
    fileBody.observeBytes((bytes) => (counts[0] += bytes));
    fileBody.observeBytes((bytes) => (counts[1] += bytes));
    await collect(fileBody);
    expect(counts).toEqual([5 * MiB - 10, 5 * MiB - 10]);
  });

  it('reads through the thread pool when told to, and after an inline read that was slow (the disk)', async () => {
    const pooled: number[] = [];
    const readAt = (fd: number, buffer: Buffer, length: number, position: number) => {
      pooled.push(position);
      return Promise.resolve(fs.readSync(fd, buffer, 0, length, position));
    };
    const always = body(0, content.length, { inlineReads: false, readAt }).body;
    expect(sha(Buffer.concat(await collect(always)))).toBe(sha(content));
    expect(pooled).toHaveLength(13);

    pooled.length = 0;
    const switching = body(0, content.length, { inlineReads: true, readAt, slowReadMs: -1 }).body;
    expect(sha(Buffer.concat(await collect(switching)))).toBe(sha(content));
    expect(pooled).toEqual(Array.from({ length: 12 }, (_, i) => (i + 1) * READ_CHUNK));
  });

  it('destroyed while a read through the pool is under way, closes the file only once that read has ended', async () => {
    let finishRead: () => void = () => undefined;
    const readAt = (fd: number, buffer: Buffer, length: number, position: number) =>
      new Promise<number>((resolve) => (finishRead = () => resolve(fs.readSync(fd, buffer, 0, length, position))));
    const { body: fileBody, fd } = body(0, content.length, { inlineReads: false, readAt });
    fileBody.resume();
    await new Promise((resolve) => setImmediate(resolve));
    const closesBefore = closed.length;
    fileBody.destroy();
    await new Promise((resolve) => setImmediate(resolve));
    expect(isOpen(fd)).toBe(true);
    expect(closed.length).toBe(closesBefore);
    finishRead();
    await new Promise((resolve) => fileBody.once('close', resolve));
    expect(closed.slice(closesBefore)).toEqual([fd]);
    expect(isOpen(fd)).toBe(false);
  });

  it('fails when the file ends before the bytes it was to send', async () => {
    const { body: fileBody } = body(0, content.length + 10);
    await expect(collect(fileBody)).rejects.toThrow(/file ended at byte/);
  });

  it('a write the socket fails before it is marked destroyed stops the body without making it fail', async () => {
    // The client resetting the connection reaches the write callback first, the socket's 'close' later.
    const socket = new Socket();
    const writes: number[] = [];
    socket.write = ((chunk: Buffer, callback: (error?: Error | null) => void) => {
      writes.push(chunk.length);
      process.nextTick(() => callback(Object.assign(new Error('write ECONNRESET'), { code: 'ECONNRESET' })));
      return true;
    }) as typeof socket.write;
    const { body: fileBody, fd } = body();
    let failed: unknown;
    fileBody.on('error', (error) => (failed = error));
    fileBody.pipe(socket);
    await new Promise((resolve) => fileBody.once('close', resolve));
    expect(socket.destroyed).toBe(false);
    expect(writes.length).toBeGreaterThan(0);
    expect(writes.length).toBeLessThan(content.length / READ_CHUNK); // it stopped at the failure
    expect(isOpen(fd)).toBe(false);
    expect(failed).toBeUndefined();
    socket.destroy();
  });

  it('stops and closes the file when the client goes away (and refuses a second destination)', async () => {
    let opened: { body: FileBody; fd: number } | undefined;
    let pipedAgain: unknown;
    let failed: unknown;
    const server = http.createServer((_request, response) => {
      response.writeHead(200);
      opened = body();
      opened.body.on('error', (error) => (failed = error));
      opened.body.pipe(response);
      try {
        opened.body.pipe(new PassThrough());
      } catch (error) {
        pipedAgain = error;
      }
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const { port } = server.address() as AddressInfo;
      await new Promise<void>((resolve) => {
        const request = http.get({ host: '127.0.0.1', port, path: '/' }, (response) => {
          response.once('data', () => {
            request.destroy();
            resolve();
          });
        });
        request.on('error', () => undefined);
      });
      const { body: fileBody, fd } = opened as { body: FileBody; fd: number };
      if (!fileBody.closed) await new Promise((resolve) => fileBody.once('close', resolve));
      expect(fileBody.destroyed).toBe(true);
      expect(isOpen(fd)).toBe(false);
      expect(String(pipedAgain)).toMatch(/cannot be piped again/);
      expect(failed).toBeUndefined(); // the client leaving is not the body's failure
    } finally {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
  });
});
