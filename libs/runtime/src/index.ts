export { runEmbedded, runGateway, runService, logLevels } from './processes';
export type { Started, ServiceName } from './processes';
export { openContentStore, openMetadata, openUploadSessions, openTransport } from './adapters';
export { runMain } from './main';
