import { createMetadata, migrate } from '@ocireg/metadata';
import { defineBlobTests } from './blob-tests';
import { ContractContext, type MetadataFixture } from './context';
import { defineDurabilityTests } from './durability-tests';
import { defineManifestTests } from './manifest-tests';
import { defineMigrationTests } from './migration-tests';
import { defineReferrerTests } from './referrer-tests';
import { defineRepositoryTests } from './repository-tests';
import { defineSqlClientTests } from './sql-client-tests';
import { StoreContext, type MetadataStoreFixture } from './store-context';
import { defineTagTests } from './tag-tests';

export interface StoreContractOptions {
  /** The fixture can reopen the store on the same data: run the durability tests too. */
  durable?: boolean;
}

/**
 * The behaviour every Metadata adapter must have, SQL or not: every method of the Metadata port. `setup`
 * gives each test a fresh, empty store; `teardown` is called after the test.
 */
export function describeMetadataStoreContract(name: string, setup: () => Promise<MetadataStoreFixture>, options: StoreContractOptions = {}): void {
  describe(`Metadata behaviour: ${name}`, () => {
    const ctx = new StoreContext(setup);
    ctx.install();
    defineBlobTests(ctx);
    defineManifestTests(ctx);
    defineTagTests(ctx);
    defineReferrerTests(ctx);
    defineRepositoryTests(ctx);
    if (options.durable) defineDurabilityTests(ctx);
  });
}

/**
 * The metadata contract every SqlClient adapter runs: the migrations and the adapter's own transaction
 * semantics, then the Metadata behaviour over the shared repositories (createMetadata). `setup` gives each
 * test a fresh, empty schema or database; the suite migrates it (except in the migration tests) and calls
 * `teardown` after the test.
 */
export function describeMetadataContract(name: string, setup: () => Promise<MetadataFixture>): void {
  describe(`Metadata contract: ${name}`, () => {
    describe('migrations', () => {
      const ctx = new ContractContext(setup);
      ctx.install({ migrate: false });
      defineMigrationTests(ctx);
    });

    describe('migrated schema', () => {
      const ctx = new ContractContext(setup);
      ctx.install({ migrate: true });
      defineSqlClientTests(ctx);
    });

    describeMetadataStoreContract(`${name} (SQL repositories)`, async () => {
      const fixture = await setup();
      try {
        await migrate(fixture.sql);
      } catch (error) {
        await fixture.teardown();
        throw error;
      }
      return { metadata: createMetadata(fixture.sql), teardown: fixture.teardown };
    });
  });
}

