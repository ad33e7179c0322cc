import { createHash } from 'node:crypto';
import type { Redis } from 'ioredis';

/** A Lua script and the SHA-1 under which Redis caches it. */
export interface RedisScript {
  readonly lua: string;
  readonly sha: string;
}

export function redisScript(lua: string): RedisScript {
  return { lua, sha: createHash('sha1').update(lua).digest('hex') };
}

/**
 * Runs a script by its SHA-1 (the script's text is not sent each time); on a server that does not have it yet
 * (first use, a restart, SCRIPT FLUSH), EVAL sends the text and Redis caches it.
 */
export async function runScript(client: Redis, script: RedisScript, keys: readonly string[], args: readonly string[]): Promise<unknown> {
  try {
    return await client.evalsha(script.sha, keys.length, ...keys, ...args);
  } catch (error) {
    if (!isNoScriptError(error)) throw error;
    return client.eval(script.lua, keys.length, ...keys, ...args);
  }
}

function isNoScriptError(error: unknown): boolean {
  const message = typeof error === 'object' && error !== null ? (error as { message?: unknown }).message : undefined;
  return typeof message === 'string' && message.startsWith('NOSCRIPT');
}
