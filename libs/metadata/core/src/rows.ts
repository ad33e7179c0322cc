import type { BlobRecord, ManifestRecord } from './ports';

/** bigint columns come back as strings from node-postgres and as numbers from PGlite. */
export type BigintValue = string | number | bigint;

export interface BlobRow {
  digest: string;
  size: BigintValue;
  storage_key: string;
}

export interface ManifestRow {
  digest: string;
  media_type: string;
  size: BigintValue;
  storage_key: string;
  subject: string | null;
  artifact_type: string | null;
  annotations: unknown;
  /** Selected by MANIFEST_COLUMNS_WITH_BODY only: a Buffer from node-postgres, a Uint8Array from PGlite. */
  body?: Uint8Array | null;
}

export const BLOB_COLUMNS = 'b.digest, b.size, b.storage_key';
export const MANIFEST_COLUMNS =
  'm.digest, m.media_type, m.size, m.storage_key, m.subject, m.artifact_type, m.annotations';
/** With the manifest's bytes (migration 3): for the lookups that serve a manifest, not for listings. */
export const MANIFEST_COLUMNS_WITH_BODY = `${MANIFEST_COLUMNS}, m.body`;

export function toNumber(value: BigintValue): number {
  const result = Number(value);
  if (!Number.isSafeInteger(result)) throw new Error(`the database returned an out-of-range integer ${value}`);
  return result;
}

export function toBlobRecord(row: BlobRow): BlobRecord {
  return { digest: row.digest, size: toNumber(row.size), storageKey: row.storage_key };
}

export function toManifestRecord(row: ManifestRow): ManifestRecord {
  const record: ManifestRecord = {
    digest: row.digest,
    mediaType: row.media_type,
    size: toNumber(row.size),
    storageKey: row.storage_key,
  };
  if (row.subject !== null) record.subject = row.subject;
  if (row.artifact_type !== null) record.artifactType = row.artifact_type;
  const annotations = toAnnotations(row.annotations);
  if (annotations) record.annotations = annotations;
  if (row.body) record.body = Buffer.isBuffer(row.body) ? row.body : Buffer.from(row.body.buffer, row.body.byteOffset, row.body.byteLength);
  return record;
}

function toAnnotations(value: unknown): Record<string, string> | undefined {
  const parsed: unknown = typeof value === 'string' ? JSON.parse(value) : value;
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) return undefined;
  const annotations: Record<string, string> = {};
  for (const [key, entry] of Object.entries(parsed)) {
    if (typeof entry === 'string') annotations[key] = entry;
  }
  return annotations;
}

/** Distinct values, first occurrence order. */
export function distinct(values: readonly string[]): string[] {
  return [...new Set(values)];
}
