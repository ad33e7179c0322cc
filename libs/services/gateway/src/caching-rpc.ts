import type { RegistryRpc, RequestOf, ResponseOf, Subject } from '@ocireg/contracts';
import type { Broadcast } from '@ocireg/messaging';
import { looksLikeDigest } from '@ocireg/oci';
import { evictSecondChance } from './second-chance';

/** The broadcast channel on which gateways tell each other what changed. */
export const METADATA_CHANGED = 'metadata.changed';

/** What a mutation changed in a repository: every cached answer about that repository is dropped. */
export interface MetadataChange {
  repository: string;
}

export interface MetadataCacheOptions {
  /** Answers kept, least recently used out first. */
  maxEntries: number;
  /** An answer is asked again after this long, whatever happened (bounds staleness if a broadcast is lost). */
  ttlMs: number;
}

interface Entry {
  value: unknown;
  expires: number;
  /** Read since it was last looked at by the eviction (see evictSecondChance). */
  used: boolean;
}

/** Tag lists longer than this are not kept (one entry must stay small). */
const MAX_CACHED_TAGS = 256;

/**
 * A decorator of the gateway's RPC client that answers repeated reads from memory: blob descriptors
 * (`blob.resolve`), manifests by digest or tag (`manifest.resolve`) and tag-list pages (`tags.list`). Only
 * successful answers are kept (an unknown blob is asked again: it may be pushed any moment).
 *
 * Correctness across replicas: every mutation that can change an answer (`blob.delete`, `manifest.put`,
 * `manifest.delete`) drops the repository's answers here before it returns, and is broadcast to every other
 * gateway, which drops them too. Answers are keyed by the repository's generation, bumped on each change, so
 * an answer that was on its way while the change happened is never kept. A TTL bounds how long a replica that
 * missed a broadcast (NATS is at-most-once) can be wrong.
 */
export class CachingRpc implements RegistryRpc {
  private readonly entries = new Map<string, Entry>();
  /** repository -> generation; repositories not here are at `baseline`. */
  private readonly generations = new Map<string, number>();
  private counter = 0;
  private baseline = 0;
  private unsubscribe: (() => void) | undefined;

  constructor(
    private readonly inner: RegistryRpc,
    private readonly options: MetadataCacheOptions,
    private readonly broadcast?: Broadcast,
    private readonly now: () => number = Date.now,
  ) {}

  /** Starts listening to the other gateways' changes (before serving, so none is missed). */
  async start(): Promise<void> {
    if (!this.broadcast) return;
    this.unsubscribe = await this.broadcast.subscribe(METADATA_CHANGED, (message) => {
      const repository = (message as Partial<MetadataChange> | null)?.repository;
      if (typeof repository === 'string') this.changed(repository);
    });
  }

  async stop(): Promise<void> {
    this.unsubscribe?.();
    this.unsubscribe = undefined;
  }

  async call<S extends Subject>(subject: S, request: RequestOf<S>): Promise<ResponseOf<S>> {
    const key = cacheKey(subject, request);
    if (key) return this.cached(subject, request, key);
    const repository = mutatedRepository(subject, request);
    if (!repository) return this.inner.call(subject, request);
    try {
      return await this.inner.call(subject, request);
    } finally {
      // Even a failed mutation may have changed something (a timeout after the commit): forget either way.
      await this.announce(repository);
    }
  }

  /** Number of answers held (for tests and metrics). */
  get size(): number {
    return this.entries.size;
  }

  private async cached<S extends Subject>(subject: S, request: RequestOf<S>, key: { repository: string; id: string }): Promise<ResponseOf<S>> {
    const generation = this.generationOf(key.repository);
    const fullKey = `${generation}\u0000${key.id}`;
    const entry = this.entries.get(fullKey);
    const now = this.now();
    if (entry && entry.expires > now) {
      entry.used = true;
      return entry.value as ResponseOf<S>;
    }
    if (entry) this.entries.delete(fullKey);
    const value = await this.inner.call(subject, request);
    // Kept only if nothing changed in the repository meanwhile.
    if (this.generationOf(key.repository) === generation && keepable(subject, value)) {
      this.entries.set(fullKey, { value: deepFreeze(withoutBody(value)), expires: now + this.options.ttlMs, used: false });
      this.evict();
    }
    return value;
  }

  /** Beyond maxEntries, least recently used out first (see evictSecondChance). */
  private evict(): void {
    evictSecondChance(this.entries, () => this.entries.size > this.options.maxEntries);
  }

  private async announce(repository: string): Promise<void> {
    this.changed(repository);
    // The other replicas learn it as soon as possible; if the broadcast fails, their TTL still bounds it.
    await this.broadcast?.publish(METADATA_CHANGED, { repository } satisfies MetadataChange).catch(() => undefined);
  }

  /** Every answer about the repository is forgotten: its generation moves on. */
  private changed(repository: string): void {
    this.generations.set(repository, ++this.counter);
    if (this.generations.size > this.options.maxEntries) {
      // Too many repositories remembered: forget everything, at a new baseline no in-flight read can match.
      this.generations.clear();
      this.entries.clear();
      this.baseline = ++this.counter;
    }
  }

  private generationOf(repository: string): number {
    return this.generations.get(repository) ?? this.baseline;
  }
}

/**
 * A manifest's bytes are not kept with the answer: the entries are counted, not sized, and the gateway's
 * ManifestCache keeps bytes within a budget of bytes. An answer without them is read from there, the content
 * store, or asked again `fresh` (see ManifestsHandler.bytesOf).
 */
function withoutBody<T>(value: T): T {
  if (typeof value !== 'object' || value === null || !('body' in value)) return value;
  const { body: _body, ...rest } = value as T & { body?: unknown };
  return rest as T;
}

/** The key of a cacheable read (its repository, and an id unique to the question), or undefined. */
function cacheKey(subject: Subject, request: unknown): { repository: string; id: string } | undefined {
  const r = request as Record<string, unknown>;
  const repository = r['repository'];
  if (typeof repository !== 'string' || r['fresh'] === true) return undefined;
  switch (subject) {
    case 'blob.resolve':
      return { repository, id: `b\u0000${repository}\u0000${String(r['digest'])}` };
    case 'manifest.resolve': {
      const reference = String(r['reference']);
      return { repository, id: `${looksLikeDigest(reference) ? 'm' : 't'}\u0000${repository}\u0000${reference}` };
    }
    case 'tags.list':
      return { repository, id: `l\u0000${repository}\u0000${String(r['n'])}\u0000${String(r['last'] ?? '')}` };
    default:
      return undefined;
  }
}

/** The repository whose cached answers a mutation may change, or undefined when it changes none. */
function mutatedRepository(subject: Subject, request: unknown): string | undefined {
  if (subject !== 'blob.delete' && subject !== 'manifest.put' && subject !== 'manifest.delete') return undefined;
  const repository = (request as Record<string, unknown>)['repository'];
  return typeof repository === 'string' ? repository : undefined;
}

function keepable(subject: Subject, value: unknown): boolean {
  if (subject !== 'tags.list') return true;
  const tags = (value as { tags?: unknown[] }).tags;
  return Array.isArray(tags) && tags.length <= MAX_CACHED_TAGS;
}

/** Shared answers must not be changed by whoever receives them. */
function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const child of Object.values(value)) deepFreeze(child);
  }
  return value;
}
