export type { RegistryTransport } from './transport';
