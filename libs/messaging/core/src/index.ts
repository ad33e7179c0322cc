export type { RegistryTransport, Broadcast } from './transport';
