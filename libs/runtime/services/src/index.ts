export { runService, startServices, migrateDatabase, SERVICE_NAMES } from './run-services';
export type { ServiceName } from './run-services';
