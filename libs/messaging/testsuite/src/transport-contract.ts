import { randomBytes } from 'node:crypto';
import { INestMicroservice } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { ClientProxy } from '@nestjs/microservices';
import type { Broadcast, RegistryTransport } from '@ocireg/messaging';
import { TimeoutError, firstValueFrom, lastValueFrom, timeout, toArray } from 'rxjs';
import { ContractLog, contractModule, contractPatterns } from './contract-app';

export interface TransportContractSubject {
  transport: RegistryTransport;
  teardown: () => Promise<void>;
}

/** Polls `check` until it holds or `ms` pass; returns whether it held. */
async function until(check: () => boolean, ms = 3000): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  return true;
}

function countByType(resources: string[]): Map<string, number> {
  const counts = new Map<string, number>();
  for (const type of resources) counts.set(type, (counts.get(type) ?? 0) + 1);
  return counts;
}

/** The resource types now active beyond `baseline` (sockets, timers...), e.g. `['TCPSocketWrap']`. */
function leakedSince(baseline: Map<string, number>): string[] {
  const leaked: string[] = [];
  for (const [type, count] of countByType(process.getActiveResourcesInfo())) {
    if (count > (baseline.get(type) ?? 0)) leaked.push(type);
  }
  return leaked;
}

/** The error a request failed with; rejects if it succeeded instead. */
async function caught(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    (value: unknown) => {
      throw new Error(`expected the request to fail, but it answered ${JSON.stringify(value)}`);
    },
    (error: unknown) => error,
  );
}

/**
 * The behaviour every RegistryTransport must show to the services' `@MessagePattern` handlers and the
 * gateway's ClientProxy. `setup` gives a fresh transport; patterns and queues are unique to each run.
 */
