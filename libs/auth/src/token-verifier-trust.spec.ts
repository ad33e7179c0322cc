import { JWK, base64url } from 'jose';
import { Issued, keyPair } from '../test/pki';
import { BASE, DAY, VerifierFixture, claims, createVerifierFixture, reason, sign, x5c } from '../test/verifier-fixture';
import { jwkThumbprint } from './keys';
import { TokenVerifier, TokenVerifierOptions } from './token-verifier';

describe('TokenVerifier: which keys it trusts', () => {
  let now: number;
  let f: VerifierFixture;
  let int: Issued;
  let leaf: Issued;
  let shortInt: Issued;
  let leafUnderShort: Issued;
  let notCa: Issued;
  let leafUnderNotCa: Issued;
  let otherRoot: Issued;
  let otherLeaf: Issued;
  let bundleLeaf: Issued;
  let verifier: TokenVerifier;
  let options: TokenVerifierOptions;

  beforeAll(() => {
    f = createVerifierFixture();
    ({ now, int, leaf, shortInt, leafUnderShort, notCa, leafUnderNotCa, otherRoot, otherLeaf } = f);
    ({ bundleLeaf, verifier, options } = f);
  });

  afterAll(() => f.pki.dispose());

  describe('refuses', () => {
    it('an x5c leaf that did not sign the token', async () => {
      const token = await sign(otherLeaf.key.privateKey, { alg: 'ES256', x5c: x5c(leaf, int) }, claims(now));
      await expect(reason(verifier, token)).resolves.toBe('signature');
    });
    it('an x5c chain that does not reach a bundle root', async () => {
      const token = await sign(otherLeaf.key.privateKey, { alg: 'ES256', x5c: x5c(otherLeaf, otherRoot) }, claims(now));
      await expect(reason(verifier, token)).resolves.toBe('untrusted_key');
      const leafOnly = await sign(leaf.key.privateKey, { alg: 'ES256', x5c: x5c(leaf) }, claims(now));
      await expect(reason(verifier, leafOnly)).resolves.toBe('untrusted_key');
      const wrongOrder = await sign(leaf.key.privateKey, { alg: 'ES256', x5c: x5c(leaf, otherRoot, int) }, claims(now));
      await expect(reason(verifier, wrongOrder)).resolves.toBe('untrusted_key');
    });
    it('an x5c chain through a certificate that is not a CA', async () => {
      const token = await sign(leafUnderNotCa.key.privateKey, { alg: 'ES256', x5c: x5c(leafUnderNotCa, notCa) }, claims(now));
      await expect(reason(verifier, token)).resolves.toBe('untrusted_key');
    });
    it('an x5c chain with an expired intermediate', async () => {
      const chain = x5c(leafUnderShort, shortInt);
      const today = await sign(leafUnderShort.key.privateKey, { alg: 'ES256', x5c: chain }, claims(now));
      await expect(verifier.verify(today)).resolves.toMatchObject({ subject: 'alice' });
      const later = now + 2 * DAY;
      const laterVerifier = new TokenVerifier({ ...options, now: () => later });
      const token = await sign(leafUnderShort.key.privateKey, { alg: 'ES256', x5c: chain }, claims(later));
      await expect(reason(laterVerifier, token)).resolves.toBe('untrusted_key');
      // The same moment, through a valid intermediate, passes: only the intermediate's dates differ.
      const fine = await sign(leaf.key.privateKey, { alg: 'ES256', x5c: x5c(leaf, int) }, claims(later));
      await expect(laterVerifier.verify(fine)).resolves.toMatchObject({ subject: 'alice' });
    });
    it('an expired leaf, and a bundle key by kid once its certificate expired', async () => {
      const later = now + 40 * DAY;
      const laterVerifier = new TokenVerifier({ ...options, now: () => later });
      const token = await sign(leaf.key.privateKey, { alg: 'ES256', x5c: x5c(leaf, int) }, claims(later));
      await expect(reason(laterVerifier, token)).resolves.toBe('untrusted_key');
      const kid = jwkThumbprint(bundleLeaf.key.publicKey) ?? '';
      const byKid = await sign(bundleLeaf.key.privateKey, { alg: 'ES256', kid }, claims(later));
      await expect(reason(laterVerifier, byKid)).resolves.toBe('untrusted_key');
    });
    it('malformed x5c headers', async () => {
      const payload = base64url.encode(JSON.stringify(claims(now)));
      for (const value of [[], 'abc', ['not base64!'], [base64url.encode('junk')], new Array(11).fill(x5c(leaf)[0])]) {
        const header = base64url.encode(JSON.stringify({ alg: 'ES256', x5c: value }));
        await expect(reason(verifier, `${header}.${payload}.AAAA`)).resolves.toBe('malformed');
      }
    });
    it('a kid not in the JWKS, an untrusted embedded jwk, and a token naming no key', async () => {
      const stranger = keyPair('ed25519');
      await expect(reason(verifier, await sign(stranger.privateKey, { alg: 'EdDSA', kid: 'ed-2' }, claims(now)))).resolves.toBe('untrusted_key');
      const jwk = stranger.publicKey.export({ format: 'jwk' }) as JWK;
      await expect(reason(verifier, await sign(stranger.privateKey, { alg: 'EdDSA', jwk }, claims(now)))).resolves.toBe('untrusted_key');
      await expect(reason(verifier, await sign(stranger.privateKey, { alg: 'EdDSA' }, claims(now)))).resolves.toBe('untrusted_key');
    });
    it('an x5c chain when no root bundle is configured', async () => {
      const jwksOnly = new TokenVerifier({ ...BASE, jwks: options.jwks, now: () => now });
      const token = await sign(leaf.key.privateKey, { alg: 'ES256', x5c: x5c(leaf, int) }, claims(now));
      await expect(reason(jwksOnly, token)).resolves.toBe('untrusted_key');
    });
  });
});
