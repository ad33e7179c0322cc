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
  /** A connection for broadcasts: fan-out to every subscriber, unlike requests. */
  createBroadcast(): Broadcast;
}

/**
 * Fan-out messages: every subscription to a channel, in every process on the transport, receives each
 * message published to it, at most once (a subscriber that is down misses it). What replicas use to tell
 * each other that something changed (cache invalidation). Messages travel as JSON.
 */
export interface Broadcast {
  /**
   * Sends the message to every subscriber but this broadcast's own (the publisher acts on its change itself),
   * at most once. Does not wait for the server: NATS sends it on the connection at once, or keeps it in the
   * client's buffer while the server is unreachable.
   */
  publish(channel: string, message: object): Promise<void>;
  /** Resolves once the subscription is active on the server; returns what ends it. */
  subscribe(channel: string, handler: (message: unknown) => void): Promise<() => void>;
  close(): Promise<void>;
}
