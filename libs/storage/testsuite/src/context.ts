import { randomUUID } from 'node:crypto';
import type { ContentStore } from '@ocireg/storage';
import { collect } from './streams';

export interface ContentStoreFixture {
  store: ContentStore;
  teardown: () => Promise<void>;
  /**
   * Optional: removes everything the backend still holds, internal areas included (temporary files, tails of
   * unfinished appends), and returns what it found. The suite calls it after each test, once the listed objects
   * are deleted, and fails the test when it found anything: a store must not leak what `list` cannot see.
   */
  sweepAll?: () => Promise<string[]>;
}

/** What every test sees: the store under test and a key namespace of its own. */
export class ContractContext {
  private fixture: ContentStoreFixture | undefined;
  private prefix = '';

  get store(): ContentStore {
    if (!this.fixture) throw new Error('the content store fixture is not set up');
    return this.fixture.store;
  }

  /** A key unique to the running test. */
  key(name: string): string {
    return `${this.prefix}/${name}`;
  }

  get namespace(): string {
    return `${this.prefix}/`;
  }

  async setUp(setup: () => Promise<ContentStoreFixture>): Promise<void> {
    this.fixture = await setup();
    await this.store.init();
  }

  async tearDown(): Promise<void> {
    if (!this.fixture) return;
    await this.fixture.store.close();
    await this.fixture.teardown();
    this.fixture = undefined;
  }

  beginTest(): void {
    this.prefix = `contract-${randomUUID()}`;
  }

  /** Fails the test when anything is still stored; deletes the leftovers so later tests start clean. */
  async assertNothingLeft(): Promise<void> {
    const left = await collect(this.store.list(''));
    for (const key of left) await this.store.delete(key);
    const hidden = (await this.fixture?.sweepAll?.()) ?? [];
    if (left.length > 0) throw new Error(`the test left objects behind: ${left.join(', ')}`);
    if (hidden.length > 0) throw new Error(`the test left internal data behind: ${hidden.join(', ')}`);
  }
}
