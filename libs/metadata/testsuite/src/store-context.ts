import type { Metadata } from '@ocireg/metadata';

/** A fresh, empty metadata store of any adapter (SQL or not). */
export interface MetadataStoreFixture {
  metadata: Metadata;
  /** Removes what setup created and closes what it opened (the store as last reopened). */
  teardown: () => Promise<void>;
  /** Closes the store and opens it again on the same data (durable adapters), returning the reopened store. */
  reopen?: () => Promise<Metadata>;
}

/** What the behaviour tests need: the metadata under test. */
export interface MetadataContext {
  readonly metadata: Metadata;
}

/** Hook timeout: opening an embedded database or creating a schema can take seconds. */
export const STORE_HOOK_TIMEOUT_MS = 60_000;

/** Each test gets a fresh store from `setup`; `reopen` swaps in the reopened one. */
export class StoreContext implements MetadataContext {
  private fixture: MetadataStoreFixture | undefined;
  private current: Metadata | undefined;

  constructor(private readonly setup: () => Promise<MetadataStoreFixture>) {}

  get metadata(): Metadata {
    if (!this.current) throw new Error('the metadata store is not set up');
    return this.current;
  }

  /** Closes and reopens the store on the same data. */
  async reopen(): Promise<Metadata> {
    const reopen = this.fixture?.reopen;
    if (!reopen) throw new Error('this adapter cannot be reopened');
    this.current = await reopen();
    return this.current;
  }

  install(): void {
    beforeEach(async () => {
      this.fixture = await this.setup();
      this.current = this.fixture.metadata;
    }, STORE_HOOK_TIMEOUT_MS);
    afterEach(async () => {
      const fixture = this.fixture;
      this.fixture = undefined;
      this.current = undefined;
      if (fixture) await fixture.teardown();
    }, STORE_HOOK_TIMEOUT_MS);
  }
}
