import { createHash } from 'node:crypto';
import {
  NOT_BLOCKED, blockedFor, validateFailureLimiterOptions, windowMilliseconds,
} from '@ocireg/ratelimit';
import type { FailureLimiter, FailureLimiterOptions, FailureLimiterState } from '@ocireg/ratelimit';
import { RedisAdapter, type RedisConnectionOptions, type RedisScript, redisScript, runScript } from '@ocireg/redis';

export interface RedisFailureLimiterOptions extends FailureLimiterOptions, RedisConnectionOptions {
  /** Prefix of every key this limiter writes. Default `ocireg:ratelimit:`. */
  keyPrefix?: string;
}

export const DEFAULT_FAILURE_LIMITER_KEY_PREFIX = 'ocireg:ratelimit:';

/**
 * Counts one failure under KEYS[1]; the first failure starts the window of ARGV[1] milliseconds (a counter
 * without a TTL, which only outside writes could leave, gets one too, so nothing blocks forever).
 * Returns {count, remaining milliseconds of the window}.
 */
const FAIL_LUA = `
local count = redis.call('INCR', KEYS[1])
local ttl = redis.call('PTTL', KEYS[1])
if count == 1 or ttl < 0 then
  redis.call('PEXPIRE', KEYS[1], ARGV[1])
  ttl = tonumber(ARGV[1])
end
return {count, ttl}
`;

/** Reads the counter under KEYS[1]: {count, remaining milliseconds}, {0, 0} when absent; repairs a missing TTL. */
const CHECK_LUA = `
local value = redis.call('GET', KEYS[1])
if not value then
  return {0, 0}
end
local count = tonumber(value)
if not count then
  return redis.error_reply('ERR corrupt failure counter under ' .. KEYS[1])
end
local ttl = redis.call('PTTL', KEYS[1])
if ttl == -2 then
  return {0, 0}
end
if ttl < 0 then
  redis.call('PEXPIRE', KEYS[1], ARGV[1])
  ttl = tonumber(ARGV[1])
end
return {count, ttl}
`;

const FAIL_SCRIPT = redisScript(FAIL_LUA);
const CHECK_SCRIPT = redisScript(CHECK_LUA);

/**
 * Failure limiting shared by every gateway replica: one integer counter per key in Redis, expiring with its
 * window; each operation is one atomic Lua script, so concurrent failures from any number of processes count
 * exactly. Keys are stored as the SHA-256 of the caller's key, so their length and characters do not matter
 * (and user names or addresses are not kept in the clear).
 */
export class RedisFailureLimiter extends RedisAdapter implements FailureLimiter {
  private readonly keyPrefix: string;
  private readonly maxFailures: number;
  private readonly windowMs: number;

  constructor(options: RedisFailureLimiterOptions) {
    super(options);
    const valid = validateFailureLimiterOptions(options);
    this.maxFailures = valid.maxFailures;
    this.windowMs = windowMilliseconds(valid);
    this.keyPrefix = options.keyPrefix ?? DEFAULT_FAILURE_LIMITER_KEY_PREFIX;
  }

  async check(key: string): Promise<FailureLimiterState> {
    return this.state(await this.run(CHECK_SCRIPT, key));
  }

  async fail(key: string): Promise<FailureLimiterState> {
    return this.state(await this.run(FAIL_SCRIPT, key));
  }

  async reset(key: string): Promise<void> {
    await this.client.del(this.redisKey(key));
  }

  /** The Redis key that holds the counter of `key`. */
  redisKey(key: string): string {
    return this.keyPrefix + createHash('sha256').update(Buffer.from(key, 'utf16le')).digest('hex');
  }

  private state([count, remainingMs]: [number, number]): FailureLimiterState {
    return count >= this.maxFailures && remainingMs > 0 ? blockedFor(remainingMs) : { ...NOT_BLOCKED };
  }

  private async run(which: RedisScript, key: string): Promise<[number, number]> {
    return parseCounter(await runScript(this.client, which, [this.redisKey(key)], [String(this.windowMs)]));
  }
}

function parseCounter(result: unknown): [number, number] {
  if (Array.isArray(result) && result.length === 2) {
    const [count, remainingMs]: unknown[] = result;
    if (typeof count === 'number' && typeof remainingMs === 'number') {
      return [count, remainingMs];
    }
  }
  throw new Error(`unexpected reply from the failure limiter script: ${JSON.stringify(result)}`);
}

