import { ClientProxy, CustomTransportStrategy, MsPattern, ServerNats } from '@nestjs/microservices';
import { type Broadcast, type RegistryTransport, RouteCache } from '@ocireg/messaging';
import { NatsBroadcast } from './nats-broadcast';
import { NatsRegistryClient } from './nats-client';
import { prefixSubject } from './subjects';

export interface NatsTransportOptions {
  /** NATS server URLs, e.g. `['nats://127.0.0.1:4222']`. */
  servers: string[];
  /** Prepended (as is) to every queue group name, so several registries can share one NATS. */
  queuePrefix?: string;
  /**
   * Prepended (with a '.') to every subject, on servers and clients alike, so that several registries (or
   * test runs) can share one NATS without answering each other's requests.
   */
  subjectPrefix?: string;
  /** Fail a request that has no reply after this many milliseconds (default: wait for ever). */
  timeoutMs?: number;
}

/**
 * RegistryTransport over NATS request/reply, using Nest's own ServerNats and ClientNats. Each pattern is a
 * NATS subject; servers subscribe in the queue group `queuePrefix + queue`, so replicas of one service share
 * the load (NATS hands each request to exactly one member of the group). A request for a subject nobody
 * serves fails at once with Nest's EmptyResponseException (NATS "no responders").
 */
export class NatsTransport implements RegistryTransport {
  readonly kind = 'nats' as const;

  constructor(private readonly options: NatsTransportOptions) {
    if (options.servers.length === 0) throw new Error('NatsTransport needs at least one server URL');
    if (options.timeoutMs !== undefined && !(options.timeoutMs > 0)) {
      throw new Error(`NatsTransport timeoutMs must be positive, got ${options.timeoutMs}`);
    }
  }

  createServer(queue: string): CustomTransportStrategy {
    // Nest 11's ServerNats reads `queue` from its options and subscribes every pattern in that group.
    const server = new PrefixedServerNats({ servers: [...this.options.servers], queue: `${this.options.queuePrefix ?? ''}${queue}` });
    server.subjectPrefix = this.options.subjectPrefix;
    return server;
  }

  createClient(): ClientProxy {
    const client = new NatsRegistryClient({ servers: [...this.options.servers] }, this.options.timeoutMs, this.options.subjectPrefix);
    // ClientNats narrows its status type to NatsStatus, which makes it formally incompatible with the
    // port's `ClientProxy<…, string>` (the status subject is invariant); every NatsStatus is a string.
    return client as ClientProxy;
  }

  createBroadcast(): Broadcast {
    return new NatsBroadcast([...this.options.servers], this.options.subjectPrefix);
  }
}

class PrefixedServerNats extends ServerNats {
  subjectPrefix: string | undefined;
  private readonly routes = new RouteCache();

  protected override getRouteFromPattern(pattern: string): string {
    return this.routes.resolve(pattern, (p) => super.getRouteFromPattern(p));
  }

  protected override normalizePattern(pattern: MsPattern): string {
    return prefixSubject(this.subjectPrefix, super.normalizePattern(pattern));
  }

  /**
   * Leaves the queue groups before closing: the unsubscriptions, then a flush, whose PONG means the server
   * has removed them. Closing the socket at once left a moment in which the server still routed requests to
   * this process, which never answered them (the caller timed out instead of trying a peer or failing fast).
   */
  override async close(): Promise<void> {
    const self = this as unknown as { natsClient?: { flush(): Promise<void> } | null; subscriptions: Array<{ unsubscribe(): void }> };
    if (self.natsClient) {
      for (const subscription of self.subscriptions) subscription.unsubscribe();
      await self.natsClient.flush().catch(() => undefined);
    }
    await super.close();
  }
}
