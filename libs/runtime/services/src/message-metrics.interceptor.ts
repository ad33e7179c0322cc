import { CallHandler, ExecutionContext, Injectable, NestInterceptor } from '@nestjs/common';
import { PATTERN_METADATA } from '@nestjs/microservices/constants';
import { RegistryError } from '@ocireg/errors';
import { type MessageMetrics, secondsSince } from '@ocireg/observability';
import { Observable, tap } from 'rxjs';

/**
 * Counts and times the messages a service handles, by subject (the handler's pattern) and outcome: `ok`, or
 * the registry error code it answered with (`UNKNOWN` for anything else). Installed on every service from
 * the composition root; the controllers know nothing of it.
 */
@Injectable()
export class MessageMetricsInterceptor implements NestInterceptor {
  constructor(private readonly metrics: MessageMetrics) {}

  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    const subject = subjectOf(context);
    const start = process.hrtime.bigint();
    const done = (outcome: string) => {
      this.metrics.handled.inc({ subject, outcome });
      this.metrics.duration.observe({ subject }, secondsSince(start));
    };
    return next.handle().pipe(
      tap({
        complete: () => done('ok'),
        error: (error: unknown) => done(error instanceof RegistryError ? error.kind : 'UNKNOWN'),
      }),
    );
  }
}

/** The subject a message handler answers (its pattern). */
export function subjectOf(context: ExecutionContext): string {
  const patterns: unknown = Reflect.getMetadata(PATTERN_METADATA, context.getHandler());
  const pattern = Array.isArray(patterns) ? patterns[0] : patterns;
  return typeof pattern === 'string' ? pattern : 'unknown';
}
