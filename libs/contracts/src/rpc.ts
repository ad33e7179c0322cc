import type { ClientProxy } from '@nestjs/microservices';
import { firstValueFrom, timeout } from 'rxjs';
import { RegistryError } from '@ocireg/errors';
import { Contracts, RequestOf, ResponseOf, Subject } from './schemas';

/** Parses a request payload by its contract; a malformed payload is a bug between our own processes. */
export function parseRequest<S extends Subject>(subject: S, payload: unknown): RequestOf<S> {
  const result = Contracts[subject].request.safeParse(payload);
  if (!result.success) throw new RegistryError('UNKNOWN', `malformed ${subject} request`);
  return result.data as RequestOf<S>;
}

/** A typed request/reply client over any transport's ClientProxy. Errors arrive as RegistryError. */
export class RegistryRpcClient {
  constructor(
    private readonly client: ClientProxy,
    private readonly timeoutMs = 30_000,
  ) {}

  async call<S extends Subject>(subject: S, request: RequestOf<S>): Promise<ResponseOf<S>> {
    try {
      return await firstValueFrom(this.client.send<ResponseOf<S>, RequestOf<S>>(subject, request).pipe(timeout(this.timeoutMs)));
    } catch (error) {
      if (RegistryError.isWire(error)) throw RegistryError.fromWire(error);
      if (error instanceof Error && error.name === 'TimeoutError') {
        throw new RegistryError('UNAVAILABLE', `no answer to ${subject} in time`);
      }
      throw new RegistryError('UNAVAILABLE', `${subject} failed`);
    }
  }

  connect(): Promise<unknown> {
    return this.client.connect();
  }

  async close(): Promise<void> {
    await this.client.close();
  }
}
