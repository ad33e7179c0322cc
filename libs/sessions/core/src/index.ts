export type { UploadSession, UploadSessionStore, UploadLease } from './upload-session';
