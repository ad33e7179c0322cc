import type { RegistryRpc, RequestOf, ResponseOf, Subject } from '@ocireg/contracts';
import { RegistryError } from '@ocireg/errors';
import { REQUEST_ID_FIELD, type RpcMetrics, SpanKind, TRACE_FIELD, type Tracer, currentRequestId, currentTraceHeaders, inSpan, secondsSince } from '@ocireg/observability';

/**
 * A decorator of the gateway's RPC client: counts and times every request by subject, and its failures by
 * code, and sends the current request id and trace context along in the payload's `$requestId` and `$trace`
 * fields (which the services' interceptor takes out before the handler parses the payload by its contract).
 * With a tracer, each request is a client span (`rpc <subject>`) whose context is the one sent.
 */
export class InstrumentedRpc implements RegistryRpc {
  constructor(
    private readonly inner: RegistryRpc,
    private readonly metrics: RpcMetrics,
    private readonly tracer?: Tracer,
    /** `nats` or `inprocess`: the spans' `rpc.system`. */
    private readonly system = 'nats',
  ) {}

  call<S extends Subject>(subject: S, request: RequestOf<S>): Promise<ResponseOf<S>> {
    if (!this.tracer) return this.measured(subject, request);
    return inSpan(this.tracer, `rpc ${subject}`, SpanKind.CLIENT, { 'rpc.system': this.system, 'rpc.method': subject }, () => this.measured(subject, request));
  }

  private async measured<S extends Subject>(subject: S, request: RequestOf<S>): Promise<ResponseOf<S>> {
    const start = process.hrtime.bigint();
    this.metrics.requests.inc({ subject });
    try {
      return await this.inner.call(subject, withContext(request));
    } catch (error) {
      this.metrics.errors.inc({ subject, code: error instanceof RegistryError ? error.kind : 'UNKNOWN' });
      throw error;
    } finally {
      this.metrics.duration.observe({ subject }, secondsSince(start));
    }
  }
}

/** The request with the current request id and trace context, if any, in the fields the services' interceptor takes out. */
export function withContext<T>(request: T): T {
  if (typeof request !== 'object' || request === null || Array.isArray(request)) return request;
  const requestId = currentRequestId();
  const trace = currentTraceHeaders();
  if (!requestId && !trace) return request;
  return { ...request, ...(requestId ? { [REQUEST_ID_FIELD]: requestId } : {}), ...(trace ? { [TRACE_FIELD]: trace } : {}) };
}
