export { S3ContentStore } from './s3-content-store';
export type { S3ContentStoreOptions } from './s3-content-store';
