import { CustomTransportStrategy, IncomingEvent, IncomingRequest, Server, TransportId, WritePacket } from '@nestjs/microservices';
import { NO_MESSAGE_HANDLER } from '@nestjs/microservices/constants';
import { RouteCache } from '@ocireg/messaging';
import type { BusMember, InProcessBus } from './in-process-bus';
import { InProcessContext } from './in-process-context';

/** The transport id Nest's processing hooks see for in-process messages. */
export const IN_PROCESS_TRANSPORT: unique symbol = Symbol('IN_PROCESS_TRANSPORT');

/** Serialises a response packet; a response JSON cannot carry becomes an error reply instead of a crash. */
export function encodeResponse(packet: WritePacket & { id: string }): string {
  try {
    return JSON.stringify(packet);
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    return JSON.stringify({
      id: packet.id,
      err: { status: 'error', message: `response is not serialisable as JSON: ${reason}` },
      isDisposed: true,
    });
  }
}

/**
 * A Nest custom transport strategy on an InProcessBus. Requests and replies arrive and leave as JSON text,
 * so handlers see exactly what they would see over NATS; replies follow Nest's own `send` protocol (one
 * packet per emission, the last one marked `isDisposed`).
 */
export class InProcessServer extends Server implements CustomTransportStrategy, BusMember {
  override transportId: TransportId = IN_PROCESS_TRANSPORT;
  private listening = false;
  private readonly routes = new RouteCache();

  constructor(
    private readonly bus: InProcessBus,
    private readonly queue: string,
  ) {
    super();
  }

  listen(callback: (...optionalParams: unknown[]) => void): void {
    this.bus.join(this.queue, this);
    this.listening = true;
    this._status$.next('connected');
    callback();
  }

  close(): void {
    this.bus.leave(this.queue, this);
    if (this.listening) this._status$.next('disconnected');
    this.listening = false;
  }

  /** There are no connection events in process. */
  on(): void {
    return undefined;
  }

  unwrap<T>(): T {
    if (!this.listening) throw new Error('Not initialized. Please call the "listen"/"startAllMicroservices" method first.');
    return this.bus as unknown as T;
  }

  protected override getRouteFromPattern(pattern: string): string {
    return this.routes.resolve(pattern, (p) => super.getRouteFromPattern(p));
  }

  handles(route: string): boolean {
    return this.listening && this.getHandlerByPattern(route) !== null;
  }

  deliverRequest(route: string, json: string, reply: (json: string) => void): void {
    const packet = JSON.parse(json) as IncomingRequest;
    const ctx = new InProcessContext([route]);
    const respond = (response: WritePacket): void => {
      this.onProcessingEndHook?.(this.transportId, ctx);
      reply(encodeResponse({ ...response, id: packet.id }));
    };
    const handler = this.getHandlerByPattern(route);
    if (!handler) {
      respond({ status: 'error', err: NO_MESSAGE_HANDLER, isDisposed: true });
      return;
    }
    this.onProcessingStartHook(this.transportId, ctx, async () => {
      try {
        const response$ = this.transformToObservable(await handler(packet.data, ctx));
        this.send(response$, respond);
      } catch (error) {
        // Nest's exception filters normally turn failures into an erroring observable; this is the backstop.
        respond({ err: error, isDisposed: true });
      }
    });
  }

  deliverEvent(route: string, json: string): void {
    const packet = JSON.parse(json) as IncomingEvent;
    this.handleEvent(route, packet, new InProcessContext([route])).catch((error: unknown) =>
      this.logger.error(error instanceof Error ? (error.stack ?? error.message) : String(error)),
    );
  }
}
