export { MemoryFailureLimiter, DEFAULT_MEMORY_FAILURE_LIMITER_MAX_ENTRIES } from './memory-failure-limiter';
export type { MemoryFailureLimiterOptions } from './memory-failure-limiter';
