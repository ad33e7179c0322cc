import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';

export interface Blob {
  bytes: Buffer;
  digest: string;
  size: number;
}

export const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
export const OCI_INDEX = 'application/vnd.oci.image.index.v1+json';
export const OCI_CONFIG = 'application/vnd.oci.image.config.v1+json';
export const OCI_LAYER = 'application/vnd.oci.image.layer.v1.tar+gzip';

export function sha256(bytes: Buffer | string): string {
  return `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
}

export function blobOf(bytes: Buffer): Blob {
  return { bytes, digest: sha256(bytes), size: bytes.length };
}

export function randomBlob(size: number): Blob {
  return blobOf(randomBytes(size));
}

export interface Image {
  config: Blob;
  layers: Blob[];
  manifest: Blob;
  platform: { architecture: string; os: string };
}

/** A gzip-compressed layer of random content (clients such as skopeo copy real gzip layers unchanged). */
export function randomLayer(size: number): Blob {
  return blobOf(gzipSync(randomBytes(size), { level: 1 }));
}

/** A small OCI image: a config naming the platform, and random gzip layers. */
export function makeImage(options: { layers?: number; layerSize?: number; architecture?: string } = {}): Image {
  const platform = { architecture: options.architecture ?? 'amd64', os: 'linux' };
  const layers = Array.from({ length: options.layers ?? 3 }, () => randomLayer(options.layerSize ?? 4096));
  const config = blobOf(
    Buffer.from(
      JSON.stringify({
        ...platform,
        created: '2026-01-01T00:00:00Z',
        rootfs: { type: 'layers', diff_ids: layers.map((l) => l.digest) },
        config: { Env: ['PATH=/usr/bin'], Labels: { nonce: randomBytes(8).toString('hex') } },
      }),
    ),
  );
  const manifest = blobOf(
    Buffer.from(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: OCI_MANIFEST,
        config: { mediaType: OCI_CONFIG, digest: config.digest, size: config.size },
        layers: layers.map((l) => ({ mediaType: OCI_LAYER, digest: l.digest, size: l.size })),
      }),
    ),
  );
  return { config, layers, manifest, platform };
}

export function makeIndex(images: Image[]): Blob {
  return blobOf(
    Buffer.from(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: OCI_INDEX,
        manifests: images.map((image) => ({
          mediaType: OCI_MANIFEST,
          digest: image.manifest.digest,
          size: image.manifest.size,
          platform: image.platform,
        })),
      }),
    ),
  );
}

/** Writes an OCI image layout (oci-layout, index.json, blobs/sha256/*) that skopeo can copy from. */
export function writeOciLayout(dir: string, images: Image[], options: { index?: Blob; tag?: string } = {}): void {
  const blobsDir = join(dir, 'blobs', 'sha256');
  mkdirSync(blobsDir, { recursive: true });
  const write = (blob: Blob) => writeFileSync(join(blobsDir, blob.digest.slice('sha256:'.length)), blob.bytes);
  for (const image of images) [image.config, ...image.layers, image.manifest].forEach(write);
  if (options.index) write(options.index);
  writeFileSync(join(dir, 'oci-layout'), JSON.stringify({ imageLayoutVersion: '1.0.0' }));
  const top = options.index
    ? { mediaType: OCI_INDEX, digest: options.index.digest, size: options.index.size }
    : { mediaType: OCI_MANIFEST, digest: images[0]?.manifest.digest, size: images[0]?.manifest.size };
  const annotations = { 'org.opencontainers.image.ref.name': options.tag ?? 'latest' };
  writeFileSync(join(dir, 'index.json'), JSON.stringify({ schemaVersion: 2, manifests: [{ ...top, annotations }] }));
}

/** Pushes a blob in one POST ?digest= request. */
export async function pushBlob(url: string, name: string, blob: Blob): Promise<Response> {
  return fetch(`${url}/v2/${name}/blobs/uploads/?digest=${blob.digest}`, {
    method: 'POST',
    headers: { 'content-type': 'application/octet-stream', 'content-length': String(blob.size) },
    body: blob.bytes,
  });
}

export async function pushManifest(url: string, name: string, reference: string, manifest: Blob, mediaType = OCI_MANIFEST): Promise<Response> {
  return fetch(`${url}/v2/${name}/manifests/${reference}`, {
    method: 'PUT',
    headers: { 'content-type': mediaType },
    body: manifest.bytes,
  });
}

/** Pushes every blob of an image and its manifest under a tag. */
export async function pushImage(url: string, name: string, image: Image, tag: string): Promise<void> {
  for (const blob of [image.config, ...image.layers]) {
    const response = await pushBlob(url, name, blob);
    if (response.status !== 201) throw new Error(`blob push failed: ${response.status} ${await response.text()}`);
  }
  const response = await pushManifest(url, name, tag, image.manifest);
  if (response.status !== 201) throw new Error(`manifest push failed: ${response.status} ${await response.text()}`);
}
