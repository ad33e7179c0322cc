import type { RegistryConfig } from '@ocireg/config';
import { RegistryRpcClient } from '@ocireg/contracts';
import { readFile } from 'node:fs/promises';
import { openAccess } from './access';
import { GatewayTls, createGateway } from '@ocireg/gateway-feature';
import type { RegistryTransport } from '@ocireg/messaging';
import { Lifecycle, Started, logLevels, openContentStore, openTransport } from '@ocireg/runtime';

/** Starts the HTTP gateway on a transport; returns its URL. Its closers join `life`. */
export async function startGateway(config: RegistryConfig, transport: RegistryTransport, life: Lifecycle): Promise<string> {
  const store = await openContentStore(config);
  life.add(() => store.close());
  const rpc = new RegistryRpcClient(transport.createClient(), config.transport.driver === 'nats' ? config.transport.timeoutMs : 30_000);
  await rpc.connect();
  life.add(() => rpc.close());
  const { access, tokenServer } = await openAccess(config, life);
  const app = await createGateway({ config, rpc, store, access, tokenServer }, logLevels(config), await readTls(config));
  await app.listen(config.http.port, config.http.host);
  life.add(() => app.close());
  const address = app.getHttpServer().address();
  const port = typeof address === 'object' && address ? address.port : config.http.port;
  const scheme = config.http.tls ? 'https' : 'http';
  return `${scheme}://${config.http.host === '0.0.0.0' ? '127.0.0.1' : config.http.host}:${port}`;
}

/** Reads the TLS files named in the config, failing start-up with a message that names the bad one. */
async function readTls(config: RegistryConfig): Promise<GatewayTls | undefined> {
  const tls = config.http.tls;
  if (!tls) return undefined;
  return {
    key: await readPem(tls.key, 'REGISTRY_HTTP_TLS_KEY'),
    cert: await readPem(tls.certificate, 'REGISTRY_HTTP_TLS_CERTIFICATE'),
    clientCas: await Promise.all(tls.clientCas.map((path) => readPem(path, 'REGISTRY_HTTP_TLS_CLIENTCAS'))),
  };
}

/** A PEM file's contents; an unreadable file is a start-up error naming the setting. */
export async function readPem(path: string, setting: string): Promise<Buffer> {
  try {
    return await readFile(path);
  } catch (error) {
    throw new Error(`${setting}: cannot read ${path} (${(error as NodeJS.ErrnoException).code ?? 'error'})`);
  }
}

/** The gateway as its own process (distributed mode). */
export function runGateway(config: RegistryConfig): Promise<Started> {
  return new Lifecycle().start((life) => startGateway(config, openTransport(config), life));
}
