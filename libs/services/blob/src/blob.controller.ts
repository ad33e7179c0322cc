import { Controller, Inject, UseFilters } from '@nestjs/common';
import { MessagePattern, Payload } from '@nestjs/microservices';
import { Tokens } from '@ocireg/config';
import { ResponseOf, RpcErrorFilter, parseRequest } from '@ocireg/contracts';
import { RegistryError } from '@ocireg/errors';
import type { Metadata } from '@ocireg/metadata';

/** Blob service: which blobs a repository links, and cross-repository mounts. */
@Controller()
@UseFilters(RpcErrorFilter)
export class BlobController {
  constructor(@Inject(Tokens.metadata) private readonly metadata: Metadata) {}

  @MessagePattern('blob.resolve')
  async resolve(@Payload() payload: unknown): Promise<ResponseOf<'blob.resolve'>> {
    const { repository, digest } = parseRequest('blob.resolve', payload);
    const blob = await this.metadata.blobs.findLinkedBlob(repository, digest);
    if (!blob) throw new RegistryError('BLOB_UNKNOWN', undefined, { digest });
    return blob;
  }

  /** Links a blob into a repository from another repository that links it. */
  @MessagePattern('blob.mount')
  async mount(@Payload() payload: unknown): Promise<ResponseOf<'blob.mount'>> {
    const { repository, digest, from } = parseRequest('blob.mount', payload);
    const blob = await this.metadata.blobs.mountBlob(repository, digest, from);
    return blob ? { blob } : {};
  }

  @MessagePattern('blob.holders')
  async holders(@Payload() payload: unknown): Promise<ResponseOf<'blob.holders'>> {
    const { digest, limit } = parseRequest('blob.holders', payload);
    return { repositories: await this.metadata.blobs.listBlobRepositories(digest, limit) };
  }

  /** Unlinks a blob from a repository; its bytes stay while anything else references them. */
  @MessagePattern('blob.delete')
  async delete(@Payload() payload: unknown): Promise<ResponseOf<'blob.delete'>> {
    const { repository, digest } = parseRequest('blob.delete', payload);
    if (!(await this.metadata.blobs.unlinkBlob(repository, digest))) throw new RegistryError('BLOB_UNKNOWN', undefined, { digest });
    return { deleted: true };
  }
}
