import type { ClientProxy } from '@nestjs/microservices';
import { EmptyResponseException } from '@nestjs/microservices/errors/empty-response.exception';
import { firstValueFrom, timeout } from 'rxjs';
import { RegistryError } from '@ocireg/errors';
import { Contracts, RequestOf, ResponseOf, Subject } from './schemas';

/** Parses a request payload by its contract; a malformed payload is a bug between our own processes. */
export function parseRequest<S extends Subject>(subject: S, payload: unknown): RequestOf<S> {
  const result = Contracts[subject].request.safeParse(payload);
  if (!result.success) throw new RegistryError('UNKNOWN', `malformed ${subject} request`);
  return result.data as RequestOf<S>;
}

/** Typed requests to the services: what the gateway's handlers depend on (decorators implement it too). */
export interface RegistryRpc {
  call<S extends Subject>(subject: S, request: RequestOf<S>): Promise<ResponseOf<S>>;
}

/** A typed request/reply client over any transport's ClientProxy. Errors arrive as RegistryError. */
export class RegistryRpcClient implements RegistryRpc {
  constructor(
    private readonly client: ClientProxy,
    private readonly timeoutMs = 30_000,
    /** How long to keep retrying while no replica of a service is listening (a restart or a rollout). */
    private readonly noResponderGraceMs = 3_000,
  ) {}

  async call<S extends Subject>(subject: S, request: RequestOf<S>): Promise<ResponseOf<S>> {
    const deadline = Date.now() + this.noResponderGraceMs;
    for (let delay = 25; ; delay = Math.min(delay * 2, 500)) {
      try {
        return await firstValueFrom(this.client.send<ResponseOf<S>, RequestOf<S>>(subject, request).pipe(timeout(this.timeoutMs)));
      } catch (error) {
        // Nobody received the request, so sending it again is safe.
        if (!(error instanceof EmptyResponseException) || Date.now() + delay > deadline) throw this.toRegistryError(subject, error);
      }
      await new Promise((resolve) => setTimeout(resolve, delay));
    }
  }

  private toRegistryError(subject: Subject, error: unknown): RegistryError {
    if (RegistryError.isWire(error)) return RegistryError.fromWire(error);
    if (error instanceof Error && error.name === 'TimeoutError') {
      return new RegistryError('UNAVAILABLE', `no answer to ${subject} in time`);
    }
    return new RegistryError('UNAVAILABLE', `${subject} failed`);
  }

  connect(): Promise<unknown> {
    return this.client.connect();
  }

  async close(): Promise<void> {
    await this.client.close();
  }
}
