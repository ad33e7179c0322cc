/** The protocol operations the scenarios time, each checking every status, header and digest it gets. */
import { createHash } from 'node:crypto';
import { BlobSpec, slices } from './content';
import { CheckError, expectHeader, expectStatus, HttpClient, pathOfLocation, send, withQuery, writeChunks } from './http';

export const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
export const MANIFEST_ACCEPT = [
  OCI_MANIFEST,
  'application/vnd.oci.image.index.v1+json',
  'application/vnd.docker.distribution.manifest.v2+json',
  'application/vnd.docker.distribution.manifest.list.v2+json',
].join(', ');

export function sha256(bytes: Buffer | string): string {
  return `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
}

async function startUpload(client: HttpClient, repo: string): Promise<string> {
  const res = await send(client, 'POST', `/v2/${repo}/blobs/uploads/`);
  expectStatus(res, 202, 'POST blob upload');
  return pathOfLocation(client, expectHeader(res, 'location', undefined, 'POST blob upload'));
}

function expectCommitted(res: Awaited<ReturnType<typeof send>>, digest: string, what: string): void {
  expectStatus(res, 201, what);
  expectHeader(res, 'docker-content-digest', digest, what);
  const location = expectHeader(res, 'location', undefined, what);
  if (!location.endsWith(`/blobs/${digest}`)) throw new CheckError(`${what}: Location ${location} does not name the blob`);
}

/** POST, then one PUT ?digest= with the whole blob streamed as its body. */
export async function pushMonolithic(client: HttpClient, repo: string, blob: BlobSpec): Promise<void> {
  const location = await startUpload(client, repo);
  const res = await send(client, 'PUT', withQuery(location, 'digest', blob.digest), {
    headers: { 'content-type': 'application/octet-stream', 'content-length': blob.size },
    body: writeChunks(slices(blob)),
  });
  expectCommitted(res, blob.digest, 'PUT blob (monolithic)');
}

/** POST, PATCH chunks of `chunkSize` bytes (Content-Range), then PUT ?digest= without a body. */
export async function pushChunked(client: HttpClient, repo: string, blob: BlobSpec, chunkSize: number): Promise<void> {
  let location = await startUpload(client, repo);
  for (let start = 0; start < blob.size; start += chunkSize) {
    const end = Math.min(blob.size, start + chunkSize);
    const res = await send(client, 'PATCH', location, {
      headers: { 'content-type': 'application/octet-stream', 'content-length': end - start, 'content-range': `${start}-${end - 1}` },
      body: writeChunks(slices(blob, start, end)),
    });
    expectStatus(res, 202, 'PATCH chunk');
    expectHeader(res, 'range', `0-${end - 1}`, 'PATCH chunk');
    location = pathOfLocation(client, expectHeader(res, 'location', undefined, 'PATCH chunk'));
  }
  const res = await send(client, 'PUT', withQuery(location, 'digest', blob.digest));
  expectCommitted(res, blob.digest, 'PUT blob (after chunks)');
}

/** Pushes small bytes held in memory (fixtures). */
export async function pushBytes(client: HttpClient, repo: string, bytes: Buffer): Promise<string> {
  const digest = sha256(bytes);
  const location = await startUpload(client, repo);
  const res = await send(client, 'PUT', withQuery(location, 'digest', digest), { headers: { 'content-type': 'application/octet-stream' }, body: bytes });
  expectCommitted(res, digest, 'PUT blob');
  return digest;
}

/** GET the blob, hashing the bytes as they arrive; checks length and digest. */
export async function pullBlob(client: HttpClient, repo: string, blob: Pick<BlobSpec, 'size' | 'digest'>): Promise<number> {
  const res = await send(client, 'GET', `/v2/${repo}/blobs/${blob.digest}`, { response: 'hash' });
  expectStatus(res, 200, 'GET blob');
  if (res.length !== blob.size) throw new CheckError(`GET blob: ${res.length} bytes, expected ${blob.size}`);
  if (res.digest !== blob.digest) throw new CheckError(`GET blob: the bytes hash to ${res.digest}, expected ${blob.digest}`);
  return res.length;
}

export async function headBlob(client: HttpClient, repo: string, blob: { digest: string; size: number }): Promise<void> {
  const res = await send(client, 'HEAD', `/v2/${repo}/blobs/${blob.digest}`);
  expectStatus(res, 200, 'HEAD blob');
  expectHeader(res, 'content-length', String(blob.size), 'HEAD blob');
  expectHeader(res, 'docker-content-digest', blob.digest, 'HEAD blob');
}

export interface ImageRefs {
  config: { digest: string; size: number };
  layer: { digest: string; size: number };
}

/** An OCI image manifest; `unique` goes into an annotation so that every manifest has its own digest. */
export function imageManifest(refs: ImageRefs, unique: string): Buffer {
  return Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: OCI_MANIFEST,
      config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: refs.config.digest, size: refs.config.size },
      layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', digest: refs.layer.digest, size: refs.layer.size }],
      annotations: { 'org.opencontainers.image.description': unique },
    }),
  );
}

export async function putManifest(client: HttpClient, repo: string, reference: string, body: Buffer, digest: string): Promise<void> {
  const res = await send(client, 'PUT', `/v2/${repo}/manifests/${reference}`, { headers: { 'content-type': OCI_MANIFEST }, body });
  expectStatus(res, 201, 'PUT manifest');
  expectHeader(res, 'docker-content-digest', digest, 'PUT manifest');
  expectHeader(res, 'location', undefined, 'PUT manifest');
}

const acceptHeaders = { accept: MANIFEST_ACCEPT };

/** GET a manifest by tag or digest; the bytes must be exactly those pushed, and so their digest. */
export async function getManifest(client: HttpClient, repo: string, reference: string, body: Buffer, digest: string): Promise<void> {
  const res = await send(client, 'GET', `/v2/${repo}/manifests/${reference}`, { headers: acceptHeaders });
  expectStatus(res, 200, 'GET manifest');
  expectHeader(res, 'docker-content-digest', digest, 'GET manifest');
  if (!res.body.equals(body)) throw new CheckError(`GET manifest ${reference}: the bytes differ from those pushed`);
}

export async function headManifest(client: HttpClient, repo: string, digest: string, size: number): Promise<void> {
  const res = await send(client, 'HEAD', `/v2/${repo}/manifests/${digest}`, { headers: acceptHeaders });
  expectStatus(res, 200, 'HEAD manifest');
  expectHeader(res, 'docker-content-digest', digest, 'HEAD manifest');
  expectHeader(res, 'content-length', String(size), 'HEAD manifest');
}

export async function listTags(client: HttpClient, repo: string, expected: readonly string[]): Promise<void> {
  const res = await send(client, 'GET', `/v2/${repo}/tags/list`);
  expectStatus(res, 200, 'GET tags/list');
  const list = JSON.parse(res.body.toString('utf8')) as { name?: string; tags?: string[] };
  if (list.name !== repo) throw new CheckError(`GET tags/list: name ${list.name}, expected ${repo}`);
  const tags = new Set(list.tags ?? []);
  if (tags.size !== expected.length || expected.some((t) => !tags.has(t))) {
    throw new CheckError(`GET tags/list: ${tags.size} tags, expected exactly ${expected.length}`);
  }
}
