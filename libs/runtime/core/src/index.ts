export { openContentStore, openTransport } from './adapters';
export { Lifecycle, logLevels } from './lifecycle';
export { processLogger, nestLogger } from './logging';
export type { Started, Closer } from './lifecycle';
export { runMain } from './main';
export { InstrumentedContentStore } from './instrumented-store';
export { startObservability, startProcess, transportCheck } from './observability';
export type { Observability } from './observability';
