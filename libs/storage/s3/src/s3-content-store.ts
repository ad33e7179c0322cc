import { Readable } from 'node:stream';
import {
  type AppendState, type ByteRange, type ContentStore, type ObjectInfo, ContentNotFoundError, assertValidKey, purgeCutoffMs,
} from '@ocireg/storage';
import { PartBuffer, assertValidRange, isNotFound, limitBytes, s3ErrorCode, toBuffer } from './s3-io';
import { MultipartUpload, abortQuietly } from './s3-multipart';
import { S3Client, purgeTails, purgeUploads } from './s3-purge';
import { MAX_PART_SIZE, MIN_PART_SIZE, type S3AppendState, S3Names, initialState, parseState } from './s3-state';

export interface S3ContentStoreOptions {
  endPoint: string;
  port?: number;
  useSSL: boolean;
  accessKey: string;
  secretKey: string;
  region?: string;
  bucket: string;
  /** Key prefix of every object in the bucket. */
  rootDirectory?: string;
  /** Size of every multipart part but the last, and the memory one append in progress holds. Default 8 MiB. */
  partSize?: number;
  /** Path-style URLs (`host/bucket/key`), needed by MinIO and s3rver. Default true. */
  pathStyle?: boolean;
}

const DEFAULT_PART_SIZE = 8 * 1024 * 1024;
/** minio's putObject sends a Buffer up to its own part size in one PUT: keep that above ours. */
const CLIENT_PART_SIZE = 64 * 1024 * 1024;

/**
 * Content store over S3 (or MinIO). Appends stream into a multipart upload at the object's own key, cut into
 * parts of exactly `partSize` bytes; the remainder of each append waits in a small hidden tail object
 * (`<root>!tails/...`) until the next append or the completion, which makes it the last part (or the whole
 * object when it never reached a part). Whole writes stream parts the same way. Only put / get / head / delete /
 * list-v2 and initiate / upload-part / complete / abort multipart are used, and, by `purgeUnfinished` alone,
 * list-multipart-uploads and list-parts (a server without them, like s3rver, only loses the multipart half of
 * purging).
 */
export class S3ContentStore implements ContentStore {
  readonly kind = 's3' as const;
  private readonly client: S3Client;
  private readonly bucket: string;
  private readonly region: string;
  private readonly names: S3Names;
  private readonly partSize: number;

  constructor(options: S3ContentStoreOptions) {
    const partSize = options.partSize ?? DEFAULT_PART_SIZE;
    if (!Number.isSafeInteger(partSize) || partSize < MIN_PART_SIZE || partSize > MAX_PART_SIZE) {
      throw new Error(`partSize must be an integer between ${MIN_PART_SIZE} and ${MAX_PART_SIZE} bytes`);
    }
    this.partSize = partSize;
    this.bucket = options.bucket;
    this.region = options.region ?? 'us-east-1';
    this.names = new S3Names(options.rootDirectory);
    this.client = new S3Client({
      endPoint: options.endPoint,
      port: options.port,
      useSSL: options.useSSL,
      accessKey: options.accessKey,
      secretKey: options.secretKey,
      region: this.region,
      pathStyle: options.pathStyle ?? true,
      partSize: Math.max(CLIENT_PART_SIZE, partSize),
    });
  }

  async init(): Promise<void> {
    if (await this.client.bucketExists(this.bucket)) return;
    try {
      await this.client.makeBucket(this.bucket, this.region);
    } catch (error) {
      // Another replica may have created it meanwhile.
      if (!(await this.client.bucketExists(this.bucket))) throw error;
    }
  }

  async close(): Promise<void> {
    // The client holds no connections that need closing.
  }

  async stat(key: string): Promise<ObjectInfo | undefined> {
    const name = this.names.object(key);
    try {
      const { size } = await this.client.statObject(this.bucket, name);
      return { key, size };
    } catch (error) {
      if (isNotFound(error)) return undefined;
      throw error;
    }
  }

  async read(key: string, range?: ByteRange): Promise<Readable> {
    if (range) assertValidRange(range);
    const name = this.names.object(key);
    try {
      if (!range) return await this.client.getObject(this.bucket, name);
      const length = range.end - range.start + 1;
      return limitBytes(await this.client.getPartialObject(this.bucket, name, range.start, length), length);
    } catch (error) {
      if (isNotFound(error)) throw new ContentNotFoundError(key);
      if (s3ErrorCode(error) === 'InvalidRange') throw new RangeError(`byte range ${range?.start}-${range?.end} of ${key} is not satisfiable`);
      throw error;
    }
  }

  /**
   * Streams into a multipart upload at the key, part by part (the append machinery without tails), or, when the
   * body ends before filling one part, puts it in one request. Nothing is visible until the upload completes,
   * and it never needs ListMultipartUploads (which minio's putObject of a stream would call).
   */
  async write(key: string, bytes: Readable | Buffer): Promise<ObjectInfo> {
    const body = Buffer.isBuffer(bytes) ? Readable.from([bytes]) : bytes;
    const name = this.names.object(key);
    const part = new PartBuffer(this.partSize);
    const upload = new MultipartUpload(this.client, this.bucket, name, null, []);
    try {
      const size = await this.streamParts(body, part, upload);
      await this.assemble(name, upload, part);
      return { key, size };
    } catch (error) {
      body.destroy();
      await upload.abandon();
      throw error;
    }
  }

  async delete(key: string): Promise<void> {
    await this.client.removeObject(this.bucket, this.names.object(key));
  }

  list(prefix: string): AsyncIterable<string> {
    if (prefix !== '') assertValidKey(prefix.endsWith('/') ? prefix.slice(0, -1) : prefix);
    return this.listKeys(this.names.root + prefix);
  }

