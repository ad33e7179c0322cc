import type { ClientProxy, CustomTransportStrategy } from '@nestjs/microservices';
import type { Broadcast, RegistryTransport } from '@ocireg/messaging';
import { InProcessBroadcast, InProcessChannels } from './in-process-broadcast';
import { InProcessBus } from './in-process-bus';
import { InProcessClient } from './in-process-client';
import { InProcessServer } from './in-process-server';

/**
 * RegistryTransport for the embedded one-process registry. Each instance owns its own bus, so several
 * registries can live in one process; servers created with the same queue name share the load round robin.
 */
export class InProcessTransport implements RegistryTransport {
  readonly kind = 'inprocess' as const;
  private readonly bus = new InProcessBus();
  private readonly channels = new InProcessChannels();

  createServer(queue: string): CustomTransportStrategy {
    return new InProcessServer(this.bus, queue);
  }

  createClient(): ClientProxy {
    return new InProcessClient(this.bus);
  }

  createBroadcast(): Broadcast {
    return new InProcessBroadcast(this.channels);
  }
}
