import type { RegistryConfig } from '@ocireg/config';
import { Lifecycle, Started, openTransport, runMain } from '@ocireg/runtime';
import { startGateway } from '@ocireg/runtime-gateway';
import { SERVICE_NAMES, startServices } from '@ocireg/runtime-services';

/**
 * The embedded registry: the three services and the gateway in one process over the in-process transport,
 * with filesystem content, PGlite metadata and file-backed upload sessions under ./data. Nothing to install.
 */
function runEmbedded(config: RegistryConfig): Promise<Started> {
  return new Lifecycle().start(async (life) => {
    const transport = openTransport(config);
    await startServices(config, SERVICE_NAMES, transport, life);
    return startGateway(config, transport, life);
  });
}

void runMain('embedded', runEmbedded);
