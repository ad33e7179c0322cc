import { defineAppendTests } from './append-tests';
import { ContractContext, type ContentStoreFixture } from './context';
import { defineLargeObjectTests } from './large-object-tests';
import { defineObjectTests } from './object-tests';
import { definePurgeTests } from './purge-tests';

/**
 * The content store contract every adapter runs. `setup` creates a fresh, empty store (the suite calls
 * `init()`, then `close()` and `teardown()` at the end). Each test works under a key prefix of its own and
 * fails if anything is left in the store afterwards.
 */
export function describeContentStoreContract(name: string, setup: () => Promise<ContentStoreFixture>): void {
  describe(`ContentStore contract: ${name}`, () => {
    const ctx = new ContractContext();

    beforeAll(async () => ctx.setUp(setup), 60_000);
    afterAll(async () => ctx.tearDown(), 60_000);
    beforeEach(() => ctx.beginTest());
    afterEach(async () => ctx.assertNothingLeft(), 60_000);

    defineObjectTests(ctx);
    defineAppendTests(ctx);
    definePurgeTests(ctx);
    defineLargeObjectTests(ctx);
  });
}
