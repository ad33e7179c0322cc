import type { Broadcast } from '@ocireg/messaging';

/** The fan-out side of one InProcessTransport: channel -> the handlers subscribed to it, across its broadcasts. */
export class InProcessChannels {
  private readonly subscribers = new Map<string, Set<(message: unknown) => void>>();

  subscribe(channel: string, handler: (message: unknown) => void): () => void {
    const set = this.subscribers.get(channel) ?? new Set();
    set.add(handler);
    this.subscribers.set(channel, set);
    return () => {
      set.delete(handler);
      if (set.size === 0 && this.subscribers.get(channel) === set) this.subscribers.delete(channel);
    };
  }

  /** Each handler gets its own copy, as if it had come over the wire; delivered on a later tick, like NATS. */
  publish(channel: string, json: string): void {
    for (const handler of [...(this.subscribers.get(channel) ?? [])]) {
      setImmediate(() => handler(JSON.parse(json)));
    }
  }
}

/** Broadcast over an in-process transport's channels. */
export class InProcessBroadcast implements Broadcast {
  private readonly ends = new Set<() => void>();

  constructor(private readonly channels: InProcessChannels) {}

  async publish(channel: string, message: object): Promise<void> {
    this.channels.publish(channel, JSON.stringify(message));
  }

  async subscribe(channel: string, handler: (message: unknown) => void): Promise<() => void> {
    const end = this.channels.subscribe(channel, handler);
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
