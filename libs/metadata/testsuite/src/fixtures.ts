import { createHash } from 'node:crypto';
import type { BlobRecord, Metadata, NewManifest } from '@ocireg/metadata';

export const IMAGE_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
export const IMAGE_INDEX = 'application/vnd.oci.image.index.v1+json';

/** A sha256 digest named after a label, so tests read as names but store real-looking digests. */
export function digestOf(label: string): string {
  return `sha256:${createHash('sha256').update(label).digest('hex')}`;
}

export function blobRecord(label: string, size = 1024, storageKey = `blobs/${label}`): BlobRecord {
  return { digest: digestOf(label), size, storageKey };
}

export interface ManifestFields {
  blobs?: string[];
  manifests?: string[];
  mediaType?: string;
  subject?: string;
  artifactType?: string;
  annotations?: Record<string, string>;
  body?: Buffer;
}

export function newManifest(label: string, fields: ManifestFields = {}): NewManifest {
  const { blobs = [], manifests = [], mediaType = IMAGE_MANIFEST, ...optional } = fields;
  return {
    digest: digestOf(label),
    mediaType,
    size: 512,
    storageKey: `manifests/${label}`,
    blobs,
    manifests,
    ...optional,
  };
}

/** The stored record of a NewManifest (what find/resolve return). */
export function recordOf(manifest: NewManifest): Omit<NewManifest, 'blobs' | 'manifests'> {
  const { blobs: _blobs, manifests: _manifests, ...record } = manifest;
  return record;
}

/** Byte-order sort, independent of any locale. */
export function byteOrder(values: readonly string[]): string[] {
  return [...values].sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
}

/** Commits a config and a layer in the repository and puts an image manifest referencing them. */
export async function pushImage(
  metadata: Metadata,
  repository: string,
  label: string,
  options: { tag?: string } & Omit<ManifestFields, 'blobs' | 'manifests' | 'mediaType'> = {},
): Promise<NewManifest> {
  const { tag, ...fields } = options;
  const config = blobRecord(`${label}/config`);
  const layer = blobRecord(`${label}/layer`);
  await metadata.blobs.commitBlob(repository, config);
  await metadata.blobs.commitBlob(repository, layer);
  const manifest = newManifest(label, { ...fields, blobs: [config.digest, layer.digest] });
  const { missing } = await metadata.manifests.putManifest(repository, manifest, tag);
  if (missing.length > 0) throw new Error(`pushImage: missing ${missing.join(', ')}`);
  return manifest;
}
