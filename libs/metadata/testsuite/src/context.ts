import { createMetadata, migrate, type Metadata, type SqlClient } from '@ocireg/metadata';

export interface MetadataFixture {
  /** A client on a fresh, empty schema or database. The suite never closes it: teardown does. */
  sql: SqlClient;
  /** Removes what setup created and closes what it opened. */
  teardown: () => Promise<void>;
  /** Opens another client on the same schema (the suite closes it), to test concurrency across connections. */
  openClient?: () => Promise<SqlClient>;
}

/** Hook timeout: opening an embedded database or creating a schema can take seconds. */
export const HOOK_TIMEOUT_MS = 60_000;

/** What every test sees: a fresh schema (migrated unless the block says otherwise) and the metadata on it. */
export class ContractContext {
  private fixture: MetadataFixture | undefined;
  private current: Metadata | undefined;

  constructor(private readonly setup: () => Promise<MetadataFixture>) {}

  get sql(): SqlClient {
    if (!this.fixture) throw new Error('the metadata fixture is not set up');
    return this.fixture.sql;
  }

  get metadata(): Metadata {
    if (!this.current) throw new Error('the metadata fixture is not set up');
    return this.current;
  }

  /** Another client on the same schema when the adapter can open one, else the same client. */
  async openClient(): Promise<{ sql: SqlClient; close: () => Promise<void> }> {
    const open = this.fixture?.openClient;
    if (!open) return { sql: this.sql, close: async () => undefined };
    const sql = await open();
    return { sql, close: () => sql.close() };
  }

  /** Registers the hooks of the enclosing describe block. */
  install(options: { migrate: boolean }): void {
    beforeEach(async () => {
      this.fixture = await this.setup();
      if (options.migrate) await migrate(this.fixture.sql);
      this.current = createMetadata(this.fixture.sql);
    }, HOOK_TIMEOUT_MS);
    afterEach(async () => {
      const fixture = this.fixture;
      this.fixture = undefined;
      this.current = undefined;
      if (fixture) await fixture.teardown();
    }, HOOK_TIMEOUT_MS);
  }
}
