import type { RegistryConfig } from '@ocireg/config';
import { Started, openTransport, runMain, startProcess } from '@ocireg/runtime';
import { startGateway } from '@ocireg/runtime-gateway';
import { SERVICE_NAMES, startServices } from '@ocireg/runtime-services';

/**
 * The embedded registry: the three services and the gateway in one process over the in-process transport,
 * with filesystem content, journal metadata (libs/metadata/journal) and file-backed upload sessions under
 * ./data. Nothing to install.
 * One operations listener and one metrics registry serve the whole process.
 */
function runEmbedded(config: RegistryConfig): Promise<Started> {
  return startProcess(config, async (life, observability) => {
    const transport = openTransport(config);
    await startServices(config, SERVICE_NAMES, transport, life, observability);
    return startGateway(config, transport, life, observability);
  });
}

void runMain('embedded', runEmbedded);
