import type { RegistryRpc } from '@ocireg/contracts';
import { RegistryError } from '@ocireg/errors';
import { InProcessTransport } from '@ocireg/messaging-inprocess';
import { CachingRpc, METADATA_CHANGED } from './caching-rpc';

const DIGEST = `sha256:${'a'.repeat(64)}`;

/** A fake manifest/blob service whose answers can change, counting the calls that reach it. */
function service() {
  const state = { tag: DIGEST, blobs: new Set([DIGEST]), calls: [] as string[], hold: undefined as Promise<void> | undefined };
  const rpc: RegistryRpc = {
    call: (async (subject: string, request: Record<string, unknown>) => {
      state.calls.push(subject);
      if (state.hold) await state.hold;
      switch (subject) {
        case 'blob.resolve':
          if (!state.blobs.has(String(request['digest']))) throw new RegistryError('BLOB_UNKNOWN');
          return { digest: request['digest'], size: 3, storageKey: 'k' };
        case 'manifest.resolve':
          return { digest: request['reference'] === 'v1' ? state.tag : request['reference'], mediaType: 'm', size: 2, storageKey: 'k', body: 'e30=' };
        case 'tags.list':
          return { name: request['repository'], tags: ['v1'], more: false };
        case 'blob.delete':
          state.blobs.delete(String(request['digest']));
          return { deleted: true };
        default:
          return {};
      }
    }) as RegistryRpc['call'],
  };
  return { rpc, state };
}

const options = { maxEntries: 100, ttlMs: 30_000 };

