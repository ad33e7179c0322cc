import { describeTransportContract } from '@ocireg/messaging-testsuite';
import { NatsTransport } from './nats-transport';

const servers = [process.env['NATS_URL'] ?? 'nats://127.0.0.1:4222'];

describeTransportContract('NATS', async () => ({
  transport: new NatsTransport({ servers, queuePrefix: 'contract-', timeoutMs: 10_000 }),
  teardown: async () => undefined,
}));