  async startAppend(key: string): Promise<AppendState> {
    assertValidKey(key);
    return initialState(this.partSize);
  }

  async append(key: string, state: AppendState, body: Readable): Promise<AppendState> {
    const current = parseState(key, state, this.names);
    const upload = new MultipartUpload(this.client, this.bucket, this.names.object(key), current.uploadId, current.parts);
    try {
      await this.removeTail(current.staleTailKey);
      const part = await this.loadTail(current);
      const received = await this.streamParts(body, part, upload);
      if (received === 0) return { ...current, staleTailKey: null };
      const tailSize = part.length;
      const tailKey = tailSize > 0 ? await this.putTail(key, part.take()) : null;
      const next: S3AppendState = {
        size: current.size + received, partSize: current.partSize, uploadId: upload.uploadId, parts: upload.parts,
        tailKey, tailSize, staleTailKey: current.tailKey,
      };
      return next;
    } catch (error) {
      body.destroy();
      await upload.abandon();
      throw error;
    }
  }

  async completeAppend(key: string, state: AppendState, body?: Readable): Promise<ObjectInfo> {
    const current = parseState(key, state, this.names);
    const name = this.names.object(key);
    if (body) return this.appendAndComplete(key, name, current, body);
    try {
      const upload = new MultipartUpload(this.client, this.bucket, name, current.uploadId, current.parts);
      await this.assemble(name, upload, await this.loadTail(current));
    } catch (error) {
      // A retried completion: the first one already consumed the upload or the tail.
      const done = isNotFound(error) ? await this.stat(key) : undefined;
      if (done?.size !== current.size) throw error;
    }
    await this.removeTail(current.tailKey);
    await this.removeTail(current.staleTailKey);
    return { key, size: current.size };
  }

  /**
   * The last chunk straight into the assembly: parts as they fill, and the rest as the last part, without the
   * tail object an append leaves for the next call. Nothing before: one putObject, as a whole write.
   */
  private async appendAndComplete(key: string, name: string, current: S3AppendState, body: Readable): Promise<ObjectInfo> {
    const upload = new MultipartUpload(this.client, this.bucket, name, current.uploadId, current.parts);
    let received: number;
    try {
      await this.removeTail(current.staleTailKey);
      const part = await this.loadTail(current);
      received = await this.streamParts(body, part, upload);
      await this.assemble(name, upload, part);
    } catch (error) {
      body.destroy();
      await upload.abandon();
      throw error;
    }
    // The object is complete: a tail left behind is garbage for the purge, not a failure of the upload.
    await this.removeTail(current.tailKey).catch(() => undefined);
    return { key, size: current.size + received };
  }

  async abortAppend(key: string, state: AppendState): Promise<void> {
    const current = parseState(key, state, this.names);
    await this.removeTail(current.tailKey);
    await this.removeTail(current.staleTailKey);
    await abortQuietly(this.client, this.bucket, this.names.object(key), current.uploadId);
  }

  /**
   * Removes the tails written before the cutoff, then aborts the multipart uploads (of appends and of whole
   * writes) initiated before it that received no part (nor, for an append, a tail) since; see `purgeUploads` for servers without
   * ListMultipartUploads and for the bucket lifecycle rule that backs this up on real S3.
   */
  async purgeUnfinished(cutoff: Date): Promise<number> {
    const before = purgeCutoffMs(cutoff);
    const tails = await purgeTails(this.client, this.bucket, this.names, before);
    return tails + (await purgeUploads(this.client, this.bucket, this.names, before));
  }

  /** Cuts the body into full parts (uploaded as they fill) and returns the number of bytes it carried. */
  private async streamParts(body: Readable, part: PartBuffer, upload: MultipartUpload): Promise<number> {
    let received = 0;
    for await (const chunk of body) {
      const bytes = toBuffer(chunk);
      received += bytes.length;
      for (let offset = 0; offset < bytes.length; ) {
        offset += part.fill(bytes, offset);
        if (part.full) await upload.uploadPart(part.take());
      }
    }
    return received;
  }

  /** Makes the parts and the remainder the object at its key (no copy), or the remainder alone when no part exists. */
  private async assemble(name: string, upload: MultipartUpload, remainder: PartBuffer): Promise<void> {
    if (!upload.uploadId) {
      await this.client.putObject(this.bucket, name, remainder.take());
      return;
    }
    if (remainder.length > 0) await upload.uploadPart(remainder.take());
    await upload.complete();
  }

  private async loadTail(state: S3AppendState): Promise<PartBuffer> {
    const part = new PartBuffer(state.partSize);
    if (state.tailKey) await part.fillFrom(await this.client.getObject(this.bucket, state.tailKey), state.tailSize);
    return part;
  }

  private async putTail(key: string, bytes: Buffer): Promise<string> {
    const tailKey = this.names.newTail(key);
    await this.client.putObject(this.bucket, tailKey, bytes, bytes.length);
    return tailKey;
  }

  private async removeTail(tailKey: string | null): Promise<void> {
    if (tailKey) await this.client.removeObject(this.bucket, tailKey);
  }

  private async *listKeys(prefix: string): AsyncGenerator<string> {
    let continuationToken = '';
    for (;;) {
      const page = await this.client.listObjectsV2Query(this.bucket, prefix, continuationToken, '', 1000, '');
      for (const item of page.objects) {
        const key = item.name === undefined ? undefined : this.names.keyOf(item.name);
        if (key !== undefined) yield key;
      }
      if (!page.isTruncated || !page.nextContinuationToken) return;
      continuationToken = page.nextContinuationToken;
    }
  }
}
