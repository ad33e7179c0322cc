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
/** The OCI empty descriptor's media type (image-spec 1.1): a config or layer whose content is `{}`. */
export const OCI_EMPTY = 'application/vnd.oci.empty.v1+json';
export const DOCKER_MANIFEST = 'application/vnd.docker.distribution.manifest.v2+json';
export const DOCKER_LIST = 'application/vnd.docker.distribution.manifest.list.v2+json';
export const DOCKER_CONFIG = 'application/vnd.docker.container.image.v1+json';
export const DOCKER_LAYER = 'application/vnd.docker.image.rootfs.diff.tar.gzip';

export type DigestAlgorithm = 'sha256' | 'sha512';

export function digestOf(bytes: Buffer | string, algorithm: DigestAlgorithm = 'sha256'): string {
  return `${algorithm}:${createHash(algorithm).update(bytes).digest('hex')}`;
}

export function sha256(bytes: Buffer | string): string {
  return digestOf(bytes, 'sha256');
}

export function sha512(bytes: Buffer | string): string {
  return digestOf(bytes, 'sha512');
}

export function blobOf(bytes: Buffer, algorithm: DigestAlgorithm = 'sha256'): Blob {
  return { bytes, digest: digestOf(bytes, algorithm), size: bytes.length };
}

/** A blob holding the compact JSON of a value (manifests, configs). */
export function jsonBlob(value: unknown, algorithm: DigestAlgorithm = 'sha256'): Blob {
  return blobOf(Buffer.from(JSON.stringify(value)), algorithm);
}

/** The content of the OCI empty descriptor: the two bytes `{}`. */
export const EMPTY_JSON: Blob = blobOf(Buffer.from('{}'));

export interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
  artifactType?: string;
  annotations?: Record<string, string>;
  platform?: { architecture: string; os: string };
}

export function descriptorOf(blob: Blob, mediaType: string, extra: Partial<Omit<Descriptor, 'digest' | 'size'>> = {}): Descriptor {
  return { mediaType, digest: blob.digest, size: blob.size, ...extra };
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

export interface IndexOptions {
  /** The manifest this index refers to (image-spec 1.1 `subject`), which makes it a referrer. */
  subject?: Descriptor;
  artifactType?: string;
  annotations?: Record<string, string>;
}

export function makeIndex(images: Image[], options: IndexOptions = {}): Blob {
  return jsonBlob({
    schemaVersion: 2,
    mediaType: OCI_INDEX,
    ...(options.artifactType === undefined ? {} : { artifactType: options.artifactType }),
    manifests: images.map((image) => ({
      mediaType: OCI_MANIFEST,
      digest: image.manifest.digest,
      size: image.manifest.size,
      platform: image.platform,
    })),
    ...(options.subject === undefined ? {} : { subject: options.subject }),
    ...(options.annotations === undefined ? {} : { annotations: options.annotations }),
  });
}

/** A Docker schema2 manifest of an image's config and layers (the same blobs as its OCI manifest). */
export function makeDockerManifest(image: Image): Blob {
  return jsonBlob({
    schemaVersion: 2,
    mediaType: DOCKER_MANIFEST,
    config: { mediaType: DOCKER_CONFIG, digest: image.config.digest, size: image.config.size },
    layers: image.layers.map((l) => ({ mediaType: DOCKER_LAYER, digest: l.digest, size: l.size })),
  });
}

/** A Docker manifest list of schema2 manifests, each with its platform. */
export function makeDockerList(entries: Array<{ manifest: Blob; platform: { architecture: string; os: string } }>): Blob {
  return jsonBlob({
    schemaVersion: 2,
    mediaType: DOCKER_LIST,
    manifests: entries.map((e) => ({ mediaType: DOCKER_MANIFEST, digest: e.manifest.digest, size: e.manifest.size, platform: e.platform })),
  });
}

export interface ArtifactOptions {
  artifactType?: string;
  /** Media type of a random JSON config; without it the config is the OCI empty descriptor (`{}`, OCI_EMPTY). */
  configMediaType?: string;
  subject?: Descriptor;
  annotations?: Record<string, string>;
  /** Layers of the artifact; one random 256-byte blob when not given. */
  layers?: Blob[];
  layerMediaType?: string;
}

/** An OCI image manifest used as an artifact (image-spec 1.1): optional artifactType, subject and annotations. */
export interface Artifact {
  manifest: Blob;
  /** The config and layer blobs, to push before the manifest. */
  blobs: Blob[];
  configMediaType: string;
  artifactType?: string;
  annotations?: Record<string, string>;
}

export function makeArtifact(options: ArtifactOptions = {}): Artifact {
  const configMediaType = options.configMediaType ?? OCI_EMPTY;
  const config = options.configMediaType === undefined ? EMPTY_JSON : jsonBlob({ nonce: randomBytes(8).toString('hex') });
  const layers = options.layers ?? [blobOf(randomBytes(256))];
  const manifest = jsonBlob({
    schemaVersion: 2,
    mediaType: OCI_MANIFEST,
    ...(options.artifactType === undefined ? {} : { artifactType: options.artifactType }),
    config: descriptorOf(config, configMediaType),
    layers: layers.map((l) => descriptorOf(l, options.layerMediaType ?? 'application/octet-stream')),
    ...(options.subject === undefined ? {} : { subject: options.subject }),
    ...(options.annotations === undefined ? {} : { annotations: options.annotations }),
  });
  return { manifest, blobs: [config, ...layers], configMediaType, artifactType: options.artifactType, annotations: options.annotations };
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

/** Pushes an artifact's blobs (failing loudly), then its manifest; returns the manifest PUT's response. */
export async function pushArtifact(url: string, name: string, artifact: Artifact, reference: string): Promise<Response> {
  for (const blob of artifact.blobs) {
    const response = await pushBlob(url, name, blob);
    if (response.status !== 201) throw new Error(`blob push failed: ${response.status} ${await response.text()}`);
  }
  return pushManifest(url, name, reference, artifact.manifest, OCI_MANIFEST);
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
