export { PgSqlClient, type PgSqlOptions } from './pg-sql-client';
export { ensureDatabase } from './ensure-database';
