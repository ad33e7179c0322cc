import type { RegistryRpc, RequestOf, ResponseOf, Subject } from '@ocireg/contracts';
import { RegistryError } from '@ocireg/errors';
import { type RpcMetrics, secondsSince } from '@ocireg/observability';

/** A decorator of the gateway's RPC client: counts and times every request by subject, and its failures by code. */
export class InstrumentedRpc implements RegistryRpc {
  constructor(
    private readonly inner: RegistryRpc,
    private readonly metrics: RpcMetrics,
  ) {}

  async call<S extends Subject>(subject: S, request: RequestOf<S>): Promise<ResponseOf<S>> {
    const start = process.hrtime.bigint();
    this.metrics.requests.inc({ subject });
    try {
      return await this.inner.call(subject, request);
    } catch (error) {
      this.metrics.errors.inc({ subject, code: error instanceof RegistryError ? error.kind : 'UNKNOWN' });
      throw error;
    } finally {
      this.metrics.duration.observe({ subject }, secondsSince(start));
    }
  }
}
