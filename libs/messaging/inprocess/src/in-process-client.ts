import { ClientProxy, PacketId, ReadPacket, WritePacket } from '@nestjs/microservices';
import { EmptyResponseException } from '@nestjs/microservices/errors/empty-response.exception';
import type { InProcessBus } from './in-process-bus';

/** The client was closed while the request was still waiting for its reply. */
export class ClientClosedError extends Error {
  override readonly name = 'ClientClosedError';
}

/**
 * A Nest ClientProxy on an InProcessBus. Packets cross as JSON text and are delivered on a later turn of
 * the event loop, as over a network. A request nobody handles fails with Nest's EmptyResponseException,
 * the same error NATS "no responders" gives.
 */
export class InProcessClient extends ClientProxy {
  private readonly pending = new Map<string, (packet: WritePacket) => void>();
  private connected = false;

  constructor(private readonly bus: InProcessBus) {
    super();
  }

  connect(): Promise<InProcessBus> {
    if (!this.connected) {
      this.connected = true;
      this._status$.next('connected');
    }
    return Promise.resolve(this.bus);
  }

  close(): Promise<void> {
    const waiting = [...this.pending.values()];
    this.pending.clear();
    for (const callback of waiting) callback({ err: new ClientClosedError('transport client closed'), isDisposed: true });
    if (this.connected) this._status$.next('disconnected');
    this.connected = false;
    return Promise.resolve();
  }

  /** There are no connection events in process. */
  override on(): void {
    return undefined;
  }

  unwrap<T>(): T {
    if (!this.connected) throw new Error('Not initialized. Please call the "connect" method first.');
    return this.bus as unknown as T;
  }

  protected publish(partialPacket: ReadPacket, callback: (packet: WritePacket) => void): () => void {
    try {
      const packet = this.assignPacketId(partialPacket);
      const route = this.normalizePattern(packet.pattern);
      const json = JSON.stringify(packet);
      this.pending.set(packet.id, callback);
      setImmediate(() => this.deliver(route, packet.id, json));
      return () => {
        this.pending.delete(packet.id);
      };
    } catch (err) {
      callback({ err });
      return () => undefined;
    }
  }

  protected dispatchEvent<T = undefined>(packet: ReadPacket): Promise<T> {
    const route = this.normalizePattern(packet.pattern);
    const json = JSON.stringify(packet);
    setImmediate(() => {
      for (const member of this.bus.pick(route)) member.deliverEvent(route, json);
    });
    return Promise.resolve(undefined as T);
  }

  private deliver(route: string, id: string, json: string): void {
    if (!this.pending.has(id)) return;
    const members = this.bus.pick(route);
    if (members.length === 0) {
      this.settle(id, { err: new EmptyResponseException(route), isDisposed: true });
      return;
    }
    for (const member of members) member.deliverRequest(route, json, (reply) => this.receive(reply));
  }

  private receive(json: string): void {
    const { id, err, response, isDisposed } = JSON.parse(json) as WritePacket & PacketId;
    if (err || isDisposed) this.settle(id, { err, response, isDisposed: true });
    else this.pending.get(id)?.({ err, response });
  }

  private settle(id: string, packet: WritePacket): void {
    const callback = this.pending.get(id);
    this.pending.delete(id);
    callback?.(packet);
  }
}
