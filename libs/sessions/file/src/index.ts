export { FileUploadSessionStore, InvalidUploadSessionIdError } from './file-session-store';
export type { FileUploadSessionStoreOptions } from './file-session-store';
