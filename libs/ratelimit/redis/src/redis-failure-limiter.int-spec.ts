import { createHash, randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import type { FailureLimiterOptions } from '@ocireg/ratelimit';
import { describeFailureLimiterContract } from '@ocireg/ratelimit-testsuite';
import { DEFAULT_FAILURE_LIMITER_KEY_PREFIX, RedisFailureLimiter } from './index';

const REDIS_URL = process.env['REDIS_URL'] ?? 'redis://127.0.0.1:6379';
/** Unique per run, so parallel runs and leftovers never collide; every key under it is removed at the end. */
const RUN_PREFIX = `ocireg:test:${randomUUID()}:`;

async function deleteKeys(admin: Redis, prefix: string): Promise<string[]> {
  const keys: string[] = [];
  let cursor = '0';
  do {
    const [nextCursor, batch] = await admin.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 500);
    keys.push(...batch);
    cursor = nextCursor;
  } while (cursor !== '0');
  if (keys.length > 0) {
    await admin.del(...keys);
  }
  return keys;
}

describeFailureLimiterContract('redis', async () => {
  const keyPrefix = `${RUN_PREFIX}contract:`;
  const admin = new Redis(REDIS_URL);
  const create = async (options: FailureLimiterOptions): Promise<RedisFailureLimiter> => {
    const limiter = new RedisFailureLimiter({ url: REDIS_URL, keyPrefix, ...options });
    await limiter.init();
    return limiter;
  };
  return {
    create,
    // Every limiter opens its own connection, as a limiter in another gateway process would.
    createReplica: create,
    teardown: async () => {
      const left = await deleteKeys(admin, keyPrefix);
      await admin.quit();
      if (left.length > 0) {
        throw new Error(`contract suite left keys behind: ${left.join(', ')}`);
      }
    },
  };
});

