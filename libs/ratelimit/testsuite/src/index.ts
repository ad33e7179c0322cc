export { describeFailureLimiterContract } from './failure-limiter-contract';
export type { FailureLimiterFixture } from './failure-limiter-contract';
