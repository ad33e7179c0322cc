export { NOT_BLOCKED, blockedFor, validateFailureLimiterOptions, windowMilliseconds } from './failure-limiter';
export type { FailureLimiter, FailureLimiterOptions, FailureLimiterState } from './failure-limiter';
