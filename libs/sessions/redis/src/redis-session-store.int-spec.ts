import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import type { UploadSession } from '@ocireg/sessions';
import { describeUploadSessionStoreContract } from '@ocireg/sessions-testsuite';
import { RedisUploadSessionStore } from './index';

const REDIS_URL = process.env['REDIS_URL'] ?? 'redis://127.0.0.1:6379';
/** Unique per run, so parallel runs and leftovers never collide; every key under it is removed at the end. */
const RUN_PREFIX = `ocireg:test:${randomUUID()}:`;

async function deleteKeys(admin: Redis, prefix: string): Promise<string[]> {
  const keys = await scanKeys(admin, prefix);
  if (keys.length > 0) {
    await admin.del(...keys);
  }
  return keys;
}

async function scanKeys(admin: Redis, prefix: string): Promise<string[]> {
  const keys: string[] = [];
  let cursor = '0';
  do {
    const [nextCursor, batch] = await admin.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 500);
    keys.push(...batch);
    cursor = nextCursor;
  } while (cursor !== '0');
  return keys;
}

describeUploadSessionStoreContract('redis', async () => {
  const keyPrefix = `${RUN_PREFIX}contract:`;
  const admin = new Redis(REDIS_URL);
  let current = new RedisUploadSessionStore({ url: REDIS_URL, keyPrefix });
  await current.init();
  return {
    store: current,
    reopen: async () => {
      await current.close();
      current = new RedisUploadSessionStore({ url: REDIS_URL, keyPrefix });
      await current.init();
      return current;
    },
    teardown: async () => {
      await current.close();
      const left = await deleteKeys(admin, keyPrefix);
      await admin.quit();
      if (left.length > 0) {
        throw new Error(`contract suite left keys behind: ${left.join(', ')}`);
      }
    },
  };
});

describe('RedisUploadSessionStore', () => {
  const keyPrefix = `${RUN_PREFIX}adapter:`;
  let admin: Redis;
  let store: RedisUploadSessionStore;

  beforeAll(async () => {
    admin = new Redis(REDIS_URL);
    store = new RedisUploadSessionStore({ url: REDIS_URL, keyPrefix });
    await store.init();
  });

  afterAll(async () => {
    await store.close();
    await deleteKeys(admin, RUN_PREFIX);
    await admin.quit();
  });

  it('stores the session as JSON under the prefixed key with a TTL', async () => {
    const value = session(randomUUID());
    await store.create(value, 120);
    const key = keyPrefix + value.id;
    expect(JSON.parse((await admin.get(key)) ?? 'null')).toEqual(value);
    const ttl = await admin.pttl(key);
    expect(ttl).toBeGreaterThan(110_000);
    expect(ttl).toBeLessThanOrEqual(120_000);

    await expect(store.compareAndSet(value.id, 1, session(value.id, 2), 300)).resolves.toBe(true);
    expect(await admin.pttl(key)).toBeGreaterThan(290_000);
  });

  it('lets exactly one of several replicas (separate connections) win a compareAndSet race', async () => {
    const replicas = Array.from({ length: 6 }, () => new RedisUploadSessionStore({ url: REDIS_URL, keyPrefix }));
    await Promise.all(replicas.map((replica) => replica.init()));
    try {
      const id = randomUUID();
      await store.create(session(id), 60);
      const attempts = replicas.flatMap((replica, r) =>
        Array.from({ length: 5 }, (_, i) => {
          const next = { ...session(id, 2), lease: { token: `replica-${r}-${i}`, expiresAt: 1 } };
          return replica.compareAndSet(id, 1, next, 60).then((won) => ({ won, next }));
        }),
      );
      const results = await Promise.all(attempts);
      const winners = results.filter((result) => result.won);
      expect(winners).toHaveLength(1);
      await expect(store.get(id)).resolves.toEqual(winners[0]?.next);
      await expect(store.delete(id)).resolves.toBe(true);
    } finally {
      await Promise.all(replicas.map((replica) => replica.close()));
    }
  });

  it('uses the default prefix when none is given', async () => {
    const id = `${RUN_PREFIX.replace(/:/g, '-')}${randomUUID()}`;
    const plain = new RedisUploadSessionStore({ url: REDIS_URL });
    await plain.init();
    try {
      await plain.create(session(id), 30);
      await expect(admin.exists(`ocireg:upload:${id}`)).resolves.toBe(1);
      await expect(plain.delete(id)).resolves.toBe(true);
    } finally {
      await admin.del(`ocireg:upload:${id}`);
      await plain.close();
    }
  });

  it('uses an injected client and leaves it open on close', async () => {
    const client = new Redis(REDIS_URL);
    const injected = new RedisUploadSessionStore({ client, keyPrefix });
    await injected.init();
    const value = session(randomUUID());
    await injected.create(value, 30);
    await injected.close();
    await expect(client.ping()).resolves.toBe('PONG');
    await expect(store.delete(value.id)).resolves.toBe(true);
    await client.quit();
  });

  it('reports a corrupt stored value on get and compareAndSet', async () => {
    const id = randomUUID();
    await admin.set(keyPrefix + id, 'not json', 'EX', 30);
    await expect(store.get(id)).rejects.toThrow();
    await expect(store.compareAndSet(id, 1, session(id, 2), 30)).rejects.toThrow(/corrupt/);
    await expect(store.delete(id)).resolves.toBe(true);
  });

  it('connects with host and port options', async () => {
    const url = new URL(REDIS_URL);
    const byHost = new RedisUploadSessionStore({
      host: url.hostname,
      port: Number(url.port || 6379),
      ...(url.password && { password: decodeURIComponent(url.password) }),
      keyPrefix,
    });
    await byHost.init();
    await expect(byHost.get(randomUUID())).resolves.toBeUndefined();
    await byHost.close();
  });
});

function session(id: string, version = 1): UploadSession {
  return {
    id,
    repository: 'library/x',
    storageKey: `uploads/${id}`,
    append: { size: version * 10, parts: [{ n: version }] },
    version,
    createdAt: 1,
    updatedAt: version,
  };
}
