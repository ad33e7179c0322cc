import { type NatsConnection, connect } from 'nats';
import type { Broadcast } from '@ocireg/messaging';
import { prefixSubject } from './subjects';

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/**
 * Broadcast over NATS core publish/subscribe: plain subscriptions (no queue group), so every subscriber gets
 * every message, each channel a subject under the transport's subject prefix. Its own connection, opened on
 * first use and reconnecting for ever; at most once, like NATS core. The connection does not echo: what this
 * process publishes never comes back to its own subscriptions (it acted on its change already).
 *
 * publish() does not wait for a flush: the client writes the message on the connection at once, and a flush
 * (a PING and its PONG) cost each mutation a round trip to the server before the client got its answer.
 */
export class NatsBroadcast implements Broadcast {
  private connection: Promise<NatsConnection> | undefined;

  constructor(
    private readonly servers: string[],
    private readonly subjectPrefix?: string,
  ) {}

  async publish(channel: string, message: object): Promise<void> {
    const nc = await this.connect();
    nc.publish(this.subject(channel), encoder.encode(JSON.stringify(message)));
  }

  async subscribe(channel: string, handler: (message: unknown) => void): Promise<() => void> {
    const nc = await this.connect();
    const subscription = nc.subscribe(this.subject(channel), {
      callback: (error, msg) => {
        if (error) return;
        let message: unknown;
        try {
          message = JSON.parse(decoder.decode(msg.data));
        } catch {
          return; // not ours: nothing to deliver
        }
        handler(message);
      },
    });
    // The subscription is known to the server once a PING round trip has followed it.
    await nc.flush();
    return () => subscription.unsubscribe();
  }

  async close(): Promise<void> {
    const connection = this.connection;
    this.connection = undefined;
    if (!connection) return;
    const nc = await connection.catch(() => undefined);
    if (nc && !nc.isClosed()) await nc.close();
  }

  private connect(): Promise<NatsConnection> {
    if (!this.connection) {
      const connecting = connect({ servers: this.servers, maxReconnectAttempts: -1, name: 'ocireg-broadcast', noEcho: true });
      // A failed first connection is not kept: the next use tries again.
      connecting.catch(() => {
        if (this.connection === connecting) this.connection = undefined;
      });
      this.connection = connecting;
    }
    return this.connection;
  }

  private subject(channel: string): string {
    return prefixSubject(this.subjectPrefix, `broadcast.${channel}`);
  }
}
