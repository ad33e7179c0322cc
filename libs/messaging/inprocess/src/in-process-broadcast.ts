import type { Broadcast } from '@ocireg/messaging';

/** The fan-out side of one InProcessTransport: channel -> the handlers subscribed to it, across its broadcasts. */
interface Subscriber {
  handler: (message: unknown) => void;
  /** The broadcast that subscribed: it does not get what it published itself. */
  owner: object;
}

export class InProcessChannels {
  private readonly subscribers = new Map<string, Set<Subscriber>>();

  subscribe(channel: string, handler: (message: unknown) => void, owner: object): () => void {
    const set = this.subscribers.get(channel) ?? new Set();
    const subscriber = { handler, owner };
    set.add(subscriber);
    this.subscribers.set(channel, set);
    return () => {
      set.delete(subscriber);
      if (set.size === 0 && this.subscribers.get(channel) === set) this.subscribers.delete(channel);
    };
  }

  /**
   * Each handler gets its own copy, as if it had come over the wire; delivered on a later tick, like NATS;
   * never to the publishing broadcast's own subscriptions.
   */
  publish(channel: string, json: string, publisher: object): void {
    for (const { handler, owner } of [...(this.subscribers.get(channel) ?? [])]) {
      if (owner !== publisher) setImmediate(() => handler(JSON.parse(json)));
    }
  }
}

/** Broadcast over an in-process transport's channels. */
export class InProcessBroadcast implements Broadcast {
  private readonly ends = new Set<() => void>();

  constructor(private readonly channels: InProcessChannels) {}

  async publish(channel: string, message: object): Promise<void> {
    this.channels.publish(channel, JSON.stringify(message), this);
  }

  async subscribe(channel: string, handler: (message: unknown) => void): Promise<() => void> {
    const end = this.channels.subscribe(channel, handler, this);
    const stop = () => {
      end();
      this.ends.delete(stop);
    };
    this.ends.add(stop);
    return stop;
  }

  async close(): Promise<void> {
    for (const stop of [...this.ends]) stop();
  }
}