describe('RedisFailureLimiter', () => {
  const keyPrefix = `${RUN_PREFIX}adapter:`;
  const options = { maxFailures: 3, windowSeconds: 120 };
  let admin: Redis;
  let limiter: RedisFailureLimiter;

  beforeAll(async () => {
    admin = new Redis(REDIS_URL);
    limiter = new RedisFailureLimiter({ url: REDIS_URL, keyPrefix, ...options });
    await limiter.init();
  });

  afterAll(async () => {
    await limiter.close();
    await deleteKeys(admin, RUN_PREFIX);
    await admin.quit();
  });

  it('keeps one counter under the prefixed SHA-256 of the key, expiring with the window', async () => {
    const key = `user:alice:${randomUUID()}`;
    const redisKey = keyPrefix + createHash('sha256').update(Buffer.from(key, 'utf16le')).digest('hex');
    expect(limiter.redisKey(key)).toBe(redisKey);
    await expect(admin.exists(redisKey)).resolves.toBe(0);
    await limiter.check(key);
    await expect(admin.exists(redisKey)).resolves.toBe(0); // check writes nothing

    await limiter.fail(key);
    const ttl = await admin.pttl(redisKey);
    expect(ttl).toBeGreaterThan(110_000);
    expect(ttl).toBeLessThanOrEqual(120_000);
    await limiter.fail(key);
    await expect(admin.get(redisKey)).resolves.toBe('2');
    expect(await admin.pttl(redisKey)).toBeLessThanOrEqual(ttl); // later failures do not extend the window

    await limiter.reset(key);
    await expect(admin.exists(redisKey)).resolves.toBe(0);
  });

  it('counts exactly across many replicas, each with its own connection', async () => {
    const replicas = Array.from({ length: 6 }, () =>
      new RedisFailureLimiter({ url: REDIS_URL, keyPrefix, maxFailures: 120, windowSeconds: 60 }));
    await Promise.all(replicas.map((replica) => replica.init()));
    try {
      const key = `ip:10.0.0.1:${randomUUID()}`;
      const results = await Promise.all(replicas.flatMap((replica) => Array.from({ length: 20 }, () => replica.fail(key))));
      expect(results.filter((state) => state.blocked)).toHaveLength(1);
      await expect(admin.get(limiter.redisKey(key))).resolves.toBe('120');
      for (const replica of replicas) {
        expect((await replica.check(key)).blocked).toBe(true);
      }
      await replicas[0]?.reset(key);
    } finally {
      await Promise.all(replicas.map((replica) => replica.close()));
    }
  });

  it('gives a counter left without a TTL the window, so it cannot block forever', async () => {
    const key = randomUUID();
    await admin.set(limiter.redisKey(key), '7');
    await expect(limiter.check(key)).resolves.toEqual({ blocked: true, retryAfterSeconds: 120 });
    expect(await admin.pttl(limiter.redisKey(key))).toBeGreaterThan(110_000);

    const other = randomUUID();
    await admin.set(limiter.redisKey(other), '1');
    await expect(limiter.fail(other)).resolves.toEqual({ blocked: false, retryAfterSeconds: 0 });
    expect(await admin.pttl(limiter.redisKey(other))).toBeGreaterThan(110_000);
    await Promise.all([limiter.reset(key), limiter.reset(other)]);
  });

  it('reports a corrupt counter instead of treating it as absent', async () => {
    const key = randomUUID();
    await admin.set(limiter.redisKey(key), 'not a number', 'EX', 30);
    await expect(limiter.check(key)).rejects.toThrow(/corrupt/);
    await expect(limiter.fail(key)).rejects.toThrow();
    await limiter.reset(key);
  });

  it('uses the default prefix when none is given', async () => {
    const key = `${RUN_PREFIX}${randomUUID()}`;
    const plain = new RedisFailureLimiter({ url: REDIS_URL, ...options });
    await plain.init();
    const redisKey = plain.redisKey(key);
    try {
      expect(redisKey.startsWith(DEFAULT_FAILURE_LIMITER_KEY_PREFIX)).toBe(true);
      expect(DEFAULT_FAILURE_LIMITER_KEY_PREFIX).toBe('ocireg:ratelimit:');
      await plain.fail(key);
      await expect(admin.exists(redisKey)).resolves.toBe(1);
    } finally {
      await admin.del(redisKey);
      await plain.close();
    }
  });

  it('uses an injected client and leaves it open on close', async () => {
    const client = new Redis(REDIS_URL);
    const injected = new RedisFailureLimiter({ client, keyPrefix, ...options });
    await injected.init();
    const key = randomUUID();
    await injected.fail(key);
    await injected.close();
    await expect(client.ping()).resolves.toBe('PONG');
    await expect(admin.get(limiter.redisKey(key))).resolves.toBe('1');
    await limiter.reset(key);
    await client.quit();
  });

  it('connects with host and port options', async () => {
    const url = new URL(REDIS_URL);
    const byHost = new RedisFailureLimiter({
      host: url.hostname,
      port: Number(url.port || 6379),
      ...(url.password && { password: decodeURIComponent(url.password) }),
      keyPrefix,
      ...options,
    });
    await byHost.init();
    await expect(byHost.check(randomUUID())).resolves.toEqual({ blocked: false, retryAfterSeconds: 0 });
    await byHost.close();
    await byHost.close(); // idempotent
  });

  it('loads its script with EVAL when the server does not have it cached (NOSCRIPT)', async () => {
    const client = new Redis(REDIS_URL);
    const injected = new RedisFailureLimiter({ client, keyPrefix, ...options });
    await injected.init();
    const evalsha = jest.spyOn(client, 'evalsha').mockRejectedValueOnce(new Error('NOSCRIPT No matching script.'));
    const evalSpy = jest.spyOn(client, 'eval');
    const key = randomUUID();
    try {
      await expect(injected.fail(key)).resolves.toEqual({ blocked: false, retryAfterSeconds: 0 });
      expect(evalsha).toHaveBeenCalledTimes(1);
      expect(evalSpy).toHaveBeenCalledTimes(1);
      await expect(admin.get(limiter.redisKey(key))).resolves.toBe('1');

      evalsha.mockRejectedValueOnce(new Error('ERR something else'));
      await expect(injected.check(key)).rejects.toThrow('ERR something else');
      expect(evalSpy).toHaveBeenCalledTimes(1);
    } finally {
      await limiter.reset(key);
      await client.quit();
    }
  });

  it('closes cleanly when never initialised, and when closed twice at once', async () => {
    const twice = new RedisFailureLimiter({ url: REDIS_URL, keyPrefix, ...options });
    await twice.init();
    await expect(Promise.all([twice.close(), twice.close()])).resolves.toEqual([undefined, undefined]);
  });

  it('closes cleanly when never initialised', async () => {
    const unused = new RedisFailureLimiter({ url: REDIS_URL, keyPrefix, ...options });
    await expect(unused.close()).resolves.toBeUndefined();
  });
});
