import type { Client } from 'minio';
import { queryEscape } from './s3-io';
import { MAX_PARTS, type S3Part } from './s3-state';

/**
 * The multipart upload of one object during one call: started lazily with the first full part, parts numbered
 * after those already in the state. Uses only initiate / uploadPart / complete / abort (never ListMultipartUploads
 * or ListParts), so it works on S3, MinIO and s3rver alike.
 */
export class MultipartUpload {
  private startedHere = false;
  readonly parts: S3Part[];

  constructor(
    private readonly client: Client,
    private readonly bucket: string,
    private readonly objectName: string,
    private id: string | null,
    parts: readonly S3Part[],
  ) {
    this.parts = [...parts];
  }

  get uploadId(): string | null {
    return this.id;
  }

  async uploadPart(data: Buffer): Promise<void> {
    if (this.parts.length >= MAX_PARTS) throw new Error(`${this.objectName} would need more than ${MAX_PARTS} parts`);
    const uploadId = this.id ?? (await this.start());
    const partNumber = this.parts.length + 1;
    const { etag } = await this.client.uploadPart(
      { bucketName: this.bucket, objectName: this.objectName, uploadID: queryEscape(uploadId), partNumber, headers: {} },
      data,
    );
    if (!etag) throw new Error(`no ETag for part ${partNumber} of ${this.objectName}`);
    this.parts.push({ part: partNumber, etag });
  }

  /** Makes the uploaded parts the object at its key: S3 assembles them in place, nothing is copied. */
  async complete(): Promise<void> {
    if (!this.id) throw new Error(`no multipart upload to complete for ${this.objectName}`);
    await this.client.completeMultipartUpload(this.bucket, this.objectName, this.id, this.parts);
  }

  /** After a failed call: aborts the upload if this call started it (nobody else knows its id). */
  async abandon(): Promise<void> {
    if (this.startedHere) await abortQuietly(this.client, this.bucket, this.objectName, this.id);
  }

  private async start(): Promise<string> {
    const id = await this.client.initiateNewMultipartUpload(this.bucket, this.objectName, {});
    this.id = id;
    this.startedHere = true;
    return id;
  }
}

/**
 * Aborts a multipart upload, ignoring failures: a leftover upload costs storage until a bucket lifecycle rule
 * (AbortIncompleteMultipartUpload) removes it, which is better than failing the caller. s3rver lacks the call.
 */
export async function abortQuietly(client: Client, bucket: string, objectName: string, uploadId: string | null): Promise<void> {
  if (!uploadId) return;
  try {
    await client.abortMultipartUpload(bucket, objectName, queryEscape(uploadId));
  } catch {
    // best effort, see above
  }
}
