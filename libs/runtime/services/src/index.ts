export { runService, startServices, migrateDatabase, SERVICE_NAMES } from './run-services';
export type { ServiceName } from './run-services';
export { InstrumentedSqlClient, statementKind } from './instrumented-sql';
export { InstrumentedMetadata } from './instrumented-metadata';
export { MessageMetricsInterceptor } from './message-metrics.interceptor';
export { RequestContextInterceptor } from './request-context.interceptor';
