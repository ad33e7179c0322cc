export * from './processes';
export * from './registries';
export * from './oci-fixtures';
export * from './s3';
export * from './registry-http';
export * from './pki';
export * from './tracing';
