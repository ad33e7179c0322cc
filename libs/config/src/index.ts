export { loadConfig, parseDurationSeconds, ConfigError } from './config';
export type { RegistryConfig, RunProfile, FilesystemStorageConfig, S3StorageConfig, AuthConfig, TlsConfig, LoginLimits, DebugConfig, TracingConfig } from './config';
export { Tokens } from './tokens';
