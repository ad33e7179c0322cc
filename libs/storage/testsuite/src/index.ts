export { describeContentStoreContract } from './contract';
export type { ContentStoreFixture } from './context';
