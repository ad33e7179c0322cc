import { ClientNats, MsPattern, NatsOptions, ReadPacket, WritePacket } from '@nestjs/microservices';
import { type Msg, type NatsConnection, type NatsError, type Subscription, createInbox } from 'nats';
import { prefixSubject } from './subjects';

type ReplyHandler = (error: NatsError | null, message: Msg) => void;

/** The parts of Nest's ClientNats that a request is made of, which it keeps protected or private. */
interface ClientNatsInternals {
  natsClient: NatsConnection | null;
  serializer: { serialize(packet: ReadPacket & { id: string }): { data: unknown; headers?: unknown } };
  assignPacketId(packet: ReadPacket): ReadPacket & { id: string };
  createSubscriptionHandler(packet: ReadPacket & { id: string }, callback: (packet: WritePacket) => void): ReplyHandler;
  mergeHeaders(headers?: unknown): unknown;
}

/**
 * One subscription (`<inbox>.*`) for the replies to every request of a connection, each request told apart by
 * the last token of its reply subject, instead of a subscription and an unsubscription per request.
 */
class ReplyInbox {
  readonly prefix = createInbox();
  private readonly handlers = new Map<string, ReplyHandler>();
  private readonly subscription: Subscription;
  private next = 0;

  constructor(readonly connection: NatsConnection) {
    this.subscription = connection.subscribe(`${this.prefix}.*`, {
      callback: (error, message) => {
        if (error) {
          for (const handler of [...this.handlers.values()]) handler(error, message);
          return;
        }
        this.handlers.get(message.subject.slice(this.prefix.length + 1))?.(null, message);
      },
    });
  }

  /** A reply subject routed to `handler` until the returned function is called. */
  open(handler: ReplyHandler): { subject: string; close: () => void } {
    const token = (this.next++).toString(36);
    this.handlers.set(token, handler);
    return { subject: `${this.prefix}.${token}`, close: () => this.handlers.delete(token) };
  }

  unsubscribe(): void {
    this.handlers.clear();
    if (!this.connection.isClosed()) this.subscription.unsubscribe();
  }
}

/** No reply within the client's `timeoutMs`. Named like rxjs' TimeoutError so callers treat both alike. */
export class RequestTimeoutError extends Error {
  override readonly name = 'TimeoutError';
}

/** The client was closed while the request was still waiting for its reply. */
export class ClientClosedError extends Error {
  override readonly name = 'ClientClosedError';
}

/**
 * Nest's ClientNats plus what the registry needs from it: an optional per-request reply timeout, and
 * close() failing the requests still in flight instead of leaving their observables open forever.
 * Connects lazily (on the first send) or through connect(); close() drops the connection and every timer.
 */
export class NatsRegistryClient extends ClientNats {
  private readonly pending = new Set<(error: Error) => void>();
  private inbox: ReplyInbox | undefined;

  constructor(
    options: Required<NatsOptions>['options'],
    private readonly timeoutMs?: number,
    private readonly subjectPrefix?: string,
  ) {
    super(options);
  }

  protected override normalizePattern(pattern: MsPattern): string {
    return prefixSubject(this.subjectPrefix, super.normalizePattern(pattern));
  }

  override async close(): Promise<void> {
    for (const fail of [...this.pending]) fail(new ClientClosedError('transport client closed'));
    this.inbox?.unsubscribe();
    this.inbox = undefined;
    await super.close();
  }

  protected override publish(packet: ReadPacket, callback: (packet: WritePacket) => void): () => void {
    let settled = false;
    let timer: NodeJS.Timeout | undefined;
    let unsubscribe: () => void = () => undefined;
    const settle = (): void => {
      settled = true;
      if (timer !== undefined) clearTimeout(timer);
      this.pending.delete(fail);
    };
    const fail = (error: Error): void => {
      if (settled) return;
      settle();
      unsubscribe();
      callback({ err: error, isDisposed: true });
    };
    this.pending.add(fail);
    const pattern = this.normalizePattern(packet.pattern);
    unsubscribe = this.request(packet, (reply) => {
      if (settled) return;
      if (reply.err || reply.isDisposed) settle();
      callback(reply);
    });
    if (!settled && this.timeoutMs !== undefined) {
      timer = setTimeout(() => fail(new RequestTimeoutError(`no reply to "${pattern}" within ${this.timeoutMs} ms`)), this.timeoutMs);
    }
    return () => {
      if (!settled) settle();
      unsubscribe();
    };
  }

  /**
   * ClientNats.publish with the reply coming to the connection's ReplyInbox: the same packet, serializer,
   * headers and reply handling (every emission of an Observable handler, "no responders"), one message out.
   */
  private request(partialPacket: ReadPacket, callback: (packet: WritePacket) => void): () => void {
    const nest = this as unknown as ClientNatsInternals;
    try {
      const connection = nest.natsClient;
      if (!connection) throw new Error('the NATS client is not connected');
      if (this.inbox?.connection !== connection) {
        this.inbox?.unsubscribe();
        this.inbox = new ReplyInbox(connection);
      }
      const packet = nest.assignPacketId(partialPacket);
      const serialized = nest.serializer.serialize(packet);
      const reply = this.inbox.open(nest.createSubscriptionHandler(packet, callback));
      connection.publish(this.normalizePattern(partialPacket.pattern), serialized.data as Uint8Array, {
        reply: reply.subject,
        headers: nest.mergeHeaders(serialized.headers) as never,
      });
      return reply.close;
    } catch (err) {
      callback({ err });
      return () => undefined;
    }
  }
}
