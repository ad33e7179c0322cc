import { randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { UploadIds, uploadIdsFrom } from './upload-ids';

describe('UploadIds', () => {
  const ids = new UploadIds('a secret of sixteen or more', 3600);

  it('issues distinct ids that verify for their repository only, never shaped like a UUID', () => {
    const now = Date.UTC(2026, 10, 30, 12);
    const a = ids.issue('team/app', now);
    const b = ids.issue('team/app', now);
    expect(a).not.toBe(b);
    expect(a).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-8[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(UploadIds.isSigned(a)).toBe(true);
    expect(UploadIds.isSigned(randomUUID())).toBe(false);
    expect(ids.issuedAt('team/app', a, now + 1000)).toBe(now);
    expect(ids.issuedAt('team/other', a, now)).toBeUndefined();
  });

  it('refuses an altered id, one from another secret, an expired one and one from the future', () => {
    const now = Date.UTC(2026, 10, 30, 12);
    const id = ids.issue('team/app', now);
    for (let i = 0; i < id.length; i++) {
      if (id[i] === '-') continue;
      const altered = `${id.slice(0, i)}${id[i] === 'a' ? 'b' : 'a'}${id.slice(i + 1)}`;
      expect(ids.issuedAt('team/app', altered, now)).toBeUndefined();
    }
    expect(new UploadIds('another secret, as long', 3600).issuedAt('team/app', id, now)).toBeUndefined();
    expect(ids.issuedAt('team/app', id, now + 3600 * 1000)).toBeUndefined();
    expect(ids.issuedAt('team/app', id, now + 3599 * 1000)).toBe(now);
    expect(ids.issuedAt('team/app', ids.issue('team/app', now + 3600 * 1000), now)).toBeUndefined();
  });

  it('an ended upload keeps its mark for as long as its id is valid (and the clock skew allowed), then not at all', () => {
    const now = Date.UTC(2026, 10, 30, 12);
    expect(ids.markSeconds(now, now)).toBe(3600 + 300);
    expect(ids.markSeconds(now - 3000 * 1000, now)).toBe(600 + 300);
    expect(ids.markSeconds(now - 3600 * 1000, now)).toBe(0);
  });

  it('an id is valid for an hour without a first write, or the upload TTL if shorter', () => {
    expect((uploadIdsFrom({ secret: 'a secret of sixteen or more', ttlSeconds: 168 * 3600 }) as UploadIds).validSeconds).toBe(3600);
    expect((uploadIdsFrom({ secret: 'a secret of sixteen or more', ttlSeconds: 600 }) as UploadIds).validSeconds).toBe(600);
  });

  it('refuses a secret shorter than 16 characters', () => {
    expect(() => new UploadIds('short', 60)).toThrow(/16/);
  });
});

describe('uploadIdsFrom', () => {
  let dir: string;
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'ocireg-upload-ids-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('no secret and no file: none (sessions are stored at the POST)', () => {
    expect(uploadIdsFrom({ ttlSeconds: 60 })).toBeUndefined();
  });

  it('creates the secret file once (readable by its owner only) and signs with it from then on', () => {
    const file = join(dir, 'data', 'http-secret');
    const first = uploadIdsFrom({ secretFile: file, ttlSeconds: 60 }) as UploadIds;
    expect(statSync(file).mode & 0o777).toBe(0o600);
    const secret = readFileSync(file, 'utf8').trim();
    expect(secret).toMatch(/^[0-9a-f]{64}$/);
    const second = uploadIdsFrom({ secretFile: file, ttlSeconds: 60 }) as UploadIds;
    const id = first.issue('team/app');
    expect(second.issuedAt('team/app', id)).toBeDefined();
    expect(new UploadIds(secret, 60).issuedAt('team/app', id)).toBeDefined();
  });

  it('a secret file left empty (a start that crashed while writing it) is refused with what to do', () => {
    const file = join(dir, 'http-secret');
    writeFileSync(file, '');
    expect(() => uploadIdsFrom({ secretFile: file, ttlSeconds: 60 })).toThrow(/remove it/);
  });

  it('a secret given wins over the file', () => {
    const file = join(dir, 'http-secret');
    writeFileSync(file, 'the secret in the file\n');
    const id = (uploadIdsFrom({ secret: 'the secret given here', secretFile: file, ttlSeconds: 60 }) as UploadIds).issue('r');
    expect(new UploadIds('the secret given here', 60).issuedAt('r', id)).toBeDefined();
  });
});
