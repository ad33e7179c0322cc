import { CallHandler, ExecutionContext, Injectable, NestInterceptor } from '@nestjs/common';
import { RegistryError } from '@ocireg/errors';
import { type Logger, runInRequestContext, secondsSince, takeRequestId } from '@ocireg/observability';
import { Observable, tap } from 'rxjs';
import { subjectOf } from './message-metrics.interceptor';

/**
 * Takes the request id the gateway sent along out of each message's payload (before the handler parses it by
 * its contract) and handles the message in a context carrying it, so that every log line of that handling has
 * the gateway request's `requestId`. Logs one debug line per handled message. Installed on every service from
 * the composition root, before the other interceptors.
 */
@Injectable()
export class RequestContextInterceptor implements NestInterceptor {
  constructor(private readonly logger: Logger) {}

  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    const requestId = context.getType() === 'rpc' ? takeRequestId(context.switchToRpc().getData()) : undefined;
    const subject = subjectOf(context);
    const start = process.hrtime.bigint();
    const done = (outcome: string) => {
      if (this.logger.isLevelEnabled('debug')) {
        this.logger.debug({ requestId, subject, outcome, durationMs: Math.round(secondsSince(start) * 1e6) / 1e3 }, 'message handled');
      }
    };
    const handle = () =>
      next.handle().pipe(
        tap({
          complete: () => done('ok'),
          error: (error: unknown) => done(error instanceof RegistryError ? error.kind : 'UNKNOWN'),
        }),
      );
    if (!requestId) return handle();
    // Nest binds the rest of the chain to the async context that calls handle(): call it inside ours.
    return new Observable((subscriber) => runInRequestContext({ requestId }, () => handle().subscribe(subscriber)));
  }
}
