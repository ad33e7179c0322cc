export { loadConfig, parseDurationSeconds, ConfigError } from './config';
export type { RegistryConfig, RunProfile, FilesystemStorageConfig, S3StorageConfig } from './config';
export { Tokens } from './tokens';
