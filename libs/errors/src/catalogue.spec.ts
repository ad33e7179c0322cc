import { ERROR_CATALOGUE, ERROR_KINDS, RegistryError, errorEnvelope } from './index';

const SPEC_CODES = [
  'BLOB_UNKNOWN', 'BLOB_UPLOAD_INVALID', 'BLOB_UPLOAD_UNKNOWN', 'DIGEST_INVALID', 'MANIFEST_BLOB_UNKNOWN',
  'MANIFEST_INVALID', 'MANIFEST_UNKNOWN', 'NAME_INVALID', 'NAME_UNKNOWN', 'SIZE_INVALID', 'UNAUTHORIZED',
  'DENIED', 'UNSUPPORTED', 'TOOMANYREQUESTS',
];

describe('the error catalogue', () => {
  it('has every code of the spec error table, under its own name', () => {
    for (const code of SPEC_CODES) expect(ERROR_CATALOGUE[code as keyof typeof ERROR_CATALOGUE]?.code).toBe(code);
  });

  it('gives each kind an HTTP error status and a message', () => {
    for (const kind of ERROR_KINDS) {
      const entry = ERROR_CATALOGUE[kind];
      expect(entry.httpStatus).toBeGreaterThanOrEqual(400);
      expect(entry.httpStatus).toBeLessThan(600);
      expect(entry.message.length).toBeGreaterThan(0);
    }
  });

  it('crosses the transport as data and comes back the same', () => {
    const error = new RegistryError('MANIFEST_BLOB_UNKNOWN', 'missing', { digests: ['sha256:x'] });
    const back = RegistryError.from(JSON.parse(JSON.stringify(error.toWire())));
    expect(back).toBeInstanceOf(RegistryError);
    expect(back.kind).toBe('MANIFEST_BLOB_UNKNOWN');
    expect(back.httpStatus).toBe(400);
    expect(back.detail).toEqual({ digests: ['sha256:x'] });
  });

  it('turns anything else into UNKNOWN without leaking its message', () => {
    const error = RegistryError.from(new Error('password=hunter2'));
    expect(error.kind).toBe('UNKNOWN');
    expect(JSON.stringify(errorEnvelope([error]))).not.toContain('hunter2');
  });

  it('writes the spec envelope', () => {
    expect(errorEnvelope([new RegistryError('NAME_UNKNOWN', undefined, { name: 'a' })])).toEqual({
      errors: [{ code: 'NAME_UNKNOWN', message: 'repository name not known to registry', detail: { name: 'a' } }],
    });
  });
});
