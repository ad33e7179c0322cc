import { ClientNats, MsPattern, NatsOptions, ReadPacket, WritePacket } from '@nestjs/microservices';
import { prefixSubject } from './subjects';

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
    unsubscribe = super.publish(packet, (reply) => {
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
}
