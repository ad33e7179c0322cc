import type { FastifyRequest } from 'fastify';
import { RegistryError } from '@ocireg/errors';
import type { FailureLimiter } from '@ocireg/ratelimit';
import type { Caller } from './caller';
import type { Requirement } from './requirement';

/**
 * Decides, once per request, who the caller is and whether they may do what the request needs: a Caller,
 * or a RegistryError (401 with its challenge, 403, 429). Implementations: open (no access control),
 * Basic (htpasswd + policy), Bearer (Docker token auth).
 */
export interface AccessControl {
  authorize(request: FastifyRequest, requirement: Requirement): Promise<Caller>;
}

/** Credentials of a `Authorization: Basic` header, or undefined when absent or malformed. */
export function basicCredentials(request: FastifyRequest): { user: string; password: string } | undefined {
  const header = request.headers.authorization;
  const match = header ? /^Basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(header) : null;
  if (!match?.[1]) return undefined;
  const decoded = Buffer.from(match[1], 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon <= 0) return undefined;
  return { user: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
}

export function bearerToken(request: FastifyRequest): string | undefined {
  const header = request.headers.authorization;
  const match = header ? /^Bearer\s+(\S+)\s*$/i.exec(header) : null;
  return match?.[1];
}

/**
 * Checks a user's password with failed attempts limited per client address and per user (shared across
 * replicas when the limiter is): a blocked client or user gets 429 with Retry-After, even with the right
 * password, until its window ends.
 */
export class LoginGuard {
  constructor(
    private readonly limiter: FailureLimiter,
    private readonly verify: (user: string, password: string) => Promise<boolean>,
  ) {}

  async login(user: string, password: string, clientAddress: string): Promise<boolean> {
    const keys = [`ip:${clientAddress}`, `user:${user}`];
    for (const key of keys) {
      const state = await this.limiter.check(key);
      if (state.blocked) throw tooManyAttempts(state.retryAfterSeconds);
    }
    if (await this.verify(user, password)) {
      await this.limiter.reset(`user:${user}`);
      return true;
    }
    const states = await Promise.all(keys.map((key) => this.limiter.fail(key)));
    const blocked = states.find((state) => state.blocked);
    if (blocked) throw tooManyAttempts(blocked.retryAfterSeconds);
    return false;
  }
}

function tooManyAttempts(retryAfterSeconds: number): RegistryError {
  return new RegistryError('TOOMANYREQUESTS', 'too many failed login attempts', undefined, {
    'retry-after': String(Math.max(1, Math.ceil(retryAfterSeconds))),
  });
}
