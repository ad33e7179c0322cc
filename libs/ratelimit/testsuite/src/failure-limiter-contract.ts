import { randomUUID } from 'node:crypto';
import type { FailureLimiter, FailureLimiterOptions } from '@ocireg/ratelimit';

export interface FailureLimiterFixture {
  /** Returns a new, initialised limiter with these options on the fixture's backend. The suite closes it. */
  create: (options: FailureLimiterOptions) => Promise<FailureLimiter>;
  /**
   * For shared backends: a limiter on the same backend through a separate connection, as another gateway
   * replica would hold. The suite closes it. Absent for in-process limiters.
   */
  createReplica?: (options: FailureLimiterOptions) => Promise<FailureLimiter>;
  /** Runs after every limiter is closed and every key the suite used is reset: checks nothing is left, releases the backend. */
  teardown: () => Promise<void>;
}

const TIMING_TEST_TIMEOUT_MS = 15_000;

/**
 * The contract every FailureLimiter adapter passes. `setup` runs once before the suite. Every key the suite
 * uses is unique to the run and is reset before `teardown`, so a backend is left as it was found.
 */
export function describeFailureLimiterContract(name: string, setup: () => Promise<FailureLimiterFixture>): void {
  describe(`FailureLimiter contract: ${name}`, () => {
    let fixture: FailureLimiterFixture | undefined;
    const run = randomUUID();
    const used: { limiter: FailureLimiter; key: string }[] = [];
    const open: FailureLimiter[] = [];

    const fx = (): FailureLimiterFixture => {
      if (!fixture) {
        throw new Error('failure limiter fixture was not set up');
      }
      return fixture;
    };
    const limiter = async (options: FailureLimiterOptions): Promise<FailureLimiter> => {
      const created = await fx().create(options);
      open.push(created);
      return created;
    };
    /** A fresh key for `on`, remembered so that afterAll resets it. */
    const key = (on: FailureLimiter, label = 'ip:127.0.0.1'): string => {
      const value = `${label}#${run}#${randomUUID()}`;
      used.push({ limiter: on, key: value });
      return value;
    };

    beforeAll(async () => {
      fixture = await setup();
    });

    afterAll(async () => {
      if (!fixture) {
        return;
      }
      try {
        await Promise.all(used.map(({ limiter: on, key: k }) => on.reset(k)));
        await Promise.all(open.map((on) => on.close()));
      } finally {
        await fixture.teardown();
      }
    });

    it('does not block a key that never failed', async () => {
      const l = await limiter({ maxFailures: 3, windowSeconds: 60 });
      await expect(l.check(key(l))).resolves.toEqual({ blocked: false, retryAfterSeconds: 0 });
    });

    it('blocks exactly when maxFailures is reached, and stays blocked', async () => {
      const l = await limiter({ maxFailures: 3, windowSeconds: 60 });
      const k = key(l);
      await expect(l.fail(k)).resolves.toEqual({ blocked: false, retryAfterSeconds: 0 });
      await expect(l.fail(k)).resolves.toEqual({ blocked: false, retryAfterSeconds: 0 });
      await expect(l.check(k)).resolves.toEqual({ blocked: false, retryAfterSeconds: 0 });
      const third = await l.fail(k);
      expect(third.blocked).toBe(true);
      expect((await l.check(k)).blocked).toBe(true);
      expect((await l.fail(k)).blocked).toBe(true);
      expect((await l.check(k)).blocked).toBe(true);
    });

    it('blocks on the first failure when maxFailures is 1', async () => {
      const l = await limiter({ maxFailures: 1, windowSeconds: 60 });
      const k = key(l);
      expect((await l.fail(k)).blocked).toBe(true);
    });

    it('reports a retryAfterSeconds within (0, window] while blocked', async () => {
      const l = await limiter({ maxFailures: 2, windowSeconds: 30 });
      const k = key(l);
      await l.fail(k);
      const states = [await l.fail(k), await l.check(k), await l.fail(k), await l.check(k)];
      for (const state of states) {
        expect(state.blocked).toBe(true);
        expect(Number.isInteger(state.retryAfterSeconds)).toBe(true);
        expect(state.retryAfterSeconds).toBeGreaterThan(0);
        expect(state.retryAfterSeconds).toBeLessThanOrEqual(30);
        expect(state.retryAfterSeconds).toBeGreaterThanOrEqual(28);
      }
    });

    it('unblocks when the window ends, then counts afresh', async () => {
      const l = await limiter({ maxFailures: 2, windowSeconds: 1 });
      const k = key(l);
      await l.fail(k);
      const blocked = await l.fail(k);
      expect(blocked).toEqual({ blocked: true, retryAfterSeconds: 1 });
      await sleep(1_200);
      await expect(l.check(k)).resolves.toEqual({ blocked: false, retryAfterSeconds: 0 });
      await expect(l.fail(k)).resolves.toEqual({ blocked: false, retryAfterSeconds: 0 });
      expect((await l.fail(k)).blocked).toBe(true);
    }, TIMING_TEST_TIMEOUT_MS);

    it('forgets failures below the limit when the window ends', async () => {
      const l = await limiter({ maxFailures: 2, windowSeconds: 1 });
      const k = key(l);
      await l.fail(k);
      await sleep(1_200);
      await expect(l.fail(k)).resolves.toEqual({ blocked: false, retryAfterSeconds: 0 });
    }, TIMING_TEST_TIMEOUT_MS);

    it('keeps the window fixed at the first failure: failures while blocked do not extend it', async () => {
      const l = await limiter({ maxFailures: 2, windowSeconds: 1 });
      const k = key(l);
      await l.fail(k);
      expect((await l.fail(k)).blocked).toBe(true);
      await sleep(600);
      expect((await l.fail(k)).blocked).toBe(true);
      expect((await l.fail(k)).blocked).toBe(true);
      await sleep(600);
      await expect(l.check(k)).resolves.toEqual({ blocked: false, retryAfterSeconds: 0 });
    }, TIMING_TEST_TIMEOUT_MS);

    it('reset clears a blocked key and its count', async () => {
      const l = await limiter({ maxFailures: 2, windowSeconds: 60 });
      const k = key(l);
      await l.fail(k);
      expect((await l.fail(k)).blocked).toBe(true);
      await l.reset(k);
      await expect(l.check(k)).resolves.toEqual({ blocked: false, retryAfterSeconds: 0 });
      await expect(l.fail(k)).resolves.toEqual({ blocked: false, retryAfterSeconds: 0 });
      expect((await l.fail(k)).blocked).toBe(true);
    });

    it('reset of a key below the limit or never seen is harmless', async () => {
      const l = await limiter({ maxFailures: 2, windowSeconds: 60 });
      const k = key(l);
      await l.fail(k);
      await l.reset(k);
      await expect(l.fail(k)).resolves.toEqual({ blocked: false, retryAfterSeconds: 0 });
      await expect(l.reset(key(l))).resolves.toBeUndefined();
    });

    it('keeps keys independent', async () => {
      const l = await limiter({ maxFailures: 2, windowSeconds: 60 });
      const a = key(l, 'user:alice');
      const b = key(l, 'user:bob');
      await l.fail(a);
      await l.fail(a);
      await expect(l.check(b)).resolves.toEqual({ blocked: false, retryAfterSeconds: 0 });
      await expect(l.fail(b)).resolves.toEqual({ blocked: false, retryAfterSeconds: 0 });
      await l.reset(b);
      expect((await l.check(a)).blocked).toBe(true);
    });

    it('handles long and odd keys, each independent of its neighbours', async () => {
      const l = await limiter({ maxFailures: 1, windowSeconds: 60 });
      const base = key(l, '');
      const odd = [
        base,
        `${base} `,
        `${base}${'x'.repeat(100_000)}`,
        `${base}${'x'.repeat(100_000)}y`,
        `${base}\n*?[]{}:\u0000`,
        `${base}tête-à-tête ✓ 🔒`,
        `${base}\uD800`, // a lone surrogate, which UTF-8 would turn into U+FFFD
        `${base}\uFFFD`,
      ];
      for (const k of odd.slice(1)) {
        used.push({ limiter: l, key: k });
      }
      for (const [i, k] of odd.entries()) {
        for (const other of odd.slice(i)) {
          expect((await l.check(other)).blocked).toBe(false);
        }
        expect((await l.fail(k)).blocked).toBe(true);
        expect((await l.check(k)).blocked).toBe(true);
      }
      await Promise.all(odd.map((k) => l.reset(k)));
      for (const k of odd) {
        expect((await l.check(k)).blocked).toBe(false);
      }
    });

    it('counts concurrent failures exactly (across replicas when the backend is shared)', async () => {
      const options = { maxFailures: 50, windowSeconds: 60 };
      const first = await limiter(options);
      const create = fx().createReplica;
      const second = create ? await create(options) : first;
      if (second !== first) {
        open.push(second);
      }
      const k = key(first);
      const results = await Promise.all(
        Array.from({ length: 50 }, (_, i) => (i % 2 === 0 ? first : second).fail(k)),
      );
      // Each call sees the count after its own failure: only the 50th is blocked, none may be lost or doubled.
      expect(results.filter((state) => state.blocked)).toHaveLength(1);
      expect((await first.check(k)).blocked).toBe(true);
      expect((await second.check(k)).blocked).toBe(true);
      await second.reset(k);
      expect((await first.check(k)).blocked).toBe(false);
    });

    it('does not block until the last of many concurrent failures', async () => {
      const l = await limiter({ maxFailures: 51, windowSeconds: 60 });
      const k = key(l);
      const results = await Promise.all(Array.from({ length: 50 }, () => l.fail(k)));
      expect(results.every((state) => !state.blocked)).toBe(true);
      expect((await l.check(k)).blocked).toBe(false);
      expect((await l.fail(k)).blocked).toBe(true);
    });

    it('rejects invalid options', async () => {
      const bad: FailureLimiterOptions[] = [
        { maxFailures: 0, windowSeconds: 60 },
        { maxFailures: 1.5, windowSeconds: 60 },
        { maxFailures: Number.NaN, windowSeconds: 60 },
        { maxFailures: 3, windowSeconds: 0 },
        { maxFailures: 3, windowSeconds: -1 },
        { maxFailures: 3, windowSeconds: Number.POSITIVE_INFINITY },
      ];
      for (const options of bad) {
        await expect(limiter(options)).rejects.toThrow(RangeError);
      }
    });
  });
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
