import { createHash, randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createClient, send, stopHashing } from './http';

describe('hashing pulled bodies', () => {
  let server: Server;
  const bodies = new Map<string, Buffer>();

  beforeAll(async () => {
    server = createServer((req, res) => {
      if (req.url === '/cut') {
        // Declares 10 MiB, sends 5, and goes away.
        res.writeHead(200, { 'content-length': 10 * 1024 * 1024 });
        res.write(randomBytes(5 * 1024 * 1024), () => res.destroy());
        return;
      }
      const body = bodies.get(req.url ?? '') as Buffer;
      res.writeHead(200, { 'content-length': body.length });
      // Odd-sized writes, so that no batch boundary falls on a chunk boundary.
      let offset = 0;
      const write = (): void => {
        while (offset < body.length) {
          const end = Math.min(body.length, offset + 70_001);
          const more = res.write(body.subarray(offset, end));
          offset = end;
          if (!more) return void res.once('drain', write);
        }
        res.end();
      };
      write();
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
  });
  afterAll(async () => {
    await stopHashing();
    server.close();
    await once(server, 'close');
  });

  const sha256 = (bytes: Buffer) => `sha256:${createHash('sha256').update(bytes).digest('hex')}`;

  it('gives the digest of every byte, bodies of 4 MiB and more hashed on the worker thread and smaller ones inline, several at once', async () => {
    const sizes = { '/small': 1000, '/one': 1024 * 1024, '/odd': 5 * 1024 * 1024 + 12_345, '/large': 40 * 1024 * 1024 + 1 };
    for (const [path, size] of Object.entries(sizes)) bodies.set(path, randomBytes(size));
    const client = createClient(`http://127.0.0.1:${(server.address() as AddressInfo).port}`, 4);
    try {
      const answers = await Promise.all(Object.keys(sizes).map((path) => send(client, 'GET', path, { response: 'hash' })));
      Object.keys(sizes).forEach((path, i) => {
        const body = bodies.get(path) as Buffer;
        expect(answers[i]?.length).toBe(body.length);
        expect(answers[i]?.digest).toBe(sha256(body));
      });
    } finally {
      client.agent.destroy();
    }
  }, 30_000);

  it('fails a body cut short, hashed on the worker thread, and goes on hashing the next', async () => {
    const client = createClient(`http://127.0.0.1:${(server.address() as AddressInfo).port}`, 2);
    try {
      await expect(send(client, 'GET', '/cut', { response: 'hash' })).rejects.toThrow();
      bodies.set('/after', randomBytes(6 * 1024 * 1024));
      const after = await send(client, 'GET', '/after', { response: 'hash' });
      expect(after.digest).toBe(sha256(bodies.get('/after') as Buffer));
    } finally {
      client.agent.destroy();
    }
  }, 30_000);
});
