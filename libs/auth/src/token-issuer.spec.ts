import { calculateJwkThumbprint, decodeJwt, decodeProtectedHeader } from 'jose';
import { generateKeyPairSync } from 'node:crypto';
import { KeyPair, Pki, keyPair } from '../test/pki';
import { InvalidTokenError } from './token-claims';
import { TokenIssuer } from './token-issuer';
import { TokenVerifier } from './token-verifier';

const BASE = { issuer: 'ocireg-token', service: 'registry.test' };
const ACCESS = [{ type: 'repository' as const, name: 'team/app', actions: ['pull', 'push'] }];

describe('TokenIssuer', () => {
  let ec: KeyPair;
  let rsa: KeyPair;
  let ed: KeyPair;

  beforeAll(() => {
    ec = keyPair('ec256');
    rsa = keyPair('rsa');
    ed = keyPair('ed25519');
  });

  it.each([
    ['EC P-256', 'ES256', (): KeyPair => ec],
    ['EC P-384', 'ES384', (): KeyPair => keyPair('ec384')],
    ['RSA', 'RS256', (): KeyPair => rsa],
    ['Ed25519', 'EdDSA', (): KeyPair => ed],
  ])('signs with %s as %s, verifiable through its own JWKS', async (_kind, alg, key) => {
    const issuer = new TokenIssuer({ ...BASE, privateKey: key().privatePem });
    expect(issuer.algorithm).toBe(alg);
    const { token } = await issuer.issue('alice', ACCESS);
    const verifier = new TokenVerifier({ ...BASE, jwks: JSON.stringify(issuer.jwks()) });
    await expect(verifier.verify(token)).resolves.toMatchObject({ subject: 'alice', access: ACCESS });
  });

  it('writes Distribution\'s header and claims', async () => {
    let now = Date.UTC(2025, 0, 2, 3, 4, 5, 678);
    const issuer = new TokenIssuer({ ...BASE, privateKey: ec.privatePem, now: () => now });
    const issued = await issuer.issue('alice', ACCESS);
    expect(issued.expiresIn).toBe(300);
    expect(issued.issuedAt).toBe('2025-01-02T03:04:05Z');

    const header = decodeProtectedHeader(issued.token);
    expect(header).toEqual({ alg: 'ES256', typ: 'JWT', kid: await calculateJwkThumbprint(issuer.jwks().keys[0]) });
    const claims = decodeJwt(issued.token);
    const iat = Math.floor(now / 1000);
    expect(claims).toEqual({
      iss: 'ocireg-token',
      sub: 'alice',
      aud: 'registry.test',
      exp: iat + 300,
      nbf: iat,
      iat,
      jti: expect.stringMatching(/^[A-Za-z0-9_-]{22}$/),
      access: ACCESS,
    });
    now += 1000;
    const again = decodeJwt((await issuer.issue('alice', ACCESS)).token);
    expect(again.jti).not.toBe(claims.jti);
  });

  it('gives anonymous tokens an empty subject and copies the access it is given', async () => {
    const issuer = new TokenIssuer({ ...BASE, privateKey: ec.privatePem, lifetimeSeconds: 60 });
    const access = [{ type: 'repository' as const, name: 'public/a', actions: ['pull'] }];
    const issued = await issuer.issue(undefined, access);
    access[0].actions.push('push');
    expect(issued.expiresIn).toBe(60);
    expect(decodeJwt(issued.token)).toMatchObject({ sub: '', access: [{ type: 'repository', name: 'public/a', actions: ['pull'] }] });
    expect(decodeJwt((await issuer.issue('', [])).token).access).toEqual([]);
  });

  it('publishes only the public key', () => {
    const jwks = new TokenIssuer({ ...BASE, privateKey: rsa.privatePem }).jwks();
    expect(jwks.keys).toHaveLength(1);
    expect(jwks.keys[0]).toMatchObject({ kty: 'RSA', alg: 'RS256', use: 'sig' });
    for (const member of ['d', 'p', 'q', 'dp', 'dq', 'qi']) expect(jwks.keys[0]).not.toHaveProperty(member);
  });

  it('reads PKCS#1 RSA and SEC1 EC keys too', () => {
    const pkcs1 = rsa.privateKey.export({ type: 'pkcs1', format: 'pem' }).toString();
    const sec1 = ec.privateKey.export({ type: 'sec1', format: 'pem' }).toString();
    expect(new TokenIssuer({ ...BASE, privateKey: pkcs1 }).algorithm).toBe('RS256');
    expect(new TokenIssuer({ ...BASE, privateKey: sec1 }).algorithm).toBe('ES256');
  });

  it('refuses unusable configuration with clear messages', () => {
    const weak = generateKeyPairSync('rsa', { modulusLength: 1024 }).privateKey.export({ type: 'pkcs8', format: 'pem' });
    expect(() => new TokenIssuer({ ...BASE, privateKey: weak.toString() })).toThrow('at least 2048 bits');
    const k1 = generateKeyPairSync('ec', { namedCurve: 'secp256k1' }).privateKey.export({ type: 'pkcs8', format: 'pem' });
    expect(() => new TokenIssuer({ ...BASE, privateKey: k1.toString() })).toThrow('unsupported EC curve');
    expect(() => new TokenIssuer({ ...BASE, privateKey: 'not a key' })).toThrow('cannot be read');
    expect(() => new TokenIssuer({ ...BASE, privateKey: ec.publicPem })).toThrow('cannot be read');
    expect(() => new TokenIssuer({ ...BASE, privateKey: ec.privatePem, lifetimeSeconds: 59 })).toThrow('at least 60');
    expect(() => new TokenIssuer({ ...BASE, privateKey: ec.privatePem, lifetimeSeconds: 1.5 })).toThrow('whole number');
    expect(() => new TokenIssuer({ ...BASE, issuer: '', privateKey: ec.privatePem })).toThrow('issuer');
  });

  describe('with a certificate', () => {
    let pki: Pki;
    beforeAll(() => {
      pki = new Pki();
    });
    afterAll(() => pki.dispose());

    it('sends the chain as x5c, verifiable against the root bundle', async () => {
      const root = pki.selfSigned('issuer-root', { ca: true });
      const intermediate = pki.signed('issuer-int', root, { ca: true });
      const leaf = pki.signed('issuer-leaf', intermediate);
      const issuer = new TokenIssuer({ ...BASE, privateKey: leaf.key.privatePem, certificate: leaf.pem + intermediate.pem });
      const { token } = await issuer.issue('alice', ACCESS);
      const header = decodeProtectedHeader(token);
      expect(header.x5c).toHaveLength(2);
      expect(header.kid).toBe(issuer.keyId);
      const verifier = new TokenVerifier({ ...BASE, rootCertBundle: root.pem });
      await expect(verifier.verify(token)).resolves.toMatchObject({ subject: 'alice' });
    });

    it('refuses a certificate of another key, or one that is expired', () => {
      const other = pki.selfSigned('issuer-other');
      expect(() => new TokenIssuer({ ...BASE, privateKey: ec.privatePem, certificate: other.pem })).toThrow(
        'not that of the private key',
      );
      const later = Date.now() + 4000 * 24 * 3600 * 1000;
      expect(
        () => new TokenIssuer({ ...BASE, privateKey: other.key.privatePem, certificate: other.pem, now: () => later }),
      ).toThrow('not valid now');
      expect(() => new TokenIssuer({ ...BASE, privateKey: ec.privatePem, certificate: 'junk' })).toThrow(
        'no PEM certificate',
      );
    });
  });
});

