/** The state of one key: whether it is blocked, and for how many more whole seconds (0 when not blocked). */
export interface FailureLimiterState {
  blocked: boolean;
  /** Seconds until the block ends, rounded up (for a Retry-After header); 0 when not blocked. */
  retryAfterSeconds: number;
}

export interface FailureLimiterOptions {
  /** Failures within one window that block the key (a positive integer). */
  maxFailures: number;
  /** Length of the window, which starts at a key's first failure (positive, may be fractional). */
  windowSeconds: number;
}

/**
 * Limits failed logins per key (e.g. `ip:127.0.0.1`, `user:alice`) with a fixed window that starts at the key's
 * first failure: once `maxFailures` failures are counted within `windowSeconds`, the key is blocked until that
 * window ends; failures while blocked do not extend it. After the window the key starts afresh.
 * Keys are arbitrary strings of any length. Every adapter passes the shared contract suite.
 */
export interface FailureLimiter {
  /** Whether `key` is currently blocked, and for how many more seconds (for a Retry-After header). */
  check(key: string): Promise<FailureLimiterState>;
  /** Counts one failure for `key`; returns the state after counting (blocked once `maxFailures` is reached within the window). */
  fail(key: string): Promise<FailureLimiterState>;
  /** Forgets the failures of `key` (after a successful login). */
  reset(key: string): Promise<void>;
  /** Checks the backend is reachable and starts any housekeeping. */
  init(): Promise<void>;
  /** Stops housekeeping and releases what the limiter opened. */
  close(): Promise<void>;
}

export const NOT_BLOCKED: Readonly<FailureLimiterState> = Object.freeze({ blocked: false, retryAfterSeconds: 0 });

/** Throws a RangeError naming the bad option; returns the options otherwise. */
export function validateFailureLimiterOptions(options: FailureLimiterOptions): FailureLimiterOptions {
  const { maxFailures, windowSeconds } = options;
  if (!Number.isSafeInteger(maxFailures) || maxFailures < 1) {
    throw new RangeError(`failure limiter maxFailures must be a positive integer, got ${maxFailures}`);
  }
  if (!Number.isFinite(windowSeconds) || windowSeconds <= 0 || windowSeconds * 1000 > MAX_WINDOW_MS) {
    throw new RangeError(`failure limiter windowSeconds must be a positive number of seconds, got ${windowSeconds}`);
  }
  return { maxFailures, windowSeconds };
}

/** The window in whole milliseconds (at least 1). */
export function windowMilliseconds(options: FailureLimiterOptions): number {
  return Math.max(1, Math.ceil(options.windowSeconds * 1000));
}

/** Blocked state for a block ending in `remainingMs`: whole seconds rounded up, at least 1. */
export function blockedFor(remainingMs: number): FailureLimiterState {
  return { blocked: true, retryAfterSeconds: Math.max(1, Math.ceil(remainingMs / 1000)) };
}

/** About 1 year: keeps timers and Redis TTLs far from their limits. */
const MAX_WINDOW_MS = 366 * 24 * 60 * 60 * 1000;
