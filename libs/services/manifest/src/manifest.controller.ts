import { Controller, Inject, UseFilters } from '@nestjs/common';
import { MessagePattern, Payload } from '@nestjs/microservices';
import { RegistryConfig, Tokens } from '@ocireg/config';
import { RequestOf, ResponseOf, RpcErrorFilter, parseRequest } from '@ocireg/contracts';
import { RegistryError } from '@ocireg/errors';
import type { ManifestRecord, Metadata } from '@ocireg/metadata';
import { isDigest, isTag, parseManifest, readLimited } from '@ocireg/oci';
import type { ContentStore } from '@ocireg/storage';
import { pageOf, withinBytes } from './pages';

/** Budget for the descriptors of one referrers page, well inside a NATS message. */
const REFERRERS_PAGE_BYTES = 512 * 1024;

/** Manifest service: manifests, tags, referrers and the catalog. */
@Controller()
@UseFilters(RpcErrorFilter)
export class ManifestController {
  constructor(
    @Inject(Tokens.config) private readonly config: RegistryConfig,
    @Inject(Tokens.metadata) private readonly metadata: Metadata,
    @Inject(Tokens.contentStore) private readonly store: ContentStore,
  ) {}

  /**
   * Records a manifest the gateway verified: everything it references must be in the repository. Bytes that
   * came along are kept in the metadata where it keeps them, else written to the content store first (a large
   * manifest the gateway wrote there itself).
   */
  @MessagePattern('manifest.put')
  async put(@Payload() payload: unknown): Promise<ResponseOf<'manifest.put'>> {
    const request = parseRequest('manifest.put', payload);
    if (request.tag !== undefined && !isTag(request.tag)) throw new RegistryError('TAG_INVALID', undefined, { tag: request.tag });
    const bytes = await this.bytesOf(request);
    const parsed = parseManifest(bytes, request.contentType);
    const kept = request.body !== undefined && this.metadata.manifests.keepsBodies;
    if (request.body !== undefined && !kept && !(await this.store.stat(request.storageKey))) await this.store.write(request.storageKey, bytes);
    const { missing } = await this.metadata.manifests.putManifest(
      request.repository,
      {
        digest: request.digest,
        mediaType: parsed.mediaType,
        size: request.size,
        storageKey: request.storageKey,
        blobs: parsed.blobs,
        manifests: parsed.manifests,
        subject: parsed.subject,
        artifactType: parsed.artifactType,
        annotations: parsed.annotations,
        ...(kept ? { body: bytes } : {}),
      },
      request.tag,
    );
    if (missing.length > 0) {
      throw new RegistryError('MANIFEST_BLOB_UNKNOWN', `manifest references ${missing.length} unknown blob(s) or manifest(s)`, {
        digests: missing.slice(0, 100),
      });
    }
    return { digest: request.digest, subject: parsed.subject };
  }

  @MessagePattern('manifest.resolve')
  async resolve(@Payload() payload: unknown): Promise<ResponseOf<'manifest.resolve'>> {
    const { repository, reference } = parseRequest('manifest.resolve', payload);
    const manifest = isDigest(reference)
      ? await this.metadata.manifests.findManifest(repository, reference)
      : await this.metadata.manifests.resolveTag(repository, reference);
    if (!manifest) throw new RegistryError('MANIFEST_UNKNOWN', undefined, { reference });
    // Annotations can be large and the gateway does not need them to serve the manifest.
    const { annotations: _annotations, body, ...view } = manifest;
    return body ? { ...view, body: body.toString('base64') } : view;
  }

  @MessagePattern('manifest.delete')
  async delete(@Payload() payload: unknown): Promise<ResponseOf<'manifest.delete'>> {
    const { repository, reference } = parseRequest('manifest.delete', payload);
    const deleted = isDigest(reference)
      ? await this.metadata.manifests.deleteManifest(repository, reference)
      : await this.metadata.manifests.deleteTag(repository, reference);
    if (!deleted) throw new RegistryError('MANIFEST_UNKNOWN', undefined, { reference });
    return { deleted: true };
  }

  @MessagePattern('referrers.list')
  async listReferrers(@Payload() payload: unknown): Promise<ResponseOf<'referrers.list'>> {
    const { repository, subject, artifactType, n, last } = parseRequest('referrers.list', payload);
    const rows = await this.metadata.manifests.listReferrers(repository, subject, { artifactType, n: n + 1, last });
    const page = pageOf(rows, n);
    const manifests = withinBytes<ManifestRecord>(page.items, REFERRERS_PAGE_BYTES);
    return { manifests, more: page.more || manifests.length < page.items.length };
  }

  @MessagePattern('tags.list')
  async listTags(@Payload() payload: unknown): Promise<ResponseOf<'tags.list'>> {
    const { repository, n, last } = parseRequest('tags.list', payload);
    const tags = await this.metadata.manifests.listTags(repository, { n: n + 1, last });
    if (!tags) throw new RegistryError('NAME_UNKNOWN', undefined, { name: repository });
    const page = pageOf(tags, n);
    return { name: repository, tags: page.items, more: page.more };
  }

  @MessagePattern('catalog.list')
  async listCatalog(@Payload() payload: unknown): Promise<ResponseOf<'catalog.list'>> {
    const { n, last } = parseRequest('catalog.list', payload);
    const page = pageOf(await this.metadata.repositories.listRepositories({ n: n + 1, last }), n);
    return { repositories: page.items, more: page.more };
  }

  /** The manifest's bytes: sent along when small, else read back from where the gateway stored them. */
  private async bytesOf(request: RequestOf<'manifest.put'>): Promise<Buffer> {
    if (request.body !== undefined) {
      const bytes = Buffer.from(request.body, 'base64');
      if (bytes.length !== request.size) throw new Error(`manifest.put: the body sent along has ${bytes.length} bytes, not ${request.size}`);
      return bytes;
    }
    return readLimited(await this.store.read(request.storageKey), this.config.manifests.maxSize);
  }
}
