import { describeFailureLimiterContract } from '@ocireg/ratelimit-testsuite';
import { MemoryFailureLimiter } from './index';
import type { MemoryFailureLimiterOptions } from './index';

describeFailureLimiterContract('memory', async () => {
  const created: MemoryFailureLimiter[] = [];
  return {
    create: async (options) => {
      const limiter = new MemoryFailureLimiter(options);
      created.push(limiter);
      await limiter.init();
      return limiter;
    },
    teardown: async () => {
      const left = created.reduce((sum, limiter) => sum + limiter.size, 0);
      if (left > 0) {
        throw new Error(`contract suite left ${left} entries behind`);
      }
    },
  };
});

describe('MemoryFailureLimiter', () => {
  let clock: number;
  const open: MemoryFailureLimiter[] = [];

  const limiter = async (options: Partial<MemoryFailureLimiterOptions> = {}): Promise<MemoryFailureLimiter> => {
    const created = new MemoryFailureLimiter({
      maxFailures: 2, windowSeconds: 10, sweepIntervalMs: 0, now: () => clock, ...options,
    });
    open.push(created);
    await created.init();
    return created;
  };

  beforeEach(() => {
    clock = 1_000_000;
  });

  afterEach(async () => {
    await Promise.all(open.splice(0).map((created) => created.close()));
    jest.useRealTimers();
    jest.restoreAllMocks();
  });

  it('blocks until the very end of the window, rounding Retry-After up', async () => {
    const l = await limiter();
    await l.fail('k');
    clock += 4_000;
    await expect(l.fail('k')).resolves.toEqual({ blocked: true, retryAfterSeconds: 6 });
    clock += 5_001;
    await expect(l.check('k')).resolves.toEqual({ blocked: true, retryAfterSeconds: 1 });
    clock += 998;
    await expect(l.check('k')).resolves.toEqual({ blocked: true, retryAfterSeconds: 1 });
    clock += 1;
    await expect(l.check('k')).resolves.toEqual({ blocked: false, retryAfterSeconds: 0 });
    expect(l.size).toBe(0); // check dropped the expired entry
  });

  it('removes expired entries as new failures arrive', async () => {
    const l = await limiter();
    await l.fail('a');
    clock += 5_000;
    await l.fail('b');
    expect(l.size).toBe(2);
    clock += 5_000;
    await l.fail('c'); // a's window ended: gone; b's is still running
    expect(l.size).toBe(2);
    await expect(l.fail('b')).resolves.toEqual({ blocked: true, retryAfterSeconds: 5 });
    clock += 10_000;
    expect(l.sweep()).toBe(2);
    expect(l.size).toBe(0);
  });

  it('starts a new window, at the end of the order, for a key whose window ended', async () => {
    const l = await limiter();
    await l.fail('a');
    clock += 5_000;
    await l.fail('b');
    clock += 5_000;
    await l.fail('a'); // a's window restarts and now ends after b's
    clock += 5_000;
    expect(l.sweep()).toBe(1);
    await expect(l.fail('a')).resolves.toEqual({ blocked: true, retryAfterSeconds: 5 });
    await expect(l.check('b')).resolves.toEqual({ blocked: false, retryAfterSeconds: 0 });
  });

  it('caps the number of entries, dropping the one whose window ends soonest', async () => {
    const l = await limiter({ maxFailures: 1, maxEntries: 3 });
    for (const k of ['a', 'b', 'c', 'd']) {
      await l.fail(k);
      clock += 1;
    }
    expect(l.size).toBe(3);
    expect((await l.check('a')).blocked).toBe(false);
    for (const k of ['b', 'c', 'd']) {
      expect((await l.check(k)).blocked).toBe(true);
    }
    await l.fail('b'); // a known key takes no new room
    expect(l.size).toBe(3);
  });

  it('prefers dropping expired entries over live ones when full', async () => {
    const l = await limiter({ maxFailures: 1, maxEntries: 2, windowSeconds: 1 });
    await l.fail('a');
    clock += 500;
    await l.fail('b');
    clock += 600; // a expired, b live
    await l.fail('c');
    expect(l.size).toBe(2);
    expect((await l.check('b')).blocked).toBe(true);
    expect((await l.check('c')).blocked).toBe(true);
  });

  it('keeps memory per entry independent of the key length', async () => {
    const l = await limiter({ maxFailures: 1 });
    await l.fail('x'.repeat(1_000_000));
    expect((await l.check('x'.repeat(1_000_000))).blocked).toBe(true);
    expect((await l.check('x'.repeat(999_999))).blocked).toBe(false);
  });

  it('sweeps expired entries periodically with an unref’d timer, which close() stops', async () => {
    const setIntervalSpy = jest.spyOn(global, 'setInterval');
    const l = new MemoryFailureLimiter({ maxFailures: 5, windowSeconds: 0.05, sweepIntervalMs: 20 });
    open.push(l);
    await l.init();
    await l.init(); // idempotent: still one timer
    expect(setIntervalSpy).toHaveBeenCalledTimes(1);
    const timer: unknown = setIntervalSpy.mock.results[0]?.value;
    expect((timer as NodeJS.Timeout).hasRef()).toBe(false);

    await l.fail('a');
    await l.fail('b');
    expect(l.size).toBe(2);
    await waitFor(() => l.size === 0, 2_000);

    const clearIntervalSpy = jest.spyOn(global, 'clearInterval');
    await l.close();
    expect(clearIntervalSpy).toHaveBeenCalledWith(timer);
    await l.close(); // idempotent
    expect(clearIntervalSpy).toHaveBeenCalledTimes(1);
  });

  it('runs no timer when sweepIntervalMs is 0', async () => {
    jest.useFakeTimers();
    const l = await limiter({ sweepIntervalMs: 0 });
    expect(jest.getTimerCount()).toBe(0);
    await l.close();
  });

  it('has no timer left after close', async () => {
    jest.useFakeTimers();
    const l = new MemoryFailureLimiter({ maxFailures: 2, windowSeconds: 1, sweepIntervalMs: 1_000 });
    await l.init();
    expect(jest.getTimerCount()).toBe(1);
    await l.close();
    expect(jest.getTimerCount()).toBe(0);
  });

  it('uses a monotonic clock by default', async () => {
    const l = await limiter({ now: undefined, maxFailures: 1, windowSeconds: 60 });
    const wallClock = jest.spyOn(Date, 'now').mockReturnValue(Date.now() + 3_600_000);
    await l.fail('k');
    wallClock.mockReturnValue(0);
    await expect(l.check('k')).resolves.toEqual({ blocked: true, retryAfterSeconds: 60 });
    await l.reset('k');
  });

  it('rejects invalid options of its own', () => {
    expect(() => new MemoryFailureLimiter({ maxFailures: 1, windowSeconds: 1, maxEntries: 0 })).toThrow(RangeError);
    expect(() => new MemoryFailureLimiter({ maxFailures: 1, windowSeconds: 1, maxEntries: 2.5 })).toThrow(RangeError);
    expect(() => new MemoryFailureLimiter({ maxFailures: 1, windowSeconds: 1, sweepIntervalMs: -1 })).toThrow(RangeError);
  });
});

async function waitFor(condition: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) {
      throw new Error('condition not met in time');
    }
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
