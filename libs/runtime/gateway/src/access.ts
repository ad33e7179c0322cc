import { readFile } from 'node:fs/promises';
import type { FastifyRequest } from 'fastify';
import { Policy, TokenIssuer, TokenVerifier, defaultPolicy, parseHtpasswd, parsePolicy } from '@ocireg/auth';
import type { AuthConfig, LoginLimits, RegistryConfig } from '@ocireg/config';
import { AccessControl, BasicAccessControl, BearerAccessControl, LoginGuard, TokenServer } from '@ocireg/gateway-feature';
import type { FailureLimiter } from '@ocireg/ratelimit';
import { MemoryFailureLimiter } from '@ocireg/ratelimit-memory';
import { RedisFailureLimiter } from '@ocireg/ratelimit-redis';
import type { Lifecycle } from '@ocireg/runtime';

export interface GatewayAccess {
  access?: AccessControl;
  tokenServer?: TokenServer;
}

/** A file named by a setting, read at start-up; an unreadable file stops start-up naming the setting. */
export async function readSetting(path: string, setting: string): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch (error) {
    throw new Error(`${setting}: cannot read ${path} (${(error as NodeJS.ErrnoException).code ?? 'error'})`);
  }
}

/** Parses a file's contents, turning a parse error into a start-up error that names the setting. */
async function parseSetting<T>(path: string, setting: string, parse: (text: string) => T): Promise<T> {
  const text = await readSetting(path, setting);
  try {
    return parse(text);
  } catch (error) {
    throw new Error(`${setting}: ${path}: ${error instanceof Error ? error.message : String(error)}`);
  }
}

/** Failed logins are counted in Redis when the registry runs distributed (shared by every gateway). */
async function openLimiter(config: RegistryConfig, limits: LoginLimits, life: Lifecycle): Promise<FailureLimiter> {
  const options = { maxFailures: limits.maxFailures, windowSeconds: limits.windowSeconds };
  const limiter =
    config.sessions.driver === 'redis'
      ? new RedisFailureLimiter({ ...options, url: config.sessions.url, keyPrefix: `${config.sessions.keyPrefix}login:` })
      : new MemoryFailureLimiter(options);
  await limiter.init();
  life.add(() => limiter.close());
  return limiter;
}

async function loadPolicy(path: string | undefined): Promise<Policy> {
  return path ? parseSetting(path, 'REGISTRY_AUTH_POLICY_PATH', parsePolicy) : defaultPolicy();
}

async function loginGuard(config: RegistryConfig, auth: Exclude<AuthConfig, { mode: 'none' }>, life: Lifecycle): Promise<LoginGuard | undefined> {
  const path = auth.htpasswdPath;
  if (!path) return undefined;
  const htpasswd = await parseSetting(path, 'REGISTRY_AUTH_HTPASSWD_PATH', parseHtpasswd);
  return new LoginGuard(await openLimiter(config, auth.login, life), (user, password) => htpasswd.verify(user, password));
}

/** Builds the gateway's access control (and its own token server) from REGISTRY_AUTH and its settings. */
export async function openAccess(config: RegistryConfig, life: Lifecycle): Promise<GatewayAccess> {
  const auth = config.auth;
  if (auth.mode === 'none') return {};
  const policy = await loadPolicy(auth.policyPath);
  const guard = await loginGuard(config, auth, life);
  if (auth.mode === 'htpasswd') {
    if (!guard) throw new Error('REGISTRY_AUTH_HTPASSWD_PATH is required');
    return { access: new BasicAccessControl(auth.realm, guard, policy) };
  }
  const issuer = auth.signingKeyPath
    ? new TokenIssuer({
        privateKey: await readSetting(auth.signingKeyPath, 'REGISTRY_AUTH_TOKEN_SIGNINGKEY'),
        certificate: auth.signingCertPath ? await readSetting(auth.signingCertPath, 'REGISTRY_AUTH_TOKEN_SIGNINGCERT') : undefined,
        issuer: auth.issuer,
        service: auth.service,
        lifetimeSeconds: auth.tokenLifetimeSeconds,
      })
    : undefined;
  const verifier = new TokenVerifier({
    issuer: auth.issuer,
    service: auth.service,
    rootCertBundle: auth.rootCertBundlePath ? await readSetting(auth.rootCertBundlePath, 'REGISTRY_AUTH_TOKEN_ROOTCERTBUNDLE') : undefined,
    jwks: await trustedJwks(auth.jwksPath, issuer),
    algorithms: auth.signingAlgorithms,
  });
  const realm = auth.realm;
  const realmOf = (request: FastifyRequest) => realm ?? `${request.protocol}://${request.headers.host ?? 'localhost'}/auth/token`;
  return {
    access: new BearerAccessControl(verifier, realmOf, auth.service, issuer ? policy : undefined),
    tokenServer: issuer ? new TokenServer({ issuer, service: auth.service, policy, guard }) : undefined,
  };
}

/** Keys tokens may be signed with: an external JWKS file's, and the registry's own issuer's. */
async function trustedJwks(path: string | undefined, issuer: TokenIssuer | undefined): Promise<string | undefined> {
  const keys: unknown[] = [];
  if (path) {
    const parsed = await parseSetting(path, 'REGISTRY_AUTH_TOKEN_JWKS', (text) => JSON.parse(text) as { keys?: unknown[] });
    if (!Array.isArray(parsed.keys)) throw new Error(`REGISTRY_AUTH_TOKEN_JWKS: ${path}: not a JWK Set (no "keys" array)`);
    keys.push(...parsed.keys);
  }
  if (issuer) keys.push(...issuer.jwks().keys);
  return keys.length > 0 ? JSON.stringify({ keys }) : undefined;
}
