export { ERROR_CATALOGUE, ERROR_KINDS, isErrorKind } from './catalogue';
export type { ErrorKind } from './catalogue';
export { RegistryError, errorEnvelope, assertUnreachable } from './registry-error';
export type { WireError, ErrorEnvelope } from './registry-error';
