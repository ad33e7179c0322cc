import { Controller } from '@nestjs/common';
import { MessagePattern } from '@nestjs/microservices';
import type { CallHandler, ExecutionContext } from '@nestjs/common';
import { RegistryError } from '@ocireg/errors';
import { RegistryMetrics } from '@ocireg/observability';
import { lastValueFrom, of, throwError } from 'rxjs';
import { MessageMetricsInterceptor } from './message-metrics.interceptor';

@Controller()
class Handlers {
  @MessagePattern('blob.resolve')
  resolve(): void {
    return undefined;
  }
}

const context = { getHandler: () => Handlers.prototype.resolve } as unknown as ExecutionContext;

describe('MessageMetricsInterceptor', () => {
  it('counts handled messages by subject and outcome', async () => {
    const metrics = new RegistryMetrics(false);
    const interceptor = new MessageMetricsInterceptor(metrics.messages());
    const ok: CallHandler = { handle: () => of({ size: 1 }) };
    const unknown: CallHandler = { handle: () => throwError(() => new RegistryError('BLOB_UNKNOWN')) };
    await expect(lastValueFrom(interceptor.intercept(context, ok))).resolves.toEqual({ size: 1 });
    await expect(lastValueFrom(interceptor.intercept(context, unknown))).rejects.toBeInstanceOf(RegistryError);
    const text = await metrics.text();
    expect(text).toContain('ocireg_messages_handled_total{subject="blob.resolve",outcome="ok"} 1');
    expect(text).toContain('ocireg_messages_handled_total{subject="blob.resolve",outcome="BLOB_UNKNOWN"} 1');
    expect(text).toContain('ocireg_message_handling_duration_seconds_count{subject="blob.resolve"} 2');
  });
});
