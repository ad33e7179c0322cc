import { CallHandler, ExecutionContext, Injectable, NestInterceptor } from '@nestjs/common';
import { PATTERN_METADATA } from '@nestjs/microservices/constants';
import { RegistryError } from '@ocireg/errors';
import {
  type Logger,
  type MessageMetrics,
  type Span,
  SpanKind,
  type Tracer,
  contextWithSpan,
  failSpan,
  isFailure,
  runInRequestContext,
  runInTraceContext,
  secondsSince,
  takeRequestId,
  takeTraceContext,
} from '@ocireg/observability';
import { Observable, tap } from 'rxjs';

/**
 * Everything the services do around each message they handle, installed on every service from the composition
 * root (the controllers know nothing of it):
 * - takes the request id and the trace context the gateway sent along out of the payload (before the handler
 *   parses it by its contract) and handles the message in a context carrying them: every log line of that
 *   handling has the gateway request's `requestId`, and with a tracer the handling is a server span
 *   (`handle <subject>`) under the gateway's RPC span, parent of the database, session and storage spans;
 * - counts and times the message by subject (the handler's pattern) and outcome: `ok`, or the registry error
 *   code it answered with (`UNKNOWN` for anything else);
 * - logs one debug line per message.
 * One interceptor rather than one per concern: Nest binds every interceptor of a call to its async context
 * (an AsyncResource per interceptor per message, each costing two deprecation wrappers in Node 20).
 */
@Injectable()
export class MessageHandlingInterceptor implements NestInterceptor {
  constructor(
    private readonly logger: Logger,
    private readonly metrics: MessageMetrics,
    private readonly tracer?: Tracer,
  ) {}

  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    const data = context.getType() === 'rpc' ? context.switchToRpc().getData() : undefined;
    const requestId = takeRequestId(data);
    const parent = takeTraceContext(data);
    const subject = subjectOf(context);
    const start = process.hrtime.bigint();
    let span: Span | undefined;
    const done = (outcome: string, error?: unknown) => {
      this.metrics.handled.inc({ subject, outcome });
      this.metrics.duration.observe({ subject }, secondsSince(start));
      if (span) {
        span.setAttribute('ocireg.outcome', outcome);
        // A client's mistake (an unknown blob, a bad digest) is the answer, not a failure of the service.
        if (error !== undefined && isFailure(error)) failSpan(span, error);
        span.end();
      }
      if (this.logger.isLevelEnabled('debug')) {
        this.logger.debug({ requestId, subject, outcome, durationMs: Math.round(secondsSince(start) * 1e6) / 1e3 }, 'message handled');
      }
    };
    const handle = () =>
      next.handle().pipe(
        tap({
          complete: () => done('ok'),
          error: (error: unknown) => done(error instanceof RegistryError ? error.kind : 'UNKNOWN', error),
        }),
      );
    if (!requestId && !parent) return handle();
    // Nest binds the rest of the chain to the async context that calls handle(): call it inside ours.
    return new Observable((subscriber) => {
      const run = () => handle().subscribe(subscriber);
      const inRequest = requestId ? () => runInRequestContext({ requestId }, run) : run;
      if (!parent || !this.tracer) return inRequest();
      span = this.tracer.startSpan(`handle ${subject}`, { kind: SpanKind.SERVER, attributes: { 'rpc.method': subject, ...(requestId ? { 'ocireg.request_id': requestId } : {}) } }, parent);
      return runInTraceContext(contextWithSpan(span, parent), inRequest);
    });
  }
}

/** The subject a message handler answers (its pattern). */
export function subjectOf(context: ExecutionContext): string {
  const patterns: unknown = Reflect.getMetadata(PATTERN_METADATA, context.getHandler());
  const pattern = Array.isArray(patterns) ? patterns[0] : patterns;
  return typeof pattern === 'string' ? pattern : 'unknown';
}
