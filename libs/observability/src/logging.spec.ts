import { Writable } from 'node:stream';
import { PinoNestLogger, REQUEST_ID_FIELD, createLogger, currentRequestId, isRequestId, requestIdFrom, runInRequestContext, takeRequestId, unredactedChild, isoTimeOncePerMillisecond } from './logging';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

function capture(level: 'error' | 'warn' | 'info' | 'debug' = 'debug') {
  const lines: Array<Record<string, unknown>> = [];
  let raw = '';
  const destination = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      raw += chunk.toString();
      for (const line of chunk.toString().split('\n').filter(Boolean)) lines.push(JSON.parse(line) as Record<string, unknown>);
      callback();
    },
  });
  const logger = createLogger({ level, name: 'test', destination });
  return { logger, lines, raw: () => raw };
}

describe('request ids', () => {
  it('keeps a sane X-Request-Id and replaces anything else with a UUID', () => {
    expect(requestIdFrom('e2e-abc_DEF.123')).toBe('e2e-abc_DEF.123');
    expect(requestIdFrom(['first-id', 'second'])).toBe('first-id');
    expect(requestIdFrom('x'.repeat(128))).toBe('x'.repeat(128));
    expect(requestIdFrom(undefined)).toMatch(UUID);
    expect(requestIdFrom('')).toMatch(UUID);
    expect(requestIdFrom('x'.repeat(129))).toMatch(UUID);
    expect(requestIdFrom('has space')).toMatch(UUID);
    expect(requestIdFrom('inject\n{"level":50}')).toMatch(UUID);
    expect(requestIdFrom('a/b')).toMatch(UUID);
    expect(requestIdFrom(undefined)).not.toBe(requestIdFrom(undefined));
    expect(isRequestId('abc')).toBe(true);
    expect(isRequestId(42)).toBe(false);
  });

  it('are taken out of a message payload in place, and only when sane', () => {
    const payload: Record<string, unknown> = { repository: 'a/b', [REQUEST_ID_FIELD]: 'req-1' };
    expect(takeRequestId(payload)).toBe('req-1');
    expect(payload).toEqual({ repository: 'a/b' });
    const bad: Record<string, unknown> = { [REQUEST_ID_FIELD]: 'no good' };
    expect(takeRequestId(bad)).toBeUndefined();
    expect(bad).toEqual({});
    expect(takeRequestId({ repository: 'a/b' })).toBeUndefined();
    expect(takeRequestId(null)).toBeUndefined();
    expect(takeRequestId('text')).toBeUndefined();
  });

  it('follow the async context they are run in', async () => {
    expect(currentRequestId()).toBeUndefined();
    await runInRequestContext({ requestId: 'ctx-1' }, async () => {
      await new Promise((resolve) => setTimeout(resolve, 1));
      expect(currentRequestId()).toBe('ctx-1');
    });
    expect(currentRequestId()).toBeUndefined();
  });
});

describe('createLogger', () => {
  it('writes JSON lines at the configured level, with the current request id', () => {
    const { logger, lines } = capture('info');
    logger.debug('hidden');
    logger.info({ kind: 'blob' }, 'outside');
    runInRequestContext({ requestId: 'req-42' }, () => logger.warn('inside'));
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatchObject({ level: 30, name: 'test', kind: 'blob', msg: 'outside' });
    expect(lines[0]).not.toHaveProperty('requestId');
    expect(lines[1]).toMatchObject({ level: 40, msg: 'inside', requestId: 'req-42' });
    expect(typeof lines[1]?.['time']).toBe('string');
  });

  it('redacts authorization headers, passwords, tokens and secrets wherever they turn up', () => {
    const { logger, lines, raw } = capture();
    logger.info({ req: { headers: { authorization: 'Basic YWxpY2U6czNjcmV0', host: 'h' } } }, 'request');
    logger.info({ headers: { authorization: 'Bearer eyJ.secret.jwt', cookie: 'c=1' } }, 'headers');
    logger.info({ form: { username: 'alice', password: 's3cret-pw', refresh_token: 'refresh-secret' } }, 'form');
    logger.info({ body: { token: 'tok-secret', access_token: 'access-secret' }, password: 'top-level-pw' }, 'body');
    logger.info({ uploads: { secret: 'http-secret-value' }, storage: { secretKey: 's3-secret-value' }, secret: 'bare-secret' }, 'settings');
    for (const secret of ['YWxpY2U6czNjcmV0', 'eyJ.secret.jwt', 's3cret-pw', 'refresh-secret', 'tok-secret', 'access-secret', 'top-level-pw', 'c=1', 'http-secret-value', 's3-secret-value', 'bare-secret']) {
      expect(raw()).not.toContain(secret);
    }
    expect(lines[0]).toMatchObject({ req: { headers: { authorization: '[redacted]', host: 'h' } } });
    expect(lines[2]).toMatchObject({ form: { username: 'alice', password: '[redacted]', refresh_token: '[redacted]' } });
  });
});

describe('isoTimeOncePerMillisecond', () => {
  it("gives pino's ISO 8601 time field of the current millisecond", () => {
    const now = jest.spyOn(Date, 'now');
    try {
      now.mockReturnValue(Date.UTC(2026, 11, 1, 6, 30, 0, 123));
      expect(isoTimeOncePerMillisecond()).toBe(',"time":"2026-12-01T06:30:00.123Z"');
      expect(isoTimeOncePerMillisecond()).toBe(',"time":"2026-12-01T06:30:00.123Z"');
      now.mockReturnValue(Date.UTC(2026, 11, 1, 6, 30, 0, 124));
      expect(isoTimeOncePerMillisecond()).toBe(',"time":"2026-12-01T06:30:00.124Z"');
    } finally {
      now.mockRestore();
    }
  });
});

describe('unredactedChild', () => {
  it('writes the lines of its parent (level, name, request id) without the redaction pass, which the parent keeps', () => {
    const { logger, lines } = capture('info');
    const child = unredactedChild(logger);
    child.debug('hidden');
    runInRequestContext({ requestId: 'req-7' }, () => child.info({ method: 'GET', path: '/v2/', token: 'passed-as-chosen' }, 'request'));
    logger.info({ token: 'still-redacted' }, 'parent');
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatchObject({ level: 30, name: 'test', requestId: 'req-7', method: 'GET', path: '/v2/', token: 'passed-as-chosen', msg: 'request' });
    expect(lines[1]).toMatchObject({ token: '[redacted]', msg: 'parent' });
  });
});

describe('PinoNestLogger', () => {
  it("turns Nest's log calls into JSON lines with their context", () => {
    const { logger, lines } = capture('debug');
    const nest = new PinoNestLogger(logger);
    nest.log('started', 'NestFactory');
    nest.error('failed', 'Error: failed\n    at x', 'ExceptionHandler');
    nest.warn({ detail: 1 }, 'Ctx');
    nest.verbose('too chatty');
    nest.debug(new Error('boom'));
    expect(lines).toHaveLength(4);
    expect(lines[0]).toMatchObject({ level: 30, msg: 'started', context: 'NestFactory' });
    expect(lines[1]).toMatchObject({ level: 50, msg: 'failed', context: 'ExceptionHandler', stack: 'Error: failed\n    at x' });
    expect(lines[2]).toMatchObject({ level: 40, detail: 1, context: 'Ctx' });
    expect(lines[3]).toMatchObject({ level: 20, msg: 'boom', err: { message: 'boom' } });
  });
});
