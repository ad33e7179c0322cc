import { Controller, Inject, UseFilters } from '@nestjs/common';
import { MessagePattern, Payload } from '@nestjs/microservices';
import { Tokens } from '@ocireg/config';
import { ResponseOf, RpcErrorFilter, parseRequest } from '@ocireg/contracts';
import { RegistryError } from '@ocireg/errors';
import type { Metadata } from '@ocireg/metadata';
import { isDigest, isTag } from '@ocireg/oci';

/** Manifest service: manifests, tags and the catalog. The gateway has already parsed and stored the bytes. */
@Controller()
@UseFilters(RpcErrorFilter)
export class ManifestController {
  constructor(@Inject(Tokens.metadata) private readonly metadata: Metadata) {}

  @MessagePattern('manifest.put')
  async put(@Payload() payload: unknown): Promise<ResponseOf<'manifest.put'>> {
    const { repository, tag, manifest } = parseRequest('manifest.put', payload);
    if (tag !== undefined && !isTag(tag)) throw new RegistryError('TAG_INVALID', undefined, { tag });
    const { missing } = await this.metadata.manifests.putManifest(repository, manifest, tag);
    if (missing.length > 0) {
      throw new RegistryError('MANIFEST_BLOB_UNKNOWN', `manifest references ${missing.length} unknown blob(s) or manifest(s)`, {
        digests: missing,
      });
    }
    return { digest: manifest.digest };
  }

  @MessagePattern('manifest.resolve')
  async resolve(@Payload() payload: unknown): Promise<ResponseOf<'manifest.resolve'>> {
    const { repository, reference } = parseRequest('manifest.resolve', payload);
    const manifest = isDigest(reference)
      ? await this.metadata.manifests.findManifest(repository, reference)
      : await this.metadata.manifests.resolveTag(repository, reference);
    if (!manifest) throw new RegistryError('MANIFEST_UNKNOWN', undefined, { reference });
    return manifest;
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
    return { manifests: await this.metadata.manifests.listReferrers(repository, subject, { artifactType, n, last }) };
  }

  @MessagePattern('tags.list')
  async listTags(@Payload() payload: unknown): Promise<ResponseOf<'tags.list'>> {
    const { repository, n, last } = parseRequest('tags.list', payload);
    const tags = await this.metadata.manifests.listTags(repository, { n, last });
    if (!tags) throw new RegistryError('NAME_UNKNOWN', undefined, { name: repository });
    return { name: repository, tags };
  }

  @MessagePattern('catalog.list')
  async listCatalog(@Payload() payload: unknown): Promise<ResponseOf<'catalog.list'>> {
    const { n, last } = parseRequest('catalog.list', payload);
    return { repositories: await this.metadata.repositories.listRepositories({ n, last }) };
  }
}
