import { type PurgeClient, purgeTails, purgeUploads, writtenBefore } from './s3-purge';
import { S3Names } from './s3-state';

const CUTOFF = Date.parse('2024-01-01T00:00:00Z');
const OLD = new Date(CUTOFF - 5000);
/** Within the one-second granularity of listing times: possibly written at or after the cutoff. */
const BORDERLINE = new Date(CUTOFF - 500);
const RECENT = new Date(CUTOFF + 1000);

const s3Error = (code: string): Error => Object.assign(new Error(code), { code });

interface FakeUpload {
  key: string;
  uploadId: string;
  initiated: Date;
  parts: Date[];
}

/** An in-memory bucket speaking the calls purging makes, with small pages and minio's lost upload-id marker. */
class FakeBucket implements PurgeClient {
  readonly objects = new Map<string, Date>();
  uploads: FakeUpload[] = [];
  readonly uploadListings: { keyMarker: string; uploadIdMarker: string }[] = [];
  readonly aborted: string[] = [];
  listUploadsFailure: Error | undefined;
  abortFailure: Error | undefined;

  constructor(private readonly pageSize = 2) {}

  async listObjectsV2Query(_bucket: string, prefix: string, token: string) {
    const names = [...this.objects.keys()].filter((name) => name.startsWith(prefix) && name > token).sort();
    const page = names.slice(0, this.pageSize);
    const isTruncated = names.length > page.length;
    return {
      objects: page.map((name) => ({ name, size: 1, etag: 'etag', lastModified: this.objects.get(name) ?? new Date(Number.NaN) })),
      isTruncated,
      nextContinuationToken: isTruncated ? (page.at(-1) ?? '') : '',
    };
  }

  async removeObject(_bucket: string, name: string): Promise<void> {
    this.objects.delete(name);
  }

  async listIncompleteUploadsQuery(_bucket: string, prefix: string, keyMarker: string, uploadIdMarker: string) {
    this.uploadListings.push({ keyMarker, uploadIdMarker });
    if (this.listUploadsFailure) throw this.listUploadsFailure;
    const idMarker = decodeURIComponent(uploadIdMarker);
    const after = (u: FakeUpload): boolean =>
      u.key > keyMarker || (u.key === keyMarker && idMarker !== '' && u.uploadId > idMarker);
    const listed = [...this.uploads]
      .filter((u) => u.key.startsWith(prefix) && after(u))
      .sort((a, b) => a.key.localeCompare(b.key) || a.uploadId.localeCompare(b.uploadId));
    const page = listed.slice(0, this.pageSize);
    return {
      uploads: page.map(({ key, uploadId, initiated }) => ({ key, uploadId, initiated, storageClass: 'STANDARD' })),
      prefixes: [],
      isTruncated: listed.length > page.length,
      nextKeyMarker: page.at(-1)?.key ?? '',
      nextUploadIdMarker: '',
    };
  }

  async uploadedParts(_bucket: string, key: string, uploadId: string) {
    const upload = this.uploads.find((u) => u.key === key && u.uploadId === uploadId);
    if (!upload) throw s3Error('NoSuchUpload');
    return upload.parts.map((lastModified) => ({ lastModified }));
  }

  async abortMultipartUpload(_bucket: string, key: string, escapedId: string): Promise<void> {
    if (this.abortFailure) throw this.abortFailure;
    const uploadId = decodeURIComponent(escapedId);
    const before = this.uploads.length;
    this.uploads = this.uploads.filter((u) => !(u.key === key && u.uploadId === uploadId));
    if (this.uploads.length === before) throw s3Error('NoSuchUpload');
    this.aborted.push(`${key} ${uploadId}`);
  }
}

