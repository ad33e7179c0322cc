import { Agent, request as httpRequest } from 'node:http';
import { RunMode, TestRegistry, randomBlob, startRegistry } from '@ocireg/testing';

interface Answer {
  status: number;
  connection: string | undefined;
  /** Whether the whole body had been sent when the answer came. */
  afterBody: boolean;
}

describe.each<RunMode>(['embedded', 'distributed'])('a refused chunk whose body is still coming (%s)', (mode) => {
  let registry: TestRegistry;

  beforeAll(async () => {
    registry = await startRegistry(mode);
  }, 120_000);
  afterAll(async () => registry?.stop());

  it('is answered once its body has arrived, on a connection that stays open (closing it under the client cut the client off)', async () => {
    const start = await fetch(`${registry.url}/v2/refused/body/blobs/uploads/`, { method: 'POST' });
    expect(start.status).toBe(202);
    const location = new URL(start.headers.get('location') ?? '', registry.url);
    const blob = randomBlob(2 * 1024 * 1024);
    let sentAll = false;
    const answer = await new Promise<Answer>((resolve, reject) => {
      // Out of order (the upload is at 0): refused before a byte of the body is read.
      const patch = httpRequest(location, {
        method: 'PATCH',
        headers: { 'content-type': 'application/octet-stream', 'content-length': blob.size, 'content-range': `100-${99 + blob.size}` },
      });
      patch.on('response', (response) => {
        response.resume();
        resolve({ status: response.statusCode ?? 0, connection: response.headers.connection, afterBody: sentAll });
      });
      patch.on('error', reject);
      patch.write(blob.bytes.subarray(0, blob.size / 2));
      setTimeout(() => {
        sentAll = true;
        patch.end(blob.bytes.subarray(blob.size / 2));
      }, 300);
    });
    expect(answer.status).toBe(416);
    expect(answer.afterBody).toBe(true);
    expect(answer.connection).not.toBe('close');
  }, 30_000);
});

describe.each<RunMode>(['embedded', 'distributed'])('an error answer to a request without a body (%s)', (mode) => {
  let registry: TestRegistry;

  beforeAll(async () => {
    registry = await startRegistry(mode);
  }, 120_000);
  afterAll(async () => registry?.stop());

  /** Sends the requests one after the other through one keep-alive socket; for each, its status, Connection header and whether it reused the socket. */
  async function onOneSocket(requests: Array<{ method: string; path: string }>): Promise<Array<{ status: number; connection?: string; reused: boolean }>> {
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    try {
      const answers: Array<{ status: number; connection?: string; reused: boolean }> = [];
      for (const { method, path } of requests) {
        answers.push(
          await new Promise((resolve, reject) => {
            const req = httpRequest(new URL(path, registry.url), { method, agent }, (response) => {
              response.resume();
              response.on('end', () => resolve({ status: response.statusCode ?? 0, connection: response.headers.connection, reused: req.reusedSocket }));
            });
            req.on('error', reject);
            req.end();
          }),
        );
      }
      return answers;
    } finally {
      agent.destroy();
    }
  }

  it('keeps the connection open: a client checking its layers one HEAD after another (404 each) needs one connection, not one per layer', async () => {
    const missing = (n: number) => `sha256:${String(n).repeat(64)}`;
    const answers = await onOneSocket([
      { method: 'HEAD', path: `/v2/keepalive/repo/blobs/${missing(1)}` },
      { method: 'GET', path: `/v2/keepalive/repo/blobs/${missing(2)}` },
      { method: 'GET', path: '/v2/keepalive/repo/manifests/no-such-tag' },
      { method: 'HEAD', path: '/v2/keepalive/repo/blobs/not-a-digest' },
      { method: 'GET', path: '/v2/' },
    ]);
    expect(answers.map((a) => a.status)).toEqual([404, 404, 404, 400, 200]);
    expect(answers.map((a) => a.connection)).toEqual(answers.map(() => 'keep-alive'));
    expect(answers.map((a) => a.reused)).toEqual([false, true, true, true, true]);
  }, 30_000);
});
