import { NestFactory } from '@nestjs/core';
import { contractModule, contractPatterns, describeTransportContract } from '@ocireg/messaging-testsuite';
import { firstValueFrom } from 'rxjs';
import { InProcessTransport } from './inprocess-transport';

describeTransportContract('in-process', async () => ({ transport: new InProcessTransport(), teardown: async () => undefined }));

describe('InProcessTransport', () => {
  it('keeps one bus per instance: a server of one transport is invisible to a client of another', async () => {
    const one = new InProcessTransport();
    const two = new InProcessTransport();
    const app = await NestFactory.createMicroservice(contractModule('iso', 'one', { handled: [], events: [] }), {
      strategy: one.createServer('q'),
      logger: false,
    });
    await app.listen();
    const near = one.createClient();
    const far = two.createClient();
    const echo = contractPatterns('iso').echo;
    try {
      await expect(firstValueFrom(near.send(echo, { x: 1 }))).resolves.toEqual({ echoed: { x: 1 }, server: 'one' });
      await expect(firstValueFrom(far.send(echo, { x: 1 }))).rejects.toThrow(/no subscribers/);
    } finally {
      await near.close();
      await far.close();
      await app.close();
    }
  });
});
