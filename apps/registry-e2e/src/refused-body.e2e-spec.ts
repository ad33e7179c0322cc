import { request as httpRequest } from 'node:http';
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
