import { defineBlobTests } from './blob-tests';
import { ContractContext, type MetadataFixture } from './context';
import { defineManifestTests } from './manifest-tests';
import { defineMigrationTests } from './migration-tests';
import { defineReferrerTests } from './referrer-tests';
import { defineRepositoryTests } from './repository-tests';
import { defineSqlClientTests } from './sql-client-tests';
import { defineTagTests } from './tag-tests';

/**
 * The metadata contract every SqlClient adapter runs: the adapter's own transaction semantics, then every
 * method of the Metadata aggregates over it. `setup` gives each test a fresh, empty schema or database; the
 * suite migrates it (except in the migration tests) and calls `teardown` after the test.
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
      defineBlobTests(ctx);
      defineManifestTests(ctx);
      defineTagTests(ctx);
      defineReferrerTests(ctx);
      defineRepositoryTests(ctx);
    });
  });
}
