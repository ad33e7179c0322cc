/**
 * The persistent layout of the content store, versioned. Every key the registry writes is made here.
 *
 * v1:
 *   v1/blobs/<xx>/<upload-id>       bytes of a blob, written where its upload started and never moved:
 *                                   completing an upload makes this object the blob (no copy); the metadata
 *                                   database maps digest -> key. <xx> is the first two characters of the id.
 *   v1/manifests/<alg>/<xx>/<hex>   bytes of a manifest, addressed by its digest (written before its
 *                                   metadata row, so a manifest is visible only once both exist), unless
 *                                   the metadata keeps them in that row (Postgres, for manifests of at most
 *                                   MANIFEST_INLINE_MAX bytes: see the 'manifest.put' contract).
 */
export const CONTENT_LAYOUT_VERSION = 1;

const UPLOAD_ID = /^[a-zA-Z0-9-]{8,64}$/;

export function blobKey(uploadId: string): string {
  if (!UPLOAD_ID.test(uploadId)) throw new Error(`invalid upload id for a content key: ${uploadId}`);
  return `v1/blobs/${uploadId.slice(0, 2)}/${uploadId}`;
}

export function manifestKey(digest: string): string {
  const [algorithm, hex] = digest.split(':');
  if (!algorithm || !hex || !/^[a-z0-9]+$/.test(algorithm) || !/^[a-f0-9]+$/.test(hex)) {
    throw new Error(`invalid digest for a content key: ${digest}`);
  }
  return `v1/manifests/${algorithm}/${hex.slice(0, 2)}/${hex}`;
}

/** Keys are relative, '/'-separated, without '.', '..' or empty segments. Adapters reject anything else. */
export function assertValidKey(key: string): void {
  const segments = key.split('/');
  if (key.length === 0 || key.length > 1024 || segments.some((s) => s === '' || s === '.' || s === '..' || !/^[a-zA-Z0-9._:-]+$/.test(s))) {
    throw new Error(`invalid content key: ${key}`);
  }
}
