import { JWK, base64url } from 'jose';
import { createHmac } from 'node:crypto';
import { Issued, KeyPair, keyPair } from '../test/pki';
import { ACCESS, BASE, VerifierFixture, claims, createVerifierFixture, reason, sign, x5c } from '../test/verifier-fixture';
import { jwkThumbprint } from './keys';
import { TokenIssuer } from './token-issuer';
import { TokenVerifier, TokenVerifierOptions } from './token-verifier';

describe('TokenVerifier', () => {
  let now: number;
  let f: VerifierFixture;
  let int: Issued;
  let leaf: Issued;
  let direct: Issued;
  let bundleLeaf: Issued;
  let edKey: KeyPair;
  let rsaKey: KeyPair;
  let verifier: TokenVerifier;
  let options: TokenVerifierOptions;

  beforeAll(() => {
    f = createVerifierFixture();
    ({ now, int, leaf, direct } = f);
    ({ bundleLeaf, edKey, rsaKey, verifier, options } = f);
  });

  afterAll(() => f.pki.dispose());

  describe('accepts', () => {
    it('an x5c chain through an intermediate to a bundle root', async () => {
      const token = await sign(leaf.key.privateKey, { alg: 'ES256', typ: 'JWT', x5c: x5c(leaf, int) }, claims(now));
      await expect(verifier.verify(token)).resolves.toEqual({
        subject: 'alice',
        access: ACCESS,
        expiresAt: Math.floor(now / 1000) + 300,
        id: expect.any(String),
      });
    });

    it('a certificate issued by a root directly, and a bundle certificate itself', async () => {
      const a = await sign(direct.key.privateKey, { alg: 'ES256', x5c: x5c(direct) }, claims(now));
      await expect(verifier.verify(a)).resolves.toMatchObject({ subject: 'alice' });
      const b = await sign(bundleLeaf.key.privateKey, { alg: 'ES256', x5c: x5c(bundleLeaf) }, claims(now));
      await expect(verifier.verify(b)).resolves.toMatchObject({ subject: 'alice' });
    });

    it('a kid of the JWKS, and a bundle key named by its RFC 7638 thumbprint', async () => {
      const a = await sign(edKey.privateKey, { alg: 'EdDSA', kid: 'ed-1' }, claims(now));
      await expect(verifier.verify(a)).resolves.toMatchObject({ subject: 'alice' });
      const b = await sign(rsaKey.privateKey, { alg: 'PS256', kid: 'rsa-1' }, claims(now));
      await expect(verifier.verify(b)).resolves.toMatchObject({ subject: 'alice' });
      const kid = jwkThumbprint(bundleLeaf.key.publicKey) ?? '';
      const c = await sign(bundleLeaf.key.privateKey, { alg: 'ES256', kid }, claims(now));
      await expect(verifier.verify(c)).resolves.toMatchObject({ subject: 'alice' });
    });

    it('an embedded jwk equal to a trusted key', async () => {
      const jwk = edKey.publicKey.export({ format: 'jwk' }) as JWK;
      const token = await sign(edKey.privateKey, { alg: 'EdDSA', jwk }, claims(now));
      await expect(verifier.verify(token)).resolves.toMatchObject({ subject: 'alice' });
    });

    it('tokens of the registry\'s own issuer through its JWKS, anonymous ones with an empty subject', async () => {
      const issuer = new TokenIssuer({ ...BASE, privateKey: keyPair('ec256').privatePem });
      const own = new TokenVerifier({ ...BASE, jwks: JSON.stringify(issuer.jwks()) });
      await expect(own.verify((await issuer.issue(undefined, [])).token)).resolves.toMatchObject({ subject: '', access: [] });
    });

    it('an audience list holding the service, a missing sub and access, and the resource class', async () => {
      const token = await sign(
        edKey.privateKey,
        { alg: 'EdDSA', kid: 'ed-1' },
        claims(now, {
          aud: ['other', BASE.service],
          sub: undefined,
          access: [
            { type: 'repository(plugin)', name: 'p', actions: ['pull'] },
            { type: 'namespace', name: 'n', actions: ['pull'] },
          ],
        }),
      );
      await expect(verifier.verify(token)).resolves.toMatchObject({
        subject: '',
        access: [{ type: 'repository', name: 'p', actions: ['pull'] }],
      });
    });

    it('an expired token within the clock tolerance', async () => {
      const iat = Math.floor(now / 1000) - 320;
      const token = await sign(edKey.privateKey, { alg: 'EdDSA', kid: 'ed-1' }, claims(now, { iat, nbf: iat, exp: iat + 300 }));
      await expect(verifier.verify(token)).resolves.toMatchObject({ subject: 'alice' });
      const strict = new TokenVerifier({ ...options, clockToleranceSeconds: 0 });
      await expect(reason(strict, token)).resolves.toBe('expired');
    });
  });

  describe('refuses', () => {
    it('a forged signature', async () => {
      const token = await sign(edKey.privateKey, { alg: 'EdDSA', kid: 'ed-1' }, claims(now));
      const [header, payload] = token.split('.');
      const forgedPayload = base64url.encode(JSON.stringify({ ...claims(now), sub: 'admin' }));
      await expect(reason(verifier, `${header}.${forgedPayload}.${token.split('.')[2]}`)).resolves.toBe('signature');
      const other = keyPair('ed25519');
      const byOther = await sign(other.privateKey, { alg: 'EdDSA', kid: 'ed-1' }, claims(now));
      await expect(reason(verifier, byOther)).resolves.toBe('signature');
      await expect(reason(verifier, `${header}.${payload}.${'A'.repeat(86)}`)).resolves.toBe('signature');
    });
    it('expired and not-yet-valid tokens', async () => {
      const past = Math.floor(now / 1000) - 3600;
      const expired = await sign(edKey.privateKey, { alg: 'EdDSA', kid: 'ed-1' }, claims(now, { iat: past, nbf: past, exp: past + 300 }));
      await expect(reason(verifier, expired)).resolves.toBe('expired');
      const future = Math.floor(now / 1000) + 3600;
      const early = await sign(edKey.privateKey, { alg: 'EdDSA', kid: 'ed-1' }, claims(now, { iat: future, nbf: future, exp: future + 300 }));
      await expect(reason(verifier, early)).resolves.toBe('not_yet_valid');
    });
    it('a wrong audience or issuer', async () => {
      const key = edKey.privateKey;
      await expect(reason(verifier, await sign(key, { alg: 'EdDSA', kid: 'ed-1' }, claims(now, { aud: 'other' })))).resolves.toBe('audience');
      await expect(reason(verifier, await sign(key, { alg: 'EdDSA', kid: 'ed-1' }, claims(now, { aud: undefined })))).resolves.toBe('claims');
      await expect(reason(verifier, await sign(key, { alg: 'EdDSA', kid: 'ed-1' }, claims(now, { iss: 'evil' })))).resolves.toBe('issuer');
    });
    it('a token without exp, or with claims of the wrong shape', async () => {
      const key = edKey.privateKey;
      await expect(reason(verifier, await sign(key, { alg: 'EdDSA', kid: 'ed-1' }, claims(now, { exp: undefined })))).resolves.toBe('claims');
      await expect(reason(verifier, await sign(key, { alg: 'EdDSA', kid: 'ed-1' }, claims(now, { sub: 42 })))).resolves.toBe('claims');
      await expect(reason(verifier, await sign(key, { alg: 'EdDSA', kid: 'ed-1' }, claims(now, { access: 'all' })))).resolves.toBe('claims');
      await expect(
        reason(verifier, await sign(key, { alg: 'EdDSA', kid: 'ed-1' }, claims(now, { access: [{ type: 'repository', name: 'a', actions: 'pull' }] }))),
      ).resolves.toBe('claims');
    });
    it('alg none', async () => {
      const header = base64url.encode(JSON.stringify({ alg: 'none', typ: 'JWT', kid: 'ed-1' }));
      const payload = base64url.encode(JSON.stringify(claims(now)));
      await expect(reason(verifier, `${header}.${payload}.`)).resolves.toBe('algorithm');
      const x5cNone = base64url.encode(JSON.stringify({ alg: 'none', x5c: x5c(leaf, int) }));
      await expect(reason(verifier, `${x5cNone}.${payload}.`)).resolves.toBe('algorithm');
    });
    it('HS256 signed with a trusted public key as the secret (key confusion)', async () => {
      for (const [kid, secret] of [
        ['rsa-1', rsaKey.publicPem],
        [jwkThumbprint(bundleLeaf.key.publicKey) ?? '', bundleLeaf.pem],
      ]) {
        const header = base64url.encode(JSON.stringify({ alg: 'HS256', typ: 'JWT', kid }));
        const payload = base64url.encode(JSON.stringify(claims(now)));
        const mac = createHmac('sha256', secret).update(`${header}.${payload}`).digest('base64url');
        await expect(reason(verifier, `${header}.${payload}.${mac}`)).resolves.toBe('algorithm');
      }
    });
    it('an algorithm outside the allow-list, or one that does not fit the key', async () => {
      const esOnly = new TokenVerifier({ ...options, algorithms: ['ES256'] });
      const rs = await sign(rsaKey.privateKey, { alg: 'RS256', kid: 'rsa-1' }, claims(now));
      await expect(reason(esOnly, rs)).resolves.toBe('algorithm');
      await expect(verifier.verify(rs)).resolves.toMatchObject({ subject: 'alice' });
      const p384 = keyPair('ec384');
      const mismatched = await sign(p384.privateKey, { alg: 'ES384', kid: jwkThumbprint(bundleLeaf.key.publicKey) ?? '' }, claims(now));
      await expect(reason(verifier, mismatched)).resolves.toBe('algorithm');
      // The JWK pins EdDSA: any other alg with that kid is refused before any signature check.
      const header = base64url.encode(JSON.stringify({ alg: 'ES256', kid: 'ed-1' }));
      await expect(reason(verifier, `${header}.${base64url.encode('{}')}.AAAA`)).resolves.toBe('algorithm');
    });
    it('a refresh token', async () => {
      const token = await sign(edKey.privateKey, { alg: 'EdDSA', kid: 'ed-1' }, claims(now, { token_use: 'refresh', access: undefined }));
      await expect(reason(verifier, token)).resolves.toBe('refresh_token');
    });
    it('garbage', async () => {
      for (const token of ['', 'abc', 'a.b', 'a.b.c', 'a.b.c.d.e', '..', `${'a'.repeat(70000)}.b.c`]) {
        await expect(reason(verifier, token)).resolves.toBe('malformed');
      }
    });
  });

  describe('configuration', () => {
    it('refuses symmetric and unknown algorithms, naming them', () => {
      for (const alg of ['HS256', 'HS512', 'none', 'ES256K']) {
        expect(() => new TokenVerifier({ ...options, algorithms: [alg] })).toThrow(`"${alg}" is not supported`);
      }
    });

    it('needs a bundle or a JWKS, and refuses unusable ones', () => {
      expect(() => new TokenVerifier({ ...BASE })).toThrow('root certificate bundle or a JWK Set');
      expect(() => new TokenVerifier({ ...BASE, rootCertBundle: 'nothing here' })).toThrow('no PEM certificate');
      expect(() => new TokenVerifier({ ...BASE, rootCertBundle: '-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----' })).toThrow(
        'certificate 1 cannot be parsed',
      );
      expect(() => new TokenVerifier({ ...BASE, jwks: '{' })).toThrow('not valid JSON');
      expect(() => new TokenVerifier({ ...BASE, jwks: '[]' })).toThrow('"keys" list');
      const oct = JSON.stringify({ keys: [{ kty: 'oct', k: 'c2VjcmV0', kid: 'h' }] });
      expect(() => new TokenVerifier({ ...BASE, jwks: oct })).toThrow('key 1 is a symmetric key');
      const hs = JSON.stringify({ keys: [{ ...edKey.publicKey.export({ format: 'jwk' }), alg: 'HS256' }] });
      expect(() => new TokenVerifier({ ...BASE, jwks: hs })).toThrow('unsupported alg "HS256"');
      const twice = JSON.stringify({ keys: [{ ...edKey.publicKey.export({ format: 'jwk' }), kid: 'a' }, { ...rsaKey.publicKey.export({ format: 'jwk' }), kid: 'a' }] });
      expect(() => new TokenVerifier({ ...BASE, jwks: twice })).toThrow('appears twice');
      expect(() => new TokenVerifier({ ...BASE, jwks: JSON.stringify({ keys: [{ kty: 'EC' }] }) })).toThrow('not a usable');
    });

    it('keeps only the public half of a private JWK and skips encryption keys', async () => {
      const priv = { ...edKey.privateKey.export({ format: 'jwk' }), kid: 'p' };
      const enc = { ...rsaKey.publicKey.export({ format: 'jwk' }), kid: 'e', use: 'enc' };
      const v = new TokenVerifier({ ...BASE, jwks: JSON.stringify({ keys: [priv, enc] }) });
      await expect(v.verify(await sign(edKey.privateKey, { alg: 'EdDSA', kid: 'p' }, claims(Date.now())))).resolves.toMatchObject({ subject: 'alice' });
      await expect(reason(v, await sign(rsaKey.privateKey, { alg: 'RS256', kid: 'e' }, claims(Date.now())))).resolves.toBe('untrusted_key');
    });
  });
});