describe('S3 purging (against a fake bucket)', () => {
  const names = new S3Names('registry');
  const tail = (key: string, suffix = '0123456789abcdef'): string => `${names.tailPrefix(key)}${suffix}`;

  it('counts a listing time as written before the cutoff only when its whole second is', () => {
    expect(writtenBefore(OLD, CUTOFF)).toBe(true);
    expect(writtenBefore(new Date(CUTOFF - 1000), CUTOFF)).toBe(true);
    expect(writtenBefore(BORDERLINE, CUTOFF)).toBe(false);
    expect(writtenBefore(RECENT, CUTOFF)).toBe(false);
    expect(writtenBefore(undefined, CUTOFF)).toBe(false);
    expect(writtenBefore(new Date(Number.NaN), CUTOFF)).toBe(false);
  });

  it('removes the tails written before the cutoff, page after page, and nothing else', async () => {
    const bucket = new FakeBucket();
    const old = ['a', 'b', 'c', 'd', 'e'].map((k) => tail(`v1/${k}`));
    for (const name of old) bucket.objects.set(name, OLD);
    bucket.objects.set(tail('v1/f'), BORDERLINE);
    bucket.objects.set(tail('v1/g'), RECENT);
    bucket.objects.set('registry/v1/complete', OLD);
    bucket.objects.set('other/!tails/v1!x.0123456789abcdef', OLD);
    await expect(purgeTails(bucket, 'bucket', names, CUTOFF)).resolves.toBe(old.length);
    expect([...bucket.objects.keys()].sort()).toEqual(
      ['other/!tails/v1!x.0123456789abcdef', 'registry/!tails/v1!f.0123456789abcdef', 'registry/!tails/v1!g.0123456789abcdef', 'registry/v1/complete'],
    );
  });

  it('aborts the uploads nothing was written to since before the cutoff, and only those', async () => {
    const bucket = new FakeBucket();
    const upload = (key: string, uploadId: string, initiated: Date, parts: Date[] = []): FakeUpload => ({ key, uploadId, initiated, parts });
    bucket.uploads = [
      upload('registry/v1/idle', 'id+1/=', OLD, [OLD, OLD]),
      upload('registry/v1/idle', 'id+2/=', OLD), // a second upload of the same key, across a page boundary
      upload('registry/v1/no-parts', 'x', OLD),
      upload('registry/v1/new', 'x', RECENT),
      upload('registry/v1/borderline', 'x', BORDERLINE),
      upload('registry/v1/part-since', 'x', OLD, [OLD, RECENT]),
      upload('registry/v1/tail-since', 'x', OLD, [OLD]),
      upload('registry/v1/b', 'x', OLD, [OLD]),
      upload('other/v1/foreign', 'x', OLD),
      upload('registry/!tails/v1!z.0123456789abcdef', 'x', OLD),
    ];
    bucket.objects.set(tail('v1/tail-since'), RECENT);
    bucket.objects.set(tail('v1/b.c'), RECENT); // a tail of another key sharing the prefix
    bucket.objects.set(tail('v1/b', 'fedcba9876543210'), OLD);
    await expect(purgeUploads(bucket, 'bucket', names, CUTOFF)).resolves.toBe(4);
    expect(bucket.aborted.sort()).toEqual([
      'registry/v1/b x', 'registry/v1/idle id+1/=', 'registry/v1/idle id+2/=', 'registry/v1/no-parts x',
    ]);
    expect(bucket.uploads.map((u) => u.key).sort()).toEqual([
      'other/v1/foreign', 'registry/!tails/v1!z.0123456789abcdef', 'registry/v1/borderline', 'registry/v1/new',
      'registry/v1/part-since', 'registry/v1/tail-since',
    ]);
    // Pages resume after the last upload listed, its id escaped for the query (minio does not escape it).
    expect(bucket.uploadListings[0]).toEqual({ keyMarker: '', uploadIdMarker: '' });
    expect(bucket.uploadListings).toContainEqual({ keyMarker: 'registry/v1/idle', uploadIdMarker: 'id%2B1%2F%3D' });
  });

  it('treats a server without ListMultipartUploads as having nothing to abort', async () => {
    for (const code of ['NotImplemented', 'MethodNotAllowed']) {
      const bucket = new FakeBucket();
      bucket.listUploadsFailure = s3Error(code);
      await expect(purgeUploads(bucket, 'bucket', names, CUTOFF)).resolves.toBe(0);
    }
  });

  it('fails on any other listing error', async () => {
    const bucket = new FakeBucket();
    bucket.listUploadsFailure = s3Error('AccessDenied');
    await expect(purgeUploads(bucket, 'bucket', names, CUTOFF)).rejects.toMatchObject({ code: 'AccessDenied' });
  });

  it('does not count an upload another replica aborted first', async () => {
    const bucket = new FakeBucket();
    bucket.uploads = [{ key: 'registry/v1/idle', uploadId: 'x', initiated: OLD, parts: [] }];
    bucket.abortFailure = s3Error('NoSuchUpload');
    await expect(purgeUploads(bucket, 'bucket', names, CUTOFF)).resolves.toBe(0);
    bucket.abortFailure = s3Error('InternalError');
    await expect(purgeUploads(bucket, 'bucket', names, CUTOFF)).rejects.toMatchObject({ code: 'InternalError' });
  });
});
