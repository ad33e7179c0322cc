export { PgliteSqlClient, type PgliteSqlOptions } from './pglite-sql-client';