describe('CachingRpc', () => {
  it('answers repeated reads from memory, by repository and question, and never keeps failures', async () => {
    const { rpc, state } = service();
    const cache = new CachingRpc(rpc, options);
    const resolve = () => cache.call('blob.resolve', { repository: 'a/b', digest: DIGEST });
    await expect(resolve()).resolves.toEqual({ digest: DIGEST, size: 3, storageKey: 'k' });
    await resolve();
    await cache.call('blob.resolve', { repository: 'other', digest: DIGEST });
    await cache.call('manifest.resolve', { repository: 'a/b', reference: 'v1' });
    await cache.call('manifest.resolve', { repository: 'a/b', reference: 'v1' });
    await cache.call('tags.list', { repository: 'a/b', n: 100 });
    await cache.call('tags.list', { repository: 'a/b', n: 100 });
    await cache.call('tags.list', { repository: 'a/b', n: 50 });
    expect(state.calls).toEqual(['blob.resolve', 'blob.resolve', 'manifest.resolve', 'tags.list', 'tags.list']);

    const missing = `sha256:${'b'.repeat(64)}`;
    await expect(cache.call('blob.resolve', { repository: 'a/b', digest: missing })).rejects.toBeInstanceOf(RegistryError);
    state.blobs.add(missing);
    await expect(cache.call('blob.resolve', { repository: 'a/b', digest: missing })).resolves.toMatchObject({ digest: missing });
    // Shared answers cannot be changed by a caller.
    const answer = await resolve();
    expect(() => ((answer as { size: number }).size = 9)).toThrow(TypeError);
  });

  it("keeps a manifest's answer without its bytes, and asks past the cache when told fresh", async () => {
    const { rpc, state } = service();
    const cache = new CachingRpc(rpc, options);
    const first = await cache.call('manifest.resolve', { repository: 'a/b', reference: 'v1' });
    expect(first.body).toBe('e30=');
    const again = await cache.call('manifest.resolve', { repository: 'a/b', reference: 'v1' });
    expect(again).toEqual({ digest: DIGEST, mediaType: 'm', size: 2, storageKey: 'k' });
    expect(state.calls).toEqual(['manifest.resolve']);
    const fresh = await cache.call('manifest.resolve', { repository: 'a/b', reference: DIGEST, fresh: true });
    expect(fresh.body).toBe('e30=');
    await cache.call('manifest.resolve', { repository: 'a/b', reference: DIGEST, fresh: true });
    expect(state.calls).toEqual(['manifest.resolve', 'manifest.resolve', 'manifest.resolve']);
  });

  it("forgets a repository's answers when this gateway changes it, and a read that raced the change is not kept", async () => {
    const { rpc, state } = service();
    const cache = new CachingRpc(rpc, options);
    const tag = () => cache.call('manifest.resolve', { repository: 'a/b', reference: 'v1' });
    await tag();
    const moved = `sha256:${'c'.repeat(64)}`;
    state.tag = moved;
    await cache.call('manifest.put', { repository: 'a/b', tag: 'v1', digest: moved, size: 2, storageKey: 'k' });
    await expect(tag()).resolves.toMatchObject({ digest: moved });

    await cache.call('blob.resolve', { repository: 'a/b', digest: DIGEST });
    await cache.call('blob.delete', { repository: 'a/b', digest: DIGEST });
    await expect(cache.call('blob.resolve', { repository: 'a/b', digest: DIGEST })).rejects.toMatchObject({ kind: 'BLOB_UNKNOWN' });

    // A read in flight while the tag moves must not keep the old answer.
    state.tag = DIGEST;
    let release!: () => void;
    state.hold = new Promise((resolve) => (release = resolve));
    const racing = cache.call('manifest.resolve', { repository: 'x/y', reference: 'v1' });
    const mutation = cache.call('manifest.delete', { repository: 'x/y', reference: 'v1' });
    release();
    await Promise.all([racing, mutation]);
    state.hold = undefined;
    const before = state.calls.length;
    await cache.call('manifest.resolve', { repository: 'x/y', reference: 'v1' });
    expect(state.calls.length).toBe(before + 1);
  });

  it("forgets what another gateway changed, told over the transport's broadcast", async () => {
    const transport = new InProcessTransport();
    const { rpc, state } = service();
    const mine = new CachingRpc(rpc, options, transport.createBroadcast());
    const theirs = new CachingRpc(rpc, options, transport.createBroadcast());
    await mine.start();
    await theirs.start();
    await mine.call('blob.resolve', { repository: 'a/b', digest: DIGEST });
    await theirs.call('blob.delete', { repository: 'a/b', digest: DIGEST });
    await new Promise((resolve) => setImmediate(resolve));
    await expect(mine.call('blob.resolve', { repository: 'a/b', digest: DIGEST })).rejects.toMatchObject({ kind: 'BLOB_UNKNOWN' });
    expect(state.calls.filter((c) => c === 'blob.resolve')).toHaveLength(2);
    // Junk on the channel is ignored.
    await transport.createBroadcast().publish(METADATA_CHANGED, { nope: 1 });
    await mine.stop();
    await theirs.stop();
  });

  it('asks again after the TTL and keeps at most maxEntries answers', async () => {
    const { rpc, state } = service();
    let now = 0;
    const cache = new CachingRpc(rpc, { maxEntries: 2, ttlMs: 1000 }, undefined, () => now);
    const resolve = (repository: string) => cache.call('blob.resolve', { repository, digest: DIGEST });
    await resolve('a');
    now = 999;
    await resolve('a');
    now = 1000;
    await resolve('a');
    expect(state.calls).toHaveLength(2);
    await resolve('b');
    await resolve('c');
    expect(cache.size).toBe(2);
    await resolve('a'); // evicted (least recently used)
    expect(state.calls).toHaveLength(5);
  });

  it('keeps an answer read since it was kept over one that was not, when it must drop one', async () => {
    const { rpc, state } = service();
    const cache = new CachingRpc(rpc, { maxEntries: 2, ttlMs: 60_000 });
    const resolve = (repository: string) => cache.call('blob.resolve', { repository, digest: DIGEST });
    await resolve('a');
    await resolve('b');
    await resolve('a'); // read: kept when c comes
    await resolve('c');
    expect(state.calls).toHaveLength(3);
    await resolve('a');
    expect(state.calls).toHaveLength(3);
    await resolve('b'); // dropped for c
    expect(state.calls).toHaveLength(4);
  });
});
