import { All, Controller, Inject, Req, Res } from '@nestjs/common';
import { RegistryConfig, Tokens } from '@ocireg/config';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { RegistryError } from '@ocireg/errors';
import { BlobsHandler } from './blobs.handler';
import { ListingHandler } from './listing.handler';
import { ManifestsHandler } from './manifests.handler';
import { ROUTE_METHODS, V2Route, parseV2Path } from './routes';
import { UploadsHandler } from './uploads.handler';
import type { AccessControl } from './access/access-control';
import type { Caller } from './access/caller';
import { requirementOf } from './access/requirement';

/**
 * The /v2 API. Repository names contain slashes, so the path is parsed once into a typed route
 * (routes.ts) and each endpoint's method goes to its handler.
 */
@Controller()
export class V2Controller {
  constructor(
    @Inject(Tokens.config) private readonly config: RegistryConfig,
    @Inject(Tokens.accessControl) private readonly access: AccessControl,
    private readonly blobs: BlobsHandler,
    private readonly uploads: UploadsHandler,
    private readonly manifests: ManifestsHandler,
    private readonly listing: ListingHandler,
  ) {}

  @All(['v2', 'v2/*'])
  async handle(@Req() request: FastifyRequest, @Res() reply: FastifyReply): Promise<void> {
    const path = request.url.split('?')[0] ?? '';
    const route = parseV2Path(path);
    const method = request.method;
    if (!ROUTE_METHODS[route.kind].includes(method)) throw new RegistryError('METHOD_UNKNOWN', undefined, { method });
    const caller = await this.access.authorize(request, requirementOf(route, method));
    if (method === 'DELETE' && (route.kind === 'manifest' || route.kind === 'blob') && !this.config.storage.deleteEnabled) {
      throw new RegistryError('UNSUPPORTED', 'deletes are disabled (REGISTRY_STORAGE_DELETE_ENABLED)');
    }
    await this.dispatch(route, method, caller, request, reply);
  }

  private async dispatch(route: V2Route, method: string, caller: Caller, request: FastifyRequest, reply: FastifyReply): Promise<void> {
    switch (route.kind) {
      case 'base':
        return void reply.status(200).header('content-type', 'application/json; charset=utf-8').send('{}');
      case 'catalog':
        return this.listing.catalog(caller, request, reply);
      case 'tags':
        return this.listing.tags(route.name, request, reply);
      case 'manifest':
        if (method === 'PUT') return this.manifests.put(route.name, route.reference, request, reply);
        if (method === 'DELETE') return this.manifests.delete(route.name, route.reference, reply);
        return this.manifests.get(route.name, route.reference, request, reply, method === 'HEAD');
      case 'blob':
        if (method === 'DELETE') return this.blobs.delete(route.name, route.digest, reply);
        return this.blobs.get(route.name, route.digest, request, reply, method === 'HEAD');
      case 'uploads':
        return this.uploads.start(route.name, caller, request, reply);
      case 'upload':
        if (method === 'GET') return this.uploads.status(route.name, route.id, reply);
        if (method === 'PATCH') return this.uploads.patch(route.name, route.id, request, reply);
        if (method === 'PUT') return this.uploads.complete(route.name, route.id, request, reply);
        return this.uploads.cancel(route.name, route.id, reply);
      case 'referrers':
        return this.listing.referrers(route.name, route.digest, request, reply);
    }
  }
}
