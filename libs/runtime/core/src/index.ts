export { openContentStore, openTransport } from './adapters';
export { Lifecycle, logLevels } from './lifecycle';
export type { Started, Closer } from './lifecycle';
export { runMain } from './main';
