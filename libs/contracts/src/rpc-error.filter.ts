import { ArgumentsHost, Catch, Logger, RpcExceptionFilter } from '@nestjs/common';
import { Observable, throwError } from 'rxjs';
import { RegistryError, WireError } from '@ocireg/errors';

/** Services' one exception filter: every failure crosses the transport as a WireError. */
@Catch()
export class RpcErrorFilter implements RpcExceptionFilter<unknown> {
  private readonly logger = new Logger('RpcErrorFilter');

  catch(exception: unknown, _host: ArgumentsHost): Observable<WireError> {
    if (!(exception instanceof RegistryError)) {
      this.logger.error(exception instanceof Error ? (exception.stack ?? exception.message) : String(exception));
    }
    const wire = RegistryError.from(exception).toWire();
    return throwError(() => wire);
  }
}
