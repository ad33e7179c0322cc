import { createHash } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import {
  NOT_BLOCKED, blockedFor, validateFailureLimiterOptions, windowMilliseconds,
} from '@ocireg/ratelimit';
import type { FailureLimiter, FailureLimiterOptions, FailureLimiterState } from '@ocireg/ratelimit';

export interface MemoryFailureLimiterOptions extends FailureLimiterOptions {
  /**
   * Most keys tracked at once (default 100 000). When full, expired entries are removed first; if none has
   * expired, the entry whose window ends soonest is dropped, so memory stays bounded under a flood of keys.
   */
  maxEntries?: number;
  /** How often expired entries are removed while no failures arrive; 0 turns the timer off. Default 60 000. */
  sweepIntervalMs?: number;
  /** Clock in milliseconds; monotonic by default (wall-clock changes do not move windows). For tests. */
  now?: () => number;
}

export const DEFAULT_MEMORY_FAILURE_LIMITER_MAX_ENTRIES = 100_000;
const DEFAULT_SWEEP_INTERVAL_MS = 60_000;

interface Entry {
  count: number;
  /** Clock value at which the window that started with the first failure ends. */
  endsAt: number;
}

/**
 * Failure limiting for one process (the embedded registry). Entries live in a Map in insertion order; every
 * window has the same length and a key that starts a new window is re-inserted, so the Map is also ordered by
 * `endsAt`: removing expired entries stops at the first live one, and the oldest entry is the first.
 * Keys are hashed, so memory per entry does not depend on the key's length.
 */
export class MemoryFailureLimiter implements FailureLimiter {
  private readonly maxFailures: number;
  private readonly windowMs: number;
  private readonly maxEntries: number;
  private readonly sweepIntervalMs: number;
  private readonly now: () => number;
  private readonly entries = new Map<string, Entry>();
  private sweepTimer: NodeJS.Timeout | undefined;

  constructor(options: MemoryFailureLimiterOptions) {
    const valid = validateFailureLimiterOptions(options);
    this.maxFailures = valid.maxFailures;
    this.windowMs = windowMilliseconds(valid);
    this.maxEntries = options.maxEntries ?? DEFAULT_MEMORY_FAILURE_LIMITER_MAX_ENTRIES;
    if (!Number.isSafeInteger(this.maxEntries) || this.maxEntries < 1) {
      throw new RangeError(`failure limiter maxEntries must be a positive integer, got ${options.maxEntries}`);
    }
    this.sweepIntervalMs = options.sweepIntervalMs ?? DEFAULT_SWEEP_INTERVAL_MS;
    if (!Number.isFinite(this.sweepIntervalMs) || this.sweepIntervalMs < 0) {
      throw new RangeError(`failure limiter sweepIntervalMs must be 0 or more, got ${options.sweepIntervalMs}`);
    }
    this.now = options.now ?? (() => performance.now());
  }

  /** Number of keys currently tracked (expired ones may linger until the next sweep). */
  get size(): number {
    return this.entries.size;
  }

  async init(): Promise<void> {
    if (this.sweepIntervalMs > 0 && !this.sweepTimer) {
      this.sweepTimer = setInterval(() => this.sweep(), this.sweepIntervalMs);
      this.sweepTimer.unref();
    }
  }

  async close(): Promise<void> {
    if (this.sweepTimer) {
      clearInterval(this.sweepTimer);
      this.sweepTimer = undefined;
    }
  }

  async check(key: string): Promise<FailureLimiterState> {
    const id = hashKey(key);
    const entry = this.entries.get(id);
    const now = this.now();
    if (!entry) {
      return { ...NOT_BLOCKED };
    }
    if (entry.endsAt <= now) {
      this.entries.delete(id);
      return { ...NOT_BLOCKED };
    }
    return this.state(entry, now);
  }

  async fail(key: string): Promise<FailureLimiterState> {
    const id = hashKey(key);
    const now = this.now();
    this.sweep(now);
    let entry = this.entries.get(id);
    if (entry && entry.endsAt <= now) {
      this.entries.delete(id);
      entry = undefined;
    }
    if (entry) {
      entry.count = Math.min(entry.count + 1, this.maxFailures);
    } else {
      this.makeRoom();
      entry = { count: 1, endsAt: now + this.windowMs };
      this.entries.set(id, entry);
    }
    return this.state(entry, now);
  }

  async reset(key: string): Promise<void> {
    this.entries.delete(hashKey(key));
  }

  /** Removes expired entries (those at the front of the Map); returns how many. */
  sweep(now = this.now()): number {
    let removed = 0;
    for (const [id, entry] of this.entries) {
      if (entry.endsAt > now) {
        break;
      }
      this.entries.delete(id);
      removed += 1;
    }
    return removed;
  }

  private makeRoom(): void {
    while (this.entries.size >= this.maxEntries) {
      const oldest = this.entries.keys().next();
      if (oldest.done) {
        return;
      }
      this.entries.delete(oldest.value);
    }
  }

  private state(entry: Entry, now: number): FailureLimiterState {
    return entry.count >= this.maxFailures ? blockedFor(entry.endsAt - now) : { ...NOT_BLOCKED };
  }
}

/** A fixed-size digest of the key. UTF-16 code units are hashed, so distinct strings (even with lone surrogates) stay distinct. */
function hashKey(key: string): string {
  return createHash('sha256').update(Buffer.from(key, 'utf16le')).digest('base64');
}
