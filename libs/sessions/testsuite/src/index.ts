export { describeUploadSessionStoreContract } from './upload-session-contract';
export type { UploadSessionStoreFixture } from './upload-session-contract';
