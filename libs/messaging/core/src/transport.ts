import type { ClientProxy, CustomTransportStrategy } from '@nestjs/microservices';

/**
 * The transport port: how the gateway reaches the services' `@MessagePattern` handlers. The same handlers
 * serve both adapters: NATS request/reply with queue groups (any replica answers) and an in-process bus for
 * the embedded registry. Only control-plane messages travel here, never blob bytes.
 */
export interface RegistryTransport {
  readonly kind: 'nats' | 'inprocess';
  /**
   * A strategy for `app.connectMicroservice({ strategy })`. Servers created with the same queue name share
   * the load: each request is answered by exactly one of them.
   */
  createServer(queue: string): CustomTransportStrategy;
  /** A client that sends requests to whichever server handles the pattern. Payloads travel as JSON. */
  createClient(): ClientProxy;
}
