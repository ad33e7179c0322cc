export { RegistryMetrics, secondsSince } from './metrics';
export type { HttpMetrics, RpcMetrics, StorageMetrics, DatabaseMetrics, MessageMetrics, PoolStats } from './metrics';
export { OperationsServer, Readiness } from './operations-server';
export type { ReadinessCheck, ReadinessReport, ReadinessState } from './operations-server';
export { CountingStream } from './counting-stream';
export { createLogger, unredactedChild, PinoNestLogger, REDACTED_PATHS, runInRequestContext, currentRequestId, setRequestUser, requestIdFrom, isRequestId, takeRequestId, REQUEST_ID_FIELD } from './logging';
export type { Logger, LoggerOptions, LogLevelName, RequestContext } from './logging';
export {
  Tracing,
  SpanKind,
  SpanStatusCode,
  TRACE_FIELD,
  inSpan,
  failSpan,
  isFailure,
  currentTraceHeaders,
  contextFromHeaders,
  takeTraceContext,
  runInTraceContext,
  contextWithSpan,
  currentTraceIds,
  hasActiveSpan,
} from './tracing';
export type { TracingOptions, Tracer, Span, Attributes } from './tracing';
