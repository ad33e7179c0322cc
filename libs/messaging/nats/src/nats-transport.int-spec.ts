import { randomBytes } from 'node:crypto';
import { NestFactory } from '@nestjs/core';
import { contractModule, contractPatterns, describeTransportContract } from '@ocireg/messaging-testsuite';
import { firstValueFrom, lastValueFrom, toArray } from 'rxjs';
import { NatsTransport } from './nats-transport';

const servers = [process.env['NATS_URL'] ?? 'nats://127.0.0.1:4222'];

/** A contract app named `name` serving `prefix`'s patterns in `queue`, listening. */
async function serve(transport: NatsTransport, prefix: string, name = 'only', queue = 'q') {
  const app = await NestFactory.createMicroservice(contractModule(prefix, name, { handled: [], events: [] }), {
    strategy: transport.createServer(queue),
    logger: false,
  });
  await app.listen();
  return app;
}

describeTransportContract('NATS', async () => ({
  transport: new NatsTransport({ servers, queuePrefix: 'contract-', timeoutMs: 10_000 }),
  teardown: async () => undefined,
}));

describe('NatsTransport', () => {
  it('fails a request that gets no reply within timeoutMs', async () => {
    const prefix = `nats-timeout-${randomBytes(5).toString('hex')}`;
    const transport = new NatsTransport({ servers, timeoutMs: 50 });
    const app = await serve(transport, prefix);
    const client = transport.createClient();
    try {
      await expect(firstValueFrom(client.send(contractPatterns(prefix).slow, {}))).rejects.toMatchObject({ name: 'TimeoutError' });
      await expect(firstValueFrom(client.send(contractPatterns(prefix).echo, { ok: true }))).resolves.toEqual({
        echoed: { ok: true },
        server: 'only',
      });
    } finally {
      await client.close();
      await app.close();
    }
  });

  it('keeps registries with different subject prefixes apart on one NATS', async () => {
    const prefix = `nats-isolation-${randomBytes(5).toString('hex')}`;
    const transports = ['one', 'two'].map((name) => ({ name, transport: new NatsTransport({ servers, subjectPrefix: `${prefix}-${name}`, timeoutMs: 5_000 }) }));
    const apps = await Promise.all(
      transports.map(({ name, transport }) => serve(transport, prefix, name, 'same-queue')),
    );
    const clients = transports.map(({ transport }) => transport.createClient());
    try {
      for (let i = 0; i < 10; i++) {
        await expect(firstValueFrom(clients[0]!.send(contractPatterns(prefix).echo, i))).resolves.toEqual({ echoed: i, server: 'one' });
        await expect(firstValueFrom(clients[1]!.send(contractPatterns(prefix).echo, i))).resolves.toEqual({ echoed: i, server: 'two' });
      }
    } finally {
      await Promise.all(clients.map((c) => c.close()));
      await Promise.all(apps.map((a) => a.close()));
    }
  });

  it('receives the replies of all requests on one subscription of the connection, not one per request', async () => {
    const prefix = `nats-inbox-${randomBytes(5).toString('hex')}`;
    const transport = new NatsTransport({ servers, timeoutMs: 5_000 });
    const app = await serve(transport, prefix);
    const client = transport.createClient();
    /** Subscriptions the client's connection holds (nats.js keeps them in its protocol handler). */
    const subscriptions = (): number =>
      (client as unknown as { natsClient: { protocol: { subscriptions: { size(): number } } } }).natsClient.protocol.subscriptions.size();
    try {
      await firstValueFrom(client.send(contractPatterns(prefix).echo, 'first'));
      expect(subscriptions()).toBe(1);
      // 20 requests whose handlers emit three values 5 ms apart: all in flight together.
      const streams = Array.from({ length: 20 }, () => lastValueFrom(client.send(contractPatterns(prefix).slowObservable, {}).pipe(toArray())));
      await new Promise((resolve) => setTimeout(resolve, 4));
      const inFlight = subscriptions();
      expect(await Promise.all(streams)).toEqual(Array.from({ length: 20 }, () => [0, 1, 2]));
      expect(inFlight).toBe(1);
      expect(subscriptions()).toBe(1);
    } finally {
      await client.close();
      await app.close();
    }
  });

  it('rejects a configuration without servers or with a non-positive timeout', () => {
    expect(() => new NatsTransport({ servers: [] })).toThrow(/server/);
    expect(() => new NatsTransport({ servers, timeoutMs: 0 })).toThrow(/timeoutMs/);
  });
});
