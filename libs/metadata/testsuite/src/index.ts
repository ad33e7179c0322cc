export { describeMetadataContract, describeMetadataStoreContract, type StoreContractOptions } from './contract';
export type { MetadataFixture } from './context';
export type { MetadataStoreFixture } from './store-context';
