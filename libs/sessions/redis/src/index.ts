export { RedisUploadSessionStore, DEFAULT_UPLOAD_SESSION_KEY_PREFIX } from './redis-session-store';
export type { RedisUploadSessionStoreOptions } from './redis-session-store';
