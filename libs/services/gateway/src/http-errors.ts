import { ArgumentsHost, Catch, ExceptionFilter, HttpException, Logger } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import { RegistryError, errorEnvelope } from '@ocireg/errors';
import { bodyOf, hasBody } from './http-util';

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

/**
 * A refused request's unread body up to this size is read to its end before the answer: the client is still
 * sending it, and closing the connection under it would cut it off mid-send (EPIPE, no answer at all).
 */
const DRAIN_BEFORE_ANSWER = 64 * 1024 * 1024;
/** How long a small unread body may take to arrive before the answer goes out anyway (on a closing connection). */
const DRAIN_WAIT_MS = 5_000;

/** The one place that writes an error response body. */
export function sendError(reply: FastifyReply, error: unknown, method?: string): void {
  const registryError = toRegistryError(error);
  if (reply.sent || reply.raw.headersSent) {
    reply.raw.destroy();
    return;
  }
  const body = JSON.stringify(errorEnvelope([registryError]));
  const answer = (closing: boolean): void => {
    if (reply.sent || reply.raw.headersSent) return;
    reply.status(registryError.httpStatus).header('content-type', 'application/json; charset=utf-8');
    if (closing && reply.request.raw.httpVersionMajor === 1) reply.header('connection', 'close');
    for (const [name, value] of Object.entries({ ...errorHeaders(registryError), ...registryError.headers })) reply.header(name, value);
    if (method === 'HEAD') {
      reply.header('content-length', Buffer.byteLength(body)).send();
    } else {
      reply.send(body);
    }
  };
  const incoming = reply.request.raw;
  // Nothing left to read: no body (most refusals: a HEAD or GET of what is not there, a 401) or all of it read.
  if (incoming.readableEnded || !hasBody(reply.request)) return answer(false);
  // A body the request never got to read (a refused chunk, an unauthorised push), as the handlers would
  // read it (through the byte counters piped from the socket).
  const unread = bodyOf(reply.request);
  const declared = Number(reply.request.headers['content-length']);
  if (Number.isSafeInteger(declared) && declared <= DRAIN_BEFORE_ANSWER && !unread.destroyed && !unread.readableEnded) {
    // Small: read it to the end, then answer on a connection that stays open.
    let done = false;
    const finish = (closing: boolean) => (): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      answer(closing);
    };
    const timer = setTimeout(finish(true), DRAIN_WAIT_MS);
    timer.unref();
    unread.once('end', finish(false));
    unread.once('error', finish(true));
    unread.once('close', finish(true));
    unread.resume();
    incoming.resume();
    return;
  }
  // Large: let the client finish sending it into the void, and close the connection after this answer.
  unread.resume();
  incoming.resume();
  answer(true);
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
