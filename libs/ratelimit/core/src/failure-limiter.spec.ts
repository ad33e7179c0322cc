import { NOT_BLOCKED, blockedFor, validateFailureLimiterOptions, windowMilliseconds } from './index';

describe('failure limiter options and states', () => {
  it('accepts positive integer maxFailures and positive windows, fractional ones too', () => {
    expect(validateFailureLimiterOptions({ maxFailures: 5, windowSeconds: 900 })).toEqual({ maxFailures: 5, windowSeconds: 900 });
    expect(windowMilliseconds(validateFailureLimiterOptions({ maxFailures: 1, windowSeconds: 0.0001 }))).toBe(1);
    expect(windowMilliseconds({ maxFailures: 1, windowSeconds: 1.5 })).toBe(1_500);
  });

  it('rejects bad values with a RangeError naming the option', () => {
    expect(() => validateFailureLimiterOptions({ maxFailures: 0, windowSeconds: 1 })).toThrow(/maxFailures/);
    expect(() => validateFailureLimiterOptions({ maxFailures: 2 ** 60, windowSeconds: 1 })).toThrow(RangeError);
    expect(() => validateFailureLimiterOptions({ maxFailures: 1, windowSeconds: Number.NaN })).toThrow(/windowSeconds/);
    expect(() => validateFailureLimiterOptions({ maxFailures: 1, windowSeconds: 10 * 365 * 86_400 })).toThrow(RangeError);
  });

  it('rounds the remaining time of a block up to whole seconds, at least 1', () => {
    expect(blockedFor(1)).toEqual({ blocked: true, retryAfterSeconds: 1 });
    expect(blockedFor(1_000)).toEqual({ blocked: true, retryAfterSeconds: 1 });
    expect(blockedFor(1_001)).toEqual({ blocked: true, retryAfterSeconds: 2 });
    expect(blockedFor(0)).toEqual({ blocked: true, retryAfterSeconds: 1 });
    expect(NOT_BLOCKED).toEqual({ blocked: false, retryAfterSeconds: 0 });
    expect(Object.isFrozen(NOT_BLOCKED)).toBe(true);
  });
});
