import { ArgumentsHost, Catch, ExceptionFilter, HttpException, Logger } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import { RegistryError, errorEnvelope } from '@ocireg/errors';

const logger = new Logger('HttpErrors');

/** Maps anything thrown while serving a request to the registry error the client sees. */
export function toRegistryError(error: unknown): RegistryError {
  if (error instanceof RegistryError) return error;
  if (RegistryError.isWire(error)) return RegistryError.fromWire(error);
  const status = httpStatusOf(error);
  if (status === 404) return new RegistryError('ROUTE_UNKNOWN');
  if (status === 405) return new RegistryError('METHOD_UNKNOWN');
  if (status === 413) return new RegistryError('SIZE_INVALID', 'request body too large');
  if (status !== undefined && status >= 400 && status < 500) {
    return new RegistryError('UNSUPPORTED', error instanceof Error ? error.message : 'bad request');
  }
  logger.error(error instanceof Error ? (error.stack ?? error.message) : String(error));
  return new RegistryError('UNKNOWN');
}

function httpStatusOf(error: unknown): number | undefined {
  if (error instanceof HttpException) return error.getStatus();
  if (typeof error === 'object' && error !== null && 'statusCode' in error) {
    const status = (error as { statusCode: unknown }).statusCode;
    return typeof status === 'number' ? status : undefined;
  }
  return undefined;
}

/** The one place that writes an error response body. */
export function sendError(reply: FastifyReply, error: unknown, method?: string): void {
  const registryError = toRegistryError(error);
  if (reply.sent || reply.raw.headersSent) {
    reply.raw.destroy();
    return;
  }
  const body = JSON.stringify(errorEnvelope([registryError]));
  reply.status(registryError.httpStatus).header('content-type', 'application/json; charset=utf-8');
  const incoming = reply.request.raw;
  if (!incoming.readableEnded) {
    // A body the request never got to read (a refused chunk, an unauthorised push): let the client finish
    // sending it into the void, and close the connection after this answer instead of reading it all.
    if (incoming.httpVersionMajor === 1) reply.header('connection', 'close');
    incoming.resume();
  }
  for (const [name, value] of Object.entries({ ...errorHeaders(registryError), ...registryError.headers })) reply.header(name, value);
  if (method === 'HEAD') {
    reply.header('content-length', Buffer.byteLength(body)).send();
  } else {
    reply.send(body);
  }
}

/** Headers an error answer carries: where an upload stands after a refused chunk; a blob's size on a 416. */
function errorHeaders(error: RegistryError): Record<string, string> {
  const detail = (typeof error.detail === 'object' && error.detail !== null ? error.detail : {}) as { offset?: unknown; size?: unknown };
  if (error.kind === 'RANGE_INVALID' && typeof detail.offset === 'number') return { range: `0-${Math.max(detail.offset - 1, 0)}` };
  if (error.kind === 'RANGE_NOT_SATISFIABLE' && typeof detail.size === 'number') return { 'content-range': `bytes */${detail.size}` };
  return {};
}

@Catch()
export class RegistryHttpExceptionFilter implements ExceptionFilter {
  catch(exception: unknown, host: ArgumentsHost): void {
    const http = host.switchToHttp();
    const request = http.getRequest<{ method: string }>();
    sendError(http.getResponse<FastifyReply>(), exception, request.method);
  }
}
