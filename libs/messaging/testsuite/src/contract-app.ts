import { ArgumentsHost, Catch, Controller, Module, RpcExceptionFilter, Type, UseFilters } from '@nestjs/common';
import { EventPattern, MessagePattern, Payload, RpcException } from '@nestjs/microservices';
import { Observable, delay, of, throwError, timer, map, take } from 'rxjs';

/** The error shape the services' exception filter puts on the wire. */
export interface PlainError {
  kind: string;
  message: string;
  detail?: unknown;
}

export function isPlainError(value: unknown): value is PlainError {
  if (typeof value !== 'object' || value === null) return false;
  const candidate = value as Record<string, unknown>;
  return typeof candidate['kind'] === 'string' && typeof candidate['message'] === 'string';
}

/** What a contract server records about the messages it handled, shared by the test and its servers. */
export interface ContractLog {
  handled: Array<{ server: string; id: number }>;
  events: Array<{ server: string; data: unknown }>;
}

/** The patterns of one contract run: fixed names under a per-run prefix so parallel runs never collide. */
export function contractPatterns(prefix: string) {
  return {
    echo: `${prefix}.echo`,
    promise: `${prefix}.promise`,
    observable: `${prefix}.observable`,
    slowObservable: `${prefix}.slow-observable`,
    rpcException: `${prefix}.rpc-exception`,
    throwPlain: `${prefix}.throw-plain`,
    observableError: `${prefix}.observable-error`,
    throwError: `${prefix}.throw-error`,
    work: `${prefix}.work`,
    slow: `${prefix}.slow`,
    note: `${prefix}.note`,
    unknown: `${prefix}.nobody-handles-this`,
  } as const;
}

/** Like the services' RpcErrorFilter: every failure leaves as a plain `{ kind, message, detail? }`. */
@Catch()
class PlainErrorFilter implements RpcExceptionFilter<unknown> {
  catch(exception: unknown, _host: ArgumentsHost): Observable<PlainError> {
    const error = exception instanceof RpcException ? exception.getError() : exception;
    if (isPlainError(error)) return throwError(() => error);
    return throwError(() => ({ kind: 'UNKNOWN', message: 'unknown error' }));
  }
}

/** A Nest module with a controller answering the contract's patterns, tagged with the server's name. */
export function contractModule(prefix: string, server: string, log: ContractLog): Type<unknown> {
  const p = contractPatterns(prefix);

  @Controller()
  @UseFilters(new PlainErrorFilter())
  class ContractController {
    @MessagePattern(p.echo)
    echo(@Payload() data: unknown): { echoed: unknown; server: string } {
      return { echoed: data, server };
    }

    @MessagePattern(p.promise)
    async promised(@Payload() data: { n: number }): Promise<{ doubled: number }> {
      await new Promise((resolve) => setTimeout(resolve, 5));
      return { doubled: data.n * 2 };
    }

    @MessagePattern(p.observable)
    observed(@Payload() data: { n: number }): Observable<{ n: number }> {
      return of(1, 2, 3).pipe(map((i) => ({ n: data.n * i })));
    }

    @MessagePattern(p.slowObservable)
    slowlyObserved(): Observable<number> {
      return timer(0, 5).pipe(take(3));
    }

    @MessagePattern(p.rpcException)
    rpcException(@Payload() data: PlainError): never {
      throw new RpcException(data);
    }

    @MessagePattern(p.throwPlain)
    throwPlain(@Payload() data: PlainError): never {
      throw data;
    }

    @MessagePattern(p.observableError)
    observableError(@Payload() data: PlainError): Observable<never> {
      return throwError(() => data).pipe(delay(1));
    }

    @MessagePattern(p.throwError)
    throwError(): never {
      throw new Error('internal detail that must not leak');
    }

    @MessagePattern(p.work)
    async work(@Payload() data: { id: number }): Promise<{ id: number; server: string }> {
      log.handled.push({ server, id: data.id });
      await new Promise((resolve) => setImmediate(resolve));
      return { id: data.id, server };
    }

    @MessagePattern(p.slow)
    async slow(): Promise<string> {
      await new Promise((resolve) => setTimeout(resolve, 200));
      return 'late';
    }

    @EventPattern(p.note)
    note(@Payload() data: unknown): void {
      log.events.push({ server, data });
    }
  }

  @Module({ controllers: [ContractController] })
  class ContractModule {}

  return ContractModule;
}
