export { describeMetadataContract } from './contract';
export type { MetadataFixture } from './context';
