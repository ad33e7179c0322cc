import { Writable } from 'node:stream';
import { Controller } from '@nestjs/common';
import type { CallHandler, ExecutionContext } from '@nestjs/common';
import { MessagePattern } from '@nestjs/microservices';
import { RegistryError } from '@ocireg/errors';
import { createLogger, currentRequestId } from '@ocireg/observability';
import { defer, lastValueFrom, of, throwError } from 'rxjs';
import { RequestContextInterceptor } from './request-context.interceptor';

@Controller()
class Handlers {
  @MessagePattern('blob.resolve')
  resolve(): void {
    return undefined;
  }
}

function contextFor(data: unknown): ExecutionContext {
  return { getType: () => 'rpc', getHandler: () => Handlers.prototype.resolve, switchToRpc: () => ({ getData: () => data }) } as unknown as ExecutionContext;
}

describe('RequestContextInterceptor', () => {
  it('takes the request id out of the payload, handles the message in its context and logs it at debug level', async () => {
    let raw = '';
    const destination = new Writable({
      write(chunk: Buffer, _encoding, callback) {
        raw += chunk.toString();
        callback();
      },
    });
    const interceptor = new RequestContextInterceptor(createLogger({ level: 'debug', destination }));
    const payload: Record<string, unknown> = { repository: 'a/b', $requestId: 'req-7' };
    const seen: CallHandler = { handle: () => defer(async () => ({ id: currentRequestId(), payload: { ...payload } })) };
    await expect(lastValueFrom(interceptor.intercept(contextFor(payload), seen))).resolves.toEqual({ id: 'req-7', payload: { repository: 'a/b' } });
    const failing: CallHandler = { handle: () => throwError(() => new RegistryError('BLOB_UNKNOWN')) };
    await expect(lastValueFrom(interceptor.intercept(contextFor({ repository: 'a/b' }), failing))).rejects.toBeInstanceOf(RegistryError);
    await expect(lastValueFrom(interceptor.intercept(contextFor({}), { handle: () => of(currentRequestId()) }))).resolves.toBeUndefined();
    const lines = raw.split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines[0]).toMatchObject({ level: 20, msg: 'message handled', requestId: 'req-7', subject: 'blob.resolve', outcome: 'ok' });
    expect(lines[1]).toMatchObject({ msg: 'message handled', subject: 'blob.resolve', outcome: 'BLOB_UNKNOWN' });
    expect(lines[1]).not.toHaveProperty('requestId');
  });
});