describe('refresh tokens', () => {
  let key: KeyPair;
  let issuer: TokenIssuer;
  beforeAll(() => {
    key = keyPair('ec256');
    issuer = new TokenIssuer({ ...BASE, privateKey: key.privatePem });
  });

  const reason = async (promise: Promise<unknown>): Promise<string> => {
    try {
      await promise;
    } catch (error) {
      if (error instanceof InvalidTokenError) return error.reason;
      throw error;
    }
    throw new Error('expected an InvalidTokenError');
  };

  it('round-trips a long-lived token for a subject', async () => {
    const issued = await issuer.issueRefresh('alice');
    expect(issued.expiresIn).toBe(30 * 24 * 3600);
    const claims = await issuer.verifyRefresh(issued.token);
    expect(claims.subject).toBe('alice');
    expect(claims.expiresAt).toBeGreaterThan(Date.now() / 1000 + 29 * 24 * 3600);
    const payload = decodeJwt(issued.token);
    expect(payload).toMatchObject({ token_use: 'refresh', aud: 'ocireg-token', service: 'registry.test' });
    expect(payload).not.toHaveProperty('access');
  });

  it('is refused by the access-token verifier', async () => {
    const { token } = await issuer.issueRefresh('alice');
    const verifier = new TokenVerifier({ ...BASE, jwks: JSON.stringify(issuer.jwks()) });
    await expect(reason(verifier.verify(token))).resolves.toBe('audience');
    // Even where the audience would match (issuer name = service name), the marker claim is refused.
    const same = new TokenIssuer({ issuer: 'reg', service: 'reg', privateKey: key.privatePem });
    const sameVerifier = new TokenVerifier({ issuer: 'reg', service: 'reg', jwks: JSON.stringify(same.jwks()) });
    const refresh = await same.issueRefresh('alice');
    await expect(reason(sameVerifier.verify(refresh.token))).resolves.toBe('refresh_token');
    await expect(same.verifyRefresh(refresh.token)).resolves.toMatchObject({ subject: 'alice' });
  });

  it('does not take an access token as a refresh token', async () => {
    const { token } = await issuer.issue('alice', ACCESS);
    await expect(reason(issuer.verifyRefresh(token))).resolves.toBe('not_refresh_token');
    const same = new TokenIssuer({ issuer: 'reg', service: 'reg', privateKey: key.privatePem });
    await expect(reason(same.verifyRefresh((await same.issue('alice', [])).token))).resolves.toBe('not_refresh_token');
  });

  it('refuses tokens of another key, another service, expired ones, and garbage', async () => {
    const stranger = new TokenIssuer({ ...BASE, privateKey: keyPair('ec256').privatePem });
    await expect(reason(issuer.verifyRefresh((await stranger.issueRefresh('alice')).token))).resolves.toBe(
      'not_refresh_token',
    );
    const otherService = new TokenIssuer({ ...BASE, service: 'elsewhere', privateKey: key.privatePem });
    await expect(reason(issuer.verifyRefresh((await otherService.issueRefresh('alice')).token))).resolves.toBe(
      'audience',
    );
    const past = new TokenIssuer({
      ...BASE,
      privateKey: key.privatePem,
      refreshLifetimeSeconds: 3600,
      now: () => Date.now() - 2 * 3600 * 1000,
    });
    await expect(reason(issuer.verifyRefresh((await past.issueRefresh('alice')).token))).resolves.toBe('expired');
    await expect(reason(issuer.verifyRefresh('garbage'))).resolves.toBe('not_refresh_token');
  });

  it('is not issued to anonymous subjects', async () => {
    await expect(issuer.issueRefresh('')).rejects.toThrow('signed-in');
  });
});
