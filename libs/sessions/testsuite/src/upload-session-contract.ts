import { randomUUID } from 'node:crypto';
import type { UploadSession, UploadSessionStore } from '@ocireg/sessions';

export interface UploadSessionStoreFixture {
  store: UploadSessionStore;
  /** Closes whichever store is current (the last one reopen returned) and releases the backend. */
  teardown: () => Promise<void>;
  /**
   * For durable stores: closes the current store and returns a new, initialised one over the same data.
   * The suite uses the returned store from then on.
   */
  reopen?: () => Promise<UploadSessionStore>;
}

const TTL_TEST_TIMEOUT_MS = 15_000;

/**
 * The contract every UploadSessionStore adapter passes. `setup` runs once before the suite and must return an
 * initialised store; the suite deletes every session it created before calling `teardown`.
 */
export function describeUploadSessionStoreContract(name: string, setup: () => Promise<UploadSessionStoreFixture>): void {
  describe(`UploadSessionStore contract: ${name}`, () => {
    let fixture: UploadSessionStoreFixture;
    let store: UploadSessionStore;
    const created = new Set<string>();

    const newId = (): string => {
      const id = randomUUID();
      created.add(id);
      return id;
    };

    beforeAll(async () => {
      fixture = await setup();
      store = fixture.store;
    });

    afterAll(async () => {
      if (!fixture) {
        return;
      }
      try {
        await Promise.all([...created].map((id) => store.delete(id)));
      } finally {
        await fixture.teardown();
      }
    });

    it('returns a created session with every field preserved', async () => {
      const session = sampleSession(newId(), {
        lease: { token: randomUUID(), expiresAt: Date.now() + 30_000 },
      });
      await store.create(session, 60);
      const read = await store.get(session.id);
      expect(read).toStrictEqual(session);
    });

    it('round-trips a session without the optional fields', async () => {
      const session = sampleSession(newId());
      await store.create(session, 60);
      const read = await store.get(session.id);
      expect(read).toEqual(session);
      expect(read?.lease).toBeUndefined();
    });

    it('returns undefined for an unknown id', async () => {
      await expect(store.get(randomUUID())).resolves.toBeUndefined();
    });

    it('refuses to create a session whose id already exists, and keeps the first', async () => {
      const first = sampleSession(newId());
      await expect(store.create(first, 60)).resolves.toBe(true);
      await expect(store.create({ ...first, repository: 'other/repo' }, 60)).resolves.toBe(false);
      await expect(store.get(first.id)).resolves.toEqual(first);
    });

    it('lets one of two racing creates of the same id win', async () => {
      const id = newId();
      const results = await Promise.all([store.create(sampleSession(id, { repository: 'one/repo' }), 60), store.create(sampleSession(id, { repository: 'two/repo' }), 60)]);
      expect(results.filter(Boolean)).toHaveLength(1);
      const winner = results[0] ? 'one/repo' : 'two/repo';
      await expect(store.get(id)).resolves.toMatchObject({ repository: winner });
    });

    it('keeps the mark of an ended session, which still blocks a create', async () => {
      const session = sampleSession(newId());
      await store.create(session, 60);
      const ended = advance(session, { ended: true });
      await expect(store.compareAndSet(session.id, session.version, ended, 60)).resolves.toBe(true);
      await expect(store.get(session.id)).resolves.toEqual(ended);
      await expect(store.create(sampleSession(session.id), 60)).resolves.toBe(false);
    });

    it('compareAndSet replaces the session when the version matches', async () => {
      const session = sampleSession(newId());
      await store.create(session, 60);
      const next = advance(session, { append: { ...session.append, size: 2048 } });
      await expect(store.compareAndSet(session.id, session.version, next, 60)).resolves.toBe(true);
      await expect(store.get(session.id)).resolves.toEqual(next);
    });

    it('compareAndSet fails on a stale version and changes nothing', async () => {
      const session = sampleSession(newId());
      await store.create(session, 60);
      const second = advance(session, { append: { ...session.append, size: 10 } });
      await expect(store.compareAndSet(session.id, session.version, second, 60)).resolves.toBe(true);

      const stale = advance(session, { append: { ...session.append, size: 99 }, lease: { token: 'stale', expiresAt: 1 } });
      await expect(store.compareAndSet(session.id, session.version, stale, 60)).resolves.toBe(false);
      await expect(store.get(session.id)).resolves.toEqual(second);

      const ahead = advance(second, {});
      await expect(store.compareAndSet(session.id, second.version + 5, ahead, 60)).resolves.toBe(false);
      await expect(store.get(session.id)).resolves.toEqual(second);
    });

    it('compareAndSet fails for an unknown id and creates nothing', async () => {
      const id = newId();
      const session = sampleSession(id);
      await expect(store.compareAndSet(id, session.version, advance(session, {}), 60)).resolves.toBe(false);
      await expect(store.get(id)).resolves.toBeUndefined();
    });

    it('lets exactly one of many concurrent compareAndSet calls on the same version win', async () => {
      const session = sampleSession(newId());
      await store.create(session, 60);
      const contenders = Array.from({ length: 25 }, (_, i) =>
        advance(session, { lease: { token: `writer-${i}`, expiresAt: Date.now() + 60_000 } }),
      );
      const results = await Promise.all(contenders.map((next) => store.compareAndSet(session.id, session.version, next, 60)));
      expect(results.filter(Boolean)).toHaveLength(1);
      const winner = contenders[results.indexOf(true)];
      await expect(store.get(session.id)).resolves.toEqual(winner);
    });

    it('expires a session after its TTL; the id is then free again', async () => {
      const session = sampleSession(newId());
      await store.create(session, 1);
      await expect(store.get(session.id)).resolves.toEqual(session);
      await sleep(1_500);
      await expect(store.get(session.id)).resolves.toBeUndefined();
      await expect(store.compareAndSet(session.id, session.version, advance(session, {}), 60)).resolves.toBe(false);
      await expect(store.get(session.id)).resolves.toBeUndefined();
      await store.create(session, 60);
      await expect(store.get(session.id)).resolves.toEqual(session);
    }, TTL_TEST_TIMEOUT_MS);

    it('compareAndSet refreshes the TTL', async () => {
      // Extended: created for 1 s, then set for 5 s, so it outlives the first TTL.
      const extended = sampleSession(newId());
      await store.create(extended, 1);
      const extendedNext = advance(extended, {});
      await expect(store.compareAndSet(extended.id, extended.version, extendedNext, 5)).resolves.toBe(true);
      // Shortened: created for 60 s, then set for 1 s, so the new TTL (not the old one) applies.
      const shortened = sampleSession(newId());
      await store.create(shortened, 60);
      await expect(store.compareAndSet(shortened.id, shortened.version, advance(shortened, {}), 1)).resolves.toBe(true);

      await sleep(1_500);
      await expect(store.get(extended.id)).resolves.toEqual(extendedNext);
      await expect(store.get(shortened.id)).resolves.toBeUndefined();
    }, TTL_TEST_TIMEOUT_MS);

    it('delete returns true for an existing session, then false', async () => {
      const session = sampleSession(newId());
      await store.create(session, 60);
      await expect(store.delete(session.id)).resolves.toBe(true);
      await expect(store.get(session.id)).resolves.toBeUndefined();
      await expect(store.delete(session.id)).resolves.toBe(false);
      await expect(store.delete(randomUUID())).resolves.toBe(false);
    });

    it('keeps sessions across closing and reopening the store (durable stores only)', async () => {
      if (!fixture.reopen) {
        return; // not durable across a restart by design; nothing to check
      }
      const session = sampleSession(newId(), { lease: { token: randomUUID(), expiresAt: Date.now() + 5_000 } });
      await store.create(session, 60);
      const next = advance(session, { append: { ...session.append, size: 4096 } });
      await expect(store.compareAndSet(session.id, session.version, next, 60)).resolves.toBe(true);

      store = await fixture.reopen();
      await expect(store.get(session.id)).resolves.toEqual(next);
      await expect(store.compareAndSet(session.id, session.version, advance(session, {}), 60)).resolves.toBe(false);
      await expect(store.compareAndSet(session.id, next.version, advance(next, {}), 60)).resolves.toBe(true);
    });
  });
}

function sampleSession(id: string, extra: Partial<UploadSession> = {}): UploadSession {
  const now = Date.now();
  return {
    id,
    repository: 'library/contract-test',
    storageKey: `uploads/${id}`,
    append: {
      size: 1024,
      uploadId: `mp-${id}`,
      parts: [
        { number: 1, etag: '"d41d8cd98f00b204e9800998ecf8427e"', size: 1024 },
        { number: 2, etag: '"0cc175b9c0f1b6a831c399e269772661"', size: 0 },
      ],
      nested: { deep: { flag: true, nothing: null, list: [1, 'two', [3]] } },
      unicode: 'tête-à-tête ✓',
    },
    version: 1,
    createdAt: now,
    updatedAt: now,
    ...extra,
  };
}

function advance(session: UploadSession, changes: Partial<UploadSession>): UploadSession {
  return { ...session, ...changes, version: session.version + 1, updatedAt: session.updatedAt + 1 };
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
