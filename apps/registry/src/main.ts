import { runEmbedded, runMain } from '@ocireg/runtime';

// The embedded registry: gateway and the three services in one process, in-process transport, filesystem
// content, PGlite metadata and file-backed upload sessions under ./data. Nothing else to install.
void runMain('embedded', runEmbedded);
