import { AsyncLocalStorage } from 'node:async_hooks';
import { randomUUID } from 'node:crypto';
import type { LogLevel as NestLogLevel, LoggerService } from '@nestjs/common';
import pino, { type DestinationStream, type Logger } from 'pino';
import { currentTraceIds } from './tracing';

export type { Logger } from 'pino';

/** The levels the config knows (REGISTRY_LOG_LEVEL); pino has the same names. */
export type LogLevelName = 'error' | 'warn' | 'info' | 'debug';

/** What a log line must never show, whatever object is logged: a safety net, not the first line of defence. */
export const REDACTED_PATHS = [
  'req.headers.authorization',
  'req.headers.cookie',
  'headers.authorization',
  'headers.cookie',
  'authorization',
  'password',
  'token',
  'refresh_token',
  'access_token',
  '*.authorization',
  '*.password',
  '*.token',
  '*.refresh_token',
  '*.access_token',
  'secret',
  '*.secret',
  '*.secretKey',
];

/** The request being handled, as far as logging cares: every line logged while it runs carries its id. */
export interface RequestContext {
  requestId: string;
  /** The authenticated user, once the gateway's access control knows it (for the access line). */
  user?: string;
}

const requestContext = new AsyncLocalStorage<RequestContext>();

/** Runs `fn` with `context` as the current request context (for everything it calls and awaits). */
export function runInRequestContext<T>(context: RequestContext, fn: () => T): T {
  return requestContext.run(context, fn);
}

/** Records the authenticated user of the request being handled (no-op outside a request). */
export function setRequestUser(user: string): void {
  const context = requestContext.getStore();
  if (context) context.user = user;
}

/** The id of the request being handled, if any. */
export function currentRequestId(): string | undefined {
  return requestContext.getStore()?.requestId;
}

/** The payload field that carries the request id from the gateway to the services (not part of any contract). */
export const REQUEST_ID_FIELD = '$requestId';

/** Takes the request id out of a message payload (in place), if it carries a sane one. */
export function takeRequestId(payload: unknown): string | undefined {
  if (typeof payload !== 'object' || payload === null || !(REQUEST_ID_FIELD in payload)) return undefined;
  const record = payload as Record<string, unknown>;
  const value = record[REQUEST_ID_FIELD];
  delete record[REQUEST_ID_FIELD];
  return isRequestId(value) ? value : undefined;
}

const SANE_REQUEST_ID = /^[A-Za-z0-9._-]{1,128}$/;

/** A client's `X-Request-Id` when it is sane (1 to 128 of `[A-Za-z0-9._-]`), else a fresh UUID. */
export function requestIdFrom(header: string | string[] | undefined): string {
  const value = Array.isArray(header) ? header[0] : header;
  return value !== undefined && SANE_REQUEST_ID.test(value) ? value : randomUUID();
}

/** Whether a request id received from another of our processes can be trusted as one. */
export function isRequestId(value: unknown): value is string {
  return typeof value === 'string' && SANE_REQUEST_ID.test(value);
}

export interface LoggerOptions {
  level: LogLevelName;
  /** The process's name (`gateway`, `upload-service`, ...), on every line. */
  name?: string;
  /** Where lines go: stdout by default. */
  destination?: DestinationStream;
}

/**
 * The process's logger: JSON lines (pino) at the configured level, each carrying the current request's
 * `requestId` (and `traceId`/`spanId` while tracing) when there is one, with credentials redacted.
 */
export function createLogger({ level, name, destination }: LoggerOptions): Logger {
  return pino(
    {
      level,
      base: name ? { pid: process.pid, name } : { pid: process.pid },
      timestamp: isoTimeOncePerMillisecond,
      redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
      // The request id, and the trace and span ids when a span is recording (to go from a log line to its trace).
      mixin: () => {
        const requestId = currentRequestId();
        const ids = currentTraceIds();
        return ids ? { requestId, ...ids } : requestId ? { requestId } : {};
      },
    },
    destination ?? pino.destination({ fd: 1, sync: true }),
  );
}

let lastMs = Number.NaN;
let lastTime = '';

/**
 * pino's isoTime (`,"time":"<ISO 8601>"`), formatted once per millisecond: under thousands of requests a
 * second most access lines share their millisecond with the one before, and formatting a Date was 2.4% of
 * the gateway's event loop.
 */
export function isoTimeOncePerMillisecond(): string {
  const now = Date.now();
  if (now !== lastMs) {
    lastMs = now;
    lastTime = `,"time":"${new Date(now).toISOString()}"`;
  }
  return lastTime;
}

/**
 * A child of `logger` that writes the same lines without the redaction pass: for lines whose every field the
 * caller chose and knows to hold no credential (the access log's method, path without its query, status,
 * sizes, user name). The pass walks each line for the credential paths, wildcards included: 15 of a line's
 * 19 µs here (pino 10), 5% of the gateway's event loop under small requests. Never for objects from outside
 * (headers, bodies, errors, configuration).
 */
export function unredactedChild(logger: Logger): Logger {
  return logger.child({}, { redact: { paths: [] } });
}

/** Nest's LoggerService on a pino logger: Nest's own messages, and every `new Logger(context)`, as JSON. */
export class PinoNestLogger implements LoggerService {
  constructor(private readonly logger: Logger) {}

  log(message: unknown, ...params: unknown[]): void {
    this.write('info', message, params);
  }

  error(message: unknown, ...params: unknown[]): void {
    // Nest passes (message, stack?, context?).
    this.write('error', message, params, true);
  }

  warn(message: unknown, ...params: unknown[]): void {
    this.write('warn', message, params);
  }

  debug(message: unknown, ...params: unknown[]): void {
    this.write('debug', message, params);
  }

  verbose(message: unknown, ...params: unknown[]): void {
    this.write('trace', message, params);
  }

  fatal(message: unknown, ...params: unknown[]): void {
    this.write('fatal', message, params);
  }

  /** The level is the pino logger's; Nest's level lists are ignored. */
  setLogLevels(_levels: NestLogLevel[]): void {
    // nothing to do
  }

  private write(level: 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'fatal', message: unknown, params: unknown[], withStack = false): void {
    if (!this.logger.isLevelEnabled(level)) return;
    const rest = [...params];
    const context = rest.length > 0 && typeof rest[rest.length - 1] === 'string' ? (rest.pop() as string) : undefined;
    const fields: Record<string, unknown> = {};
    if (context) fields['context'] = context;
    if (withStack && typeof rest[0] === 'string' && rest[0].includes('\n')) fields['stack'] = rest.shift();
    if (message instanceof Error) {
      fields['err'] = message;
      this.logger[level](fields, message.message);
    } else if (typeof message === 'object' && message !== null) {
      this.logger[level]({ ...fields, ...(message as Record<string, unknown>) });
    } else {
      this.logger[level](fields, String(message));
    }
  }
}
