import { generateKeyPairSync } from 'node:crypto';
import {
  TokenIssuer,
  TokenVerifier,
  bearerChallenge,
  hashPassword,
  missingAccess,
  parseHtpasswd,
  parsePolicy,
  parseScopes,
} from './index';

describe('the public API, end to end', () => {
  it('signs in, grants the intersection, issues, verifies and challenges for what is missing', async () => {
    const htpasswd = parseHtpasswd(`bob:${await hashPassword('bob-pw', 4)}\n`);
    const policy = parsePolicy('rules:\n  - repositories: ["team-a/*"]\n    users: [bob]\n    actions: [pull]\n');
    const privateKey = generateKeyPairSync('ec', { namedCurve: 'P-256' })
      .privateKey.export({ type: 'pkcs8', format: 'pem' })
      .toString();
    const issuer = new TokenIssuer({ issuer: 'ocireg', service: 'registry', privateKey });
    const verifier = new TokenVerifier({ issuer: 'ocireg', service: 'registry', jwks: JSON.stringify(issuer.jwks()) });

    expect(await htpasswd.verify('bob', 'bob-pw')).toBe(true);
    const requested = parseScopes('repository:team-a/app:pull,push');
    const granted = policy.grant({ user: 'bob' }, requested);
    const { token } = await issuer.issue('bob', granted);
    const verified = await verifier.verify(token);
    expect(verified.subject).toBe('bob');

    const missing = missingAccess(verified.access, requested);
    expect(
      bearerChallenge({ realm: 'https://r/token', service: 'registry', scopes: missing, error: 'insufficient_scope' }),
    ).toBe('Bearer realm="https://r/token",service="registry",scope="repository:team-a/app:push",error="insufficient_scope"');
  });
});
