export { RedisFailureLimiter, DEFAULT_FAILURE_LIMITER_KEY_PREFIX } from './redis-failure-limiter';
export type { RedisFailureLimiterOptions } from './redis-failure-limiter';
