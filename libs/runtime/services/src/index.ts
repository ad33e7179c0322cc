export { runService, startServices, migrateDatabase, SERVICE_NAMES } from './run-services';
export type { ServiceName } from './run-services';
export { InstrumentedSqlClient, statementKind } from './instrumented-sql';
export { InstrumentedMetadata } from './instrumented-metadata';
export { MessageHandlingInterceptor } from './message-handling.interceptor';
