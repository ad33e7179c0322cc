import type { RegistryConfig } from '@ocireg/config';
import { RegistryRpcClient } from '@ocireg/contracts';
import { createGateway } from '@ocireg/gateway-feature';
import type { RegistryTransport } from '@ocireg/messaging';
import { Lifecycle, Started, logLevels, openContentStore, openTransport } from '@ocireg/runtime';

/** Starts the HTTP gateway on a transport; returns its URL. Its closers join `life`. */
export async function startGateway(config: RegistryConfig, transport: RegistryTransport, life: Lifecycle): Promise<string> {
  const store = await openContentStore(config);
  life.add(() => store.close());
  const rpc = new RegistryRpcClient(transport.createClient(), config.transport.driver === 'nats' ? config.transport.timeoutMs : 30_000);
  await rpc.connect();
  life.add(() => rpc.close());
  const app = await createGateway({ config, rpc, store }, logLevels(config));
  await app.listen(config.http.port, config.http.host);
  life.add(() => app.close());
  const address = app.getHttpServer().address();
  const port = typeof address === 'object' && address ? address.port : config.http.port;
  return `http://${config.http.host === '0.0.0.0' ? '127.0.0.1' : config.http.host}:${port}`;
}

/** The gateway as its own process (distributed mode). */
export function runGateway(config: RegistryConfig): Promise<Started> {
  return new Lifecycle().start((life) => startGateway(config, openTransport(config), life));
}
