import { Client } from 'minio';
import { assertValidKey } from '@ocireg/storage';
import { queryEscape, s3ErrorCode } from './s3-io';
import type { S3Names } from './s3-state';

/**
 * minio's client with ListParts reachable (it is protected in minio v8): purging reads when the parts of an
 * old multipart upload were last written, so that a long upload still receiving parts is left alone.
 */
export class S3Client extends Client {
  uploadedParts(bucket: string, objectName: string, uploadId: string): Promise<{ lastModified?: Date }[]> {
    return this.listParts(bucket, objectName, uploadId);
  }
}

/** The calls purging makes. */
export type PurgeClient = Pick<
  S3Client, 'listObjectsV2Query' | 'removeObject' | 'listIncompleteUploadsQuery' | 'uploadedParts' | 'abortMultipartUpload'
>;
type IncompleteUpload = Awaited<ReturnType<PurgeClient['listIncompleteUploadsQuery']>>['uploads'][number];
type ListedObject = Awaited<ReturnType<PurgeClient['listObjectsV2Query']>>['objects'][number];

/**
 * Listing times of S3 (and s3rver) have a granularity of one second (they are truncated), so a time `t` means
 * "written before t + 1 s": something counts as written before the cutoff only when that whole second is.
 */
const STAMP_GRANULARITY_MS = 1000;

export function writtenBefore(stamp: Date | undefined, cutoffMs: number): boolean {
  const time = stamp?.getTime();
  return time !== undefined && !Number.isNaN(time) && time + STAMP_GRANULARITY_MS <= cutoffMs;
}

/** The objects under a prefix, one listing page (at most 1000) in memory at a time. */
async function* listObjects(client: PurgeClient, bucket: string, prefix: string): AsyncGenerator<ListedObject> {
  let continuationToken = '';
  for (;;) {
    const page = await client.listObjectsV2Query(bucket, prefix, continuationToken, '', 1000, '');
    yield* page.objects;
    if (!page.isTruncated || !page.nextContinuationToken) return;
    continuationToken = page.nextContinuationToken;
  }
}

/**
 * Removes the tail objects written before the cutoff. Tails are never rewritten (each append puts a new one
 * under a random name), so a tail old enough when listed is still the same old tail when it is removed; and
 * every append loads the current tail and leaves it stale, so an old tail belongs to an append idle since.
 */
export async function purgeTails(client: PurgeClient, bucket: string, names: S3Names, cutoffMs: number): Promise<number> {
  let removed = 0;
  for await (const item of listObjects(client, bucket, names.tailArea)) {
    if (item.name === undefined || !writtenBefore(item.lastModified, cutoffMs)) continue;
    await client.removeObject(bucket, item.name);
    removed += 1;
  }
  return removed;
}

/**
 * Aborts the multipart uploads of this store (appends and whole writes a crash interrupted) that nothing was
 * written to since before the cutoff: initiated before it, no part uploaded since and, for an append, no tail
 * put since (appends smaller than a part only write tails). Returns how many it aborted. Memory: one page of
 * ListMultipartUploads (at most 1000 uploads) and the part list of one upload (at most 10,000 parts). The
 * checks and the abort are not atomic: an append resuming in between, after idling for the whole TTL, fails.
 *
 * A server without ListMultipartUploads (s3rver answers NotImplemented) has nothing to abort as far as this
 * store can tell, so that answer means 0, not an error. On real S3, configure the bucket lifecycle rule
 * AbortIncompleteMultipartUpload (DaysAfterInitiation well above the upload TTL) as the recommended backstop:
 * it catches uploads this pass misses (a server without the listing, a crash mid-pass), though, counting from
 * initiation, it would also end an upload still active after that many days.
 */
export async function purgeUploads(client: PurgeClient, bucket: string, names: S3Names, cutoffMs: number): Promise<number> {
  let removed = 0;
  for await (const upload of incompleteUploads(client, bucket, names.root)) {
    const objectName = String(upload.key);
    const uploadId = String(upload.uploadId);
    const key = validKey(names.keyOf(objectName));
    if (key === undefined || !writtenBefore(upload.initiated, cutoffMs)) continue;
    if (!(await partsWrittenBefore(client, bucket, objectName, uploadId, cutoffMs))) continue;
    if (await hasTailSince(client, bucket, names, key, cutoffMs)) continue;
    try {
      await client.abortMultipartUpload(bucket, objectName, queryEscape(uploadId));
      removed += 1;
    } catch (error) {
      // Completed, aborted or purged by another replica since it was listed.
      if (s3ErrorCode(error) !== 'NoSuchUpload') throw error;
    }
  }
  return removed;
}

function validKey(key: string | undefined): string | undefined {
  try {
    if (key !== undefined) assertValidKey(key);
    return key;
  } catch {
    return undefined; // not an object of this store
  }
}

/** True when every part of the upload was written before the cutoff (an upload gone meanwhile is skipped). */
async function partsWrittenBefore(client: PurgeClient, bucket: string, objectName: string, uploadId: string, cutoffMs: number) {
  try {
    const parts = await client.uploadedParts(bucket, objectName, uploadId);
    return parts.every((part) => writtenBefore(part.lastModified, cutoffMs));
  } catch (error) {
    if (s3ErrorCode(error) === 'NoSuchUpload') return false;
    throw error;
  }
}

/** True when the key has a tail not written before the cutoff: its append is active. */
async function hasTailSince(client: PurgeClient, bucket: string, names: S3Names, key: string, cutoffMs: number) {
  for await (const item of listObjects(client, bucket, names.tailPrefix(key))) {
    if (item.name !== undefined && names.isTailOf(key, item.name) && !writtenBefore(item.lastModified, cutoffMs)) return true;
  }
  return false;
}

/** ListMultipartUploads answers of a server that does not have it (minio maps a bare 501 to MethodNotAllowed). */
function isUnsupported(error: unknown): boolean {
  const code = s3ErrorCode(error);
  return code === 'NotImplemented' || code === 'MethodNotAllowed';
}

/**
 * The incomplete uploads under a prefix, page by page, through minio's ListMultipartUploads call (the page call
 * behind its `listIncompleteUploads` stream, which would also list every upload's parts and loses the upload-id
 * marker between pages). Aborting listed uploads between pages is safe: S3 resumes after the markers.
 */
async function* incompleteUploads(client: PurgeClient, bucket: string, prefix: string): AsyncGenerator<IncompleteUpload> {
  let keyMarker = '';
  let uploadIdMarker = '';
  for (;;) {
    let page;
    try {
      // minio puts the upload-id marker into the query unescaped.
      page = await client.listIncompleteUploadsQuery(bucket, prefix, keyMarker, uploadIdMarker && queryEscape(uploadIdMarker), '');
    } catch (error) {
      if (isUnsupported(error)) return;
      throw error;
    }
    yield* page.uploads;
    const last = page.uploads.at(-1);
    if (!page.isTruncated || !last) return;
    const [nextKey, nextId] = [String(last.key), String(last.uploadId)];
    if (nextKey === keyMarker && nextId === uploadIdMarker) throw new Error('ListMultipartUploads did not advance');
    [keyMarker, uploadIdMarker] = [nextKey, nextId];
  }
}
