export { NatsTransport } from './nats-transport';
export type { NatsTransportOptions } from './nats-transport';
export { NatsRegistryClient, RequestTimeoutError, ClientClosedError } from './nats-client';
