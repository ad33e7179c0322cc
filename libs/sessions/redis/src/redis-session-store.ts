import { RedisAdapter, type RedisConnectionOptions, redisScript, runScript } from '@ocireg/redis';
import type { UploadSession, UploadSessionStore } from '@ocireg/sessions';

export interface RedisUploadSessionStoreOptions extends RedisConnectionOptions {
  /** Prefix of every key this store writes. Default `ocireg:upload:`. */
  keyPrefix?: string;
}

export const DEFAULT_UPLOAD_SESSION_KEY_PREFIX = 'ocireg:upload:';

/**
 * Atomically replaces the session under KEYS[1] when its stored `version` equals ARGV[1].
 * ARGV[2] is the new JSON, ARGV[3] the TTL in milliseconds. Returns 1 when replaced, 0 otherwise.
 */
const COMPARE_AND_SET = redisScript(`
local current = redis.call('GET', KEYS[1])
if not current then
  return 0
end
local ok, decoded = pcall(cjson.decode, current)
if not ok or type(decoded) ~= 'table' then
  return redis.error_reply('ERR corrupt upload session under ' .. KEYS[1])
end
if decoded['version'] ~= tonumber(ARGV[1]) then
  return 0
end
redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3])
return 1
`);

/** Upload sessions in Redis: one JSON string per session, expiring by Redis TTL; CAS by a Lua script. */
export class RedisUploadSessionStore extends RedisAdapter implements UploadSessionStore {
  private readonly keyPrefix: string;

  constructor(options: RedisUploadSessionStoreOptions = {}) {
    super(options);
    this.keyPrefix = options.keyPrefix ?? DEFAULT_UPLOAD_SESSION_KEY_PREFIX;
  }

  async create(session: UploadSession, ttlSeconds: number): Promise<boolean> {
    const ttlMs = toTtlMilliseconds(ttlSeconds);
    const result = await this.client.set(this.key(session.id), JSON.stringify(session), 'PX', ttlMs, 'NX');
    return result === 'OK';
  }

  async get(id: string): Promise<UploadSession | undefined> {
    const json = await this.client.get(this.key(id));
    return json === null ? undefined : parseSession(json, id);
  }

  async compareAndSet(id: string, expectedVersion: number, next: UploadSession, ttlSeconds: number): Promise<boolean> {
    if (next.id !== id) {
      throw new Error(`compareAndSet of upload session ${id} was given a session with id ${next.id}`);
    }
    const ttlMs = toTtlMilliseconds(ttlSeconds);
    const result = await runScript(this.client, COMPARE_AND_SET, [this.key(id)], [String(expectedVersion), JSON.stringify(next), String(ttlMs)]);
    return result === 1;
  }

  async delete(id: string): Promise<boolean> {
    return (await this.client.del(this.key(id))) > 0;
  }

  private key(id: string): string {
    return this.keyPrefix + id;
  }
}

function toTtlMilliseconds(ttlSeconds: number): number {
  if (!Number.isFinite(ttlSeconds) || ttlSeconds <= 0) {
    throw new RangeError(`upload session TTL must be a positive number of seconds, got ${ttlSeconds}`);
  }
  return Math.max(1, Math.ceil(ttlSeconds * 1000));
}

function parseSession(json: string, id: string): UploadSession {
  const value: unknown = JSON.parse(json);
  if (!isSessionLike(value) || value.id !== id) {
    throw new Error(`corrupt upload session stored under id ${id}`);
  }
  return value;
}

function isSessionLike(value: unknown): value is UploadSession {
  if (typeof value !== 'object' || value === null) {
    return false;
  }
  const record = value as Record<string, unknown>;
  return typeof record['id'] === 'string' && typeof record['version'] === 'number'
    && typeof record['append'] === 'object' && record['append'] !== null;
}

