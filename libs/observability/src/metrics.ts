import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** Latency buckets in seconds: from a cache hit to a slow multi-gigabyte upload. */
const LATENCY_BUCKETS = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300];

export interface HttpMetrics {
  requests: Counter<'kind' | 'method' | 'status'>;
  duration: Histogram<'kind' | 'method' | 'status'>;
  bytesReceived: Counter<'kind'>;
  bytesSent: Counter<'kind'>;
  uploadsInProgress: Gauge;
}

export interface RpcMetrics {
  requests: Counter<'subject'>;
  duration: Histogram<'subject'>;
  errors: Counter<'subject' | 'code'>;
}

export interface StorageMetrics {
  duration: Histogram<'operation'>;
  errors: Counter<'operation'>;
}

export interface DatabaseMetrics {
  duration: Histogram<'operation'>;
  errors: Counter<'operation'>;
}

export interface MessageMetrics {
  handled: Counter<'subject' | 'outcome'>;
  duration: Histogram<'subject'>;
}

/** Connection-pool figures of a database client, read when /metrics is scraped. */
export interface PoolStats {
  total: number;
  idle: number;
  waiting: number;
}

/**
 * The metrics of one process: one prom-client registry (never the global one, so that several registries can
 * live in one test process), Node's default process metrics, and each group of registry metrics created the
 * first time a part of the process asks for it. Every name is defined here.
 */
export class RegistryMetrics {
  readonly registry = new Registry();
  private httpGroup?: HttpMetrics;
  private rpcGroup?: RpcMetrics;
  private storageGroup?: StorageMetrics;
  private databaseGroup?: DatabaseMetrics;
  private messageGroup?: MessageMetrics;

  constructor(defaultMetrics = true) {
    if (defaultMetrics) collectDefaultMetrics({ register: this.registry });
  }

  /** The Prometheus text exposition of every metric. */
  text(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  http(): HttpMetrics {
    const registers = [this.registry];
    this.httpGroup ??= {
      requests: new Counter({ name: 'ocireg_http_requests_total', help: 'HTTP requests answered by the gateway, by route kind, method and status', labelNames: ['kind', 'method', 'status'], registers }),
      duration: new Histogram({ name: 'ocireg_http_request_duration_seconds', help: 'Time from receiving an HTTP request to the end of its response', labelNames: ['kind', 'method', 'status'], buckets: LATENCY_BUCKETS, registers }),
      bytesReceived: new Counter({ name: 'ocireg_http_request_bytes_total', help: 'Request body bytes received by the gateway, by route kind', labelNames: ['kind'], registers }),
      bytesSent: new Counter({ name: 'ocireg_http_response_bytes_total', help: 'Response body bytes sent by the gateway, by route kind', labelNames: ['kind'], registers }),
      uploadsInProgress: new Gauge({ name: 'ocireg_uploads_in_progress', help: 'Upload request bodies (POST, PATCH, PUT) being received right now', registers }),
    };
    return this.httpGroup;
  }

  rpc(): RpcMetrics {
    const registers = [this.registry];
    this.rpcGroup ??= {
      requests: new Counter({ name: 'ocireg_rpc_requests_total', help: 'Requests sent to the services over the transport, by subject', labelNames: ['subject'], registers }),
      duration: new Histogram({ name: 'ocireg_rpc_request_duration_seconds', help: 'Time until a service answered a request, by subject', labelNames: ['subject'], buckets: LATENCY_BUCKETS, registers }),
      errors: new Counter({ name: 'ocireg_rpc_errors_total', help: 'Requests to the services that failed, by subject and registry error code', labelNames: ['subject', 'code'], registers }),
    };
    return this.rpcGroup;
  }

  storage(): StorageMetrics {
    const registers = [this.registry];
    this.storageGroup ??= {
      duration: new Histogram({ name: 'ocireg_storage_operation_duration_seconds', help: 'Content store operation latency, by operation (streams: until the stream ends)', labelNames: ['operation'], buckets: LATENCY_BUCKETS, registers }),
      errors: new Counter({ name: 'ocireg_storage_errors_total', help: 'Content store operations that failed, by operation', labelNames: ['operation'], registers }),
    };
    return this.storageGroup;
  }

  database(): DatabaseMetrics {
    const registers = [this.registry];
    this.databaseGroup ??= {
      duration: new Histogram({ name: 'ocireg_db_query_duration_seconds', help: 'Metadata database query latency, by statement kind (select, insert, ..., transaction)', labelNames: ['operation'], buckets: LATENCY_BUCKETS, registers }),
      errors: new Counter({ name: 'ocireg_db_errors_total', help: 'Metadata database queries that failed, by statement kind', labelNames: ['operation'], registers }),
    };
    return this.databaseGroup;
  }

  /** Pool gauges, read from `stats` at every scrape. */
  databasePool(stats: () => PoolStats): void {
    new Gauge({
      name: 'ocireg_db_pool_connections',
      help: 'Connections of the metadata database pool: total, idle, and requests waiting for one',
      labelNames: ['state'],
      registers: [this.registry],
      collect() {
        const current = stats();
        this.set({ state: 'total' }, current.total);
        this.set({ state: 'idle' }, current.idle);
        this.set({ state: 'waiting' }, current.waiting);
      },
    });
  }

  messages(): MessageMetrics {
    const registers = [this.registry];
    this.messageGroup ??= {
      handled: new Counter({ name: 'ocireg_messages_handled_total', help: 'Messages handled by the services, by subject and outcome (ok or the error code)', labelNames: ['subject', 'outcome'], registers }),
      duration: new Histogram({ name: 'ocireg_message_handling_duration_seconds', help: 'Time the services took to handle a message, by subject', labelNames: ['subject'], buckets: LATENCY_BUCKETS, registers }),
    };
    return this.messageGroup;
  }
}

/** Seconds elapsed since `start` (a process.hrtime.bigint() reading). */
export function secondsSince(start: bigint): number {
  return Number(process.hrtime.bigint() - start) / 1e9;
}
