export { FilesystemContentStore } from './fs-content-store';
export type { FilesystemContentStoreOptions } from './fs-content-store';
