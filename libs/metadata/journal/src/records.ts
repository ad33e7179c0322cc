import type { BlobRecord, ManifestRecord, NewManifest } from '@ocireg/metadata';

/**
 * One journal record per acknowledged mutation: the change after validation, replayed without validation
 * (the same apply functions run at write time and at replay, so replay rebuilds the same state). Versioned
 * with the rest of the layout in layout.ts.
 */
export type JournalRecord =
  | { op: 'commitBlob'; repository: string; blob: BlobRecord }
  | { op: 'mountBlob'; repository: string; digest: string }
  | { op: 'unlinkBlob'; repository: string; digest: string }
  | { op: 'putManifest'; repository: string; manifest: NewManifest; tag?: string }
  | { op: 'deleteTag'; repository: string; tag: string }
  | { op: 'deleteManifest'; repository: string; digest: string };

/** The whole state as written in a snapshot. */
export interface SnapshotData {
  blobs: BlobRecord[];
  manifests: ManifestRecord[];
  repositories: SnapshotRepository[];
}

export interface SnapshotRepository {
  name: string;
  blobs: string[];
  /** Linked manifests with the references recorded when they were linked. */
  manifests: { digest: string; blobs: string[]; manifests: string[] }[];
  /** [tag, manifest digest] pairs. */
  tags: [string, string][];
}
