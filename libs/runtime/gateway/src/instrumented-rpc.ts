import type { RegistryRpc, RequestOf, ResponseOf, Subject } from '@ocireg/contracts';
import { RegistryError } from '@ocireg/errors';
import { REQUEST_ID_FIELD, type RpcMetrics, currentRequestId, secondsSince } from '@ocireg/observability';

/**
 * A decorator of the gateway's RPC client: counts and times every request by subject, and its failures by
 * code, and sends the current request id along in the payload's `$requestId` field (which the services'
 * interceptor takes out before the handler parses the payload by its contract).
 */
export class InstrumentedRpc implements RegistryRpc {
  constructor(
    private readonly inner: RegistryRpc,
    private readonly metrics: RpcMetrics,
  ) {}

  async call<S extends Subject>(subject: S, request: RequestOf<S>): Promise<ResponseOf<S>> {
    const start = process.hrtime.bigint();
    this.metrics.requests.inc({ subject });
    try {
      return await this.inner.call(subject, withRequestId(request));
    } catch (error) {
      this.metrics.errors.inc({ subject, code: error instanceof RegistryError ? error.kind : 'UNKNOWN' });
      throw error;
    } finally {
      this.metrics.duration.observe({ subject }, secondsSince(start));
    }
  }
}

/** The request with the current request id, if any, in the field the services' interceptor takes out. */
export function withRequestId<T>(request: T): T {
  const requestId = currentRequestId();
  if (!requestId || typeof request !== 'object' || request === null || Array.isArray(request)) return request;
  return { ...request, [REQUEST_ID_FIELD]: requestId };
}