export function describeTransportContract(name: string, setup: () => Promise<TransportContractSubject>): void {
  describe(`RegistryTransport contract: ${name}`, () => {
    const prefix = `contract-${randomBytes(5).toString('hex')}`;
    const p = contractPatterns(prefix);
    const log: ContractLog = { handled: [], events: [] };
    const apps: INestMicroservice[] = [];
    const clients: ClientProxy[] = [];
    const broadcasts: Broadcast[] = [];
    let subject: TransportContractSubject | undefined;
    let baseline = new Map<string, number>();
    let client: ClientProxy;

    const transport = (): RegistryTransport => {
      if (!subject) throw new Error('transport contract setup did not run');
      return subject.transport;
    };
    const startServer = async (queue: string, server: string, patternPrefix = prefix): Promise<INestMicroservice> => {
      const app = await NestFactory.createMicroservice(contractModule(patternPrefix, server, log), {
        strategy: transport().createServer(queue),
        logger: false,
      });
      await app.listen();
      apps.push(app);
      return app;
    };
    const newClient = async (): Promise<ClientProxy> => {
      const created = transport().createClient();
      clients.push(created);
      await created.connect();
      return created;
    };
    const request = <T>(pattern: string, data: unknown, via: ClientProxy = client, ms = 5000): Promise<T> =>
      firstValueFrom(via.send<T>(pattern, data).pipe(timeout(ms)));
    const newBroadcast = (): Broadcast => {
      const created = transport().createBroadcast();
      broadcasts.push(created);
      return created;
    };
    const closeAll = async (): Promise<void> => {
      await Promise.all(broadcasts.splice(0).map((b) => b.close()));
      await Promise.all(clients.splice(0).map((c) => c.close()));
      await Promise.all(apps.splice(0).map((app) => app.close()));
    };

    beforeAll(async () => {
      baseline = countByType(process.getActiveResourcesInfo());
      subject = await setup();
      await startServer(`${prefix}-q`, 'a');
      await startServer(`${prefix}-q`, 'b');
      client = await newClient();
    }, 30_000);

    afterAll(async () => {
      await closeAll();
      await subject?.teardown();
    }, 30_000);

    it('round-trips nested JSON', async () => {
      const payload = { a: [1, 'two', { three: [3.5, null, true] }], s: 'ü∑ "quoted" \n', n: { deep: { er: { est: -0.25 } } } };
      await expect(request(p.echo, payload)).resolves.toEqual({ echoed: payload, server: expect.stringMatching(/^[ab]$/) });
    });

    it('carries payloads as JSON (dates become strings, undefined fields vanish)', async () => {
      const reply = await request<{ echoed: unknown }>(p.echo, { when: new Date(0), gone: undefined, list: [1, undefined] });
      expect(reply.echoed).toStrictEqual({ when: '1970-01-01T00:00:00.000Z', list: [1, null] });
    });

    it('answers with the value of a handler that returns a Promise', async () => {
      await expect(request(p.promise, { n: 21 })).resolves.toEqual({ doubled: 42 });
    });

    it('delivers every emission of a handler that returns an Observable, then completes', async () => {
      await expect(firstValueFrom(client.send(p.observable, { n: 2 }).pipe(toArray(), timeout(5000)))).resolves.toEqual([
        { n: 2 },
        { n: 4 },
        { n: 6 },
      ]);
      await expect(lastValueFrom(client.send(p.slowObservable, {}).pipe(toArray(), timeout(5000)))).resolves.toEqual([0, 1, 2]);
    });

    it.each([
      ['an RpcException', p.rpcException],
      ['a thrown plain object', p.throwPlain],
      ['an erroring Observable', p.observableError],
    ])('brings %s to the client as the same plain { kind, message, detail } object', async (_how, pattern) => {
      const wire = { kind: 'BLOB_UNKNOWN', message: 'blob unknown to registry', detail: { digest: 'sha256:abc', n: [1, 2] } };
      await expect(caught(request(pattern, wire))).resolves.toStrictEqual(wire);
    });

    it('brings an unexpected Error to the client only as the filter maps it', async () => {
      await expect(caught(request(p.throwError, {}))).resolves.toStrictEqual({ kind: 'UNKNOWN', message: 'unknown error' });
    });

    it('fails a request for a pattern nobody handles, without hanging', async () => {
      const error = await caught(request(p.unknown, { any: 1 }, client, 4000));
      expect(error).toBeInstanceOf(Error);
      expect(error).not.toBeInstanceOf(TimeoutError);
    });

    it('shares the load of one queue: every request answered exactly once, by some member', async () => {
      log.handled.length = 0;
      const ids = Array.from({ length: 40 }, (_, i) => i);
      const replies = await Promise.all(ids.map((id) => request<{ id: number; server: string }>(p.work, { id })));
      expect(replies.map((r) => r.id)).toEqual(ids);
      expect(log.handled.map((h) => h.id).sort((x, y) => x - y)).toEqual(ids);
      const servers = new Set(log.handled.map((h) => h.server));
      expect([...servers].sort()).toEqual(['a', 'b']);
      for (const reply of replies) expect(log.handled).toContainEqual({ server: reply.server, id: reply.id });
    });

    it('answers many concurrent requests correctly', async () => {
      const ids = Array.from({ length: 500 }, (_, i) => i);
      const replies = await Promise.all(ids.map((i) => request<{ echoed: { i: number } }>(p.echo, { i }, client, 15_000)));
      expect(replies.map((r) => r.echoed.i)).toEqual(ids);
    }, 30_000);

    it('delivers an event to one member of the queue', async () => {
      log.events.length = 0;
      await lastValueFrom(client.emit(p.note, { hello: 'world' }), { defaultValue: undefined });
      expect(await until(() => log.events.length > 0)).toBe(true);
      await new Promise((resolve) => setTimeout(resolve, 50));
      expect(log.events).toEqual([{ server: expect.stringMatching(/^[ab]$/), data: { hello: 'world' } }]);
    });

    it('stops routing to a closed server; its queue peers answer; with none left requests fail', async () => {
      const other = `${prefix}-x`;
      const q = contractPatterns(other);
      const c = await startServer(`${other}-q`, 'c', other);
      const d = await startServer(`${other}-q`, 'd', other);
      await d.close();
      const replies = await Promise.all(Array.from({ length: 10 }, () => request<{ server: string }>(q.echo, {})));
      expect(new Set(replies.map((r) => r.server))).toEqual(new Set(['c']));
      await c.close();
      const error = await caught(request(q.echo, {}, client, 4000));
      expect(error).not.toBeInstanceOf(TimeoutError);
      // The 4 s request timeout is the bound under test; the test itself gets room for a loaded machine.
    }, 15_000);

    it('fails the requests still waiting when their client closes', async () => {
      const closing = await newClient();
      const pending = caught(request(p.slow, {}, closing));
      await new Promise((resolve) => setTimeout(resolve, 30));
      await closing.close();
      const error = await pending;
      expect(error).toBeDefined();
      expect(error).not.toBeInstanceOf(TimeoutError);
    });

    it('broadcasts each message to every subscriber, in order, and stops after unsubscribe', async () => {
      const channel = `${prefix}-changes`;
      const [one, two, sender] = [newBroadcast(), newBroadcast(), newBroadcast()];
      const seen: Record<string, unknown[]> = { one: [], two: [], elsewhere: [] };
      const stopOne = await one.subscribe(channel, (m) => seen['one']!.push(m));
      await two.subscribe(channel, (m) => seen['two']!.push(m));
      await two.subscribe(`${channel}-other`, (m) => seen['elsewhere']!.push(m));
      for (const n of [1, 2, 3]) await sender.publish(channel, { n, repository: 'a/b' });
      expect(await until(() => seen['one']!.length === 3 && seen['two']!.length === 3)).toBe(true);
      expect(seen['one']).toEqual([1, 2, 3].map((n) => ({ n, repository: 'a/b' })));
      expect(seen['two']).toEqual(seen['one']);
      stopOne();
      // A broadcast does not hear itself: `two` publishes, `one` (unsubscribed) and `two` get nothing.
      await two.publish(channel, { n: 5 });
      await sender.publish(channel, { n: 4 });
      expect(await until(() => seen['two']!.length === 4)).toBe(true);
      await new Promise((resolve) => setTimeout(resolve, 50));
      expect(seen['one']).toHaveLength(3);
      expect(seen['two']!.map((m) => (m as { n: number }).n)).toEqual([1, 2, 3, 4]);
      expect(seen['elsewhere']).toEqual([]);
    });

    it('releases every socket and timer once its clients and servers are closed', async () => {
      await closeAll();
      await until(() => leakedSince(baseline).length === 0);
      expect(leakedSince(baseline)).toEqual([]);
    });
  });
}
