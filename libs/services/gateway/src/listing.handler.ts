import { Inject, Injectable } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { Tokens } from '@ocireg/config';
import { RegistryRpcClient } from '@ocireg/contracts';
import { RegistryError } from '@ocireg/errors';
import { MediaTypes } from '@ocireg/oci';
import { queryOf, requireDigest } from './http-util';

/** Referrers per page: an index of this many descriptors stays far below the 4 MiB manifest limit. */
export const REFERRERS_PAGE_SIZE = 1000;

/** Tags lists and the catalog, paginated with `n` and `last` and a `Link` header when more remain. */
@Injectable()
export class ListingHandler {
  constructor(@Inject(Tokens.rpc) private readonly rpc: RegistryRpcClient) {}

  async tags(name: string, request: FastifyRequest, reply: FastifyReply): Promise<void> {
    const page = parsePage(request);
    const result = await this.rpc.call('tags.list', { repository: name, ...page });
    this.send(reply, `/v2/${name}/tags/list`, page.n, result.tags, result);
  }

  async catalog(request: FastifyRequest, reply: FastifyReply): Promise<void> {
    const page = parsePage(request);
    const result = await this.rpc.call('catalog.list', page);
    this.send(reply, '/v2/_catalog', page.n, result.repositories, result);
  }

  /** GET /v2/<name>/referrers/<digest>: an image index of the manifests whose subject is the digest. */
  async referrers(name: string, reference: string, request: FastifyRequest, reply: FastifyReply): Promise<void> {
    const { digest } = requireDigest(reference);
    const page = parsePage(request);
    const n = Math.min(page.n ?? REFERRERS_PAGE_SIZE, REFERRERS_PAGE_SIZE);
    const artifactType = queryOf(request)['artifactType'] || undefined;
    const { manifests } = await this.rpc.call('referrers.list', { repository: name, subject: digest, artifactType, n, last: page.last });
    if (artifactType !== undefined) reply.header('oci-filters-applied', 'artifactType');
    const filter = artifactType === undefined ? '' : `&artifactType=${encodeURIComponent(artifactType)}`;
    this.linkNext(reply, `/v2/${name}/referrers/${digest}`, n, manifests.map((m) => m.digest), filter);
    const index = {
      schemaVersion: 2,
      mediaType: MediaTypes.ociIndex,
      manifests: manifests.map((m) => ({
        mediaType: m.mediaType,
        digest: m.digest,
        size: m.size,
        ...(m.artifactType === undefined ? {} : { artifactType: m.artifactType }),
        ...(m.annotations === undefined ? {} : { annotations: m.annotations }),
      })),
    };
    reply.status(200).header('content-type', MediaTypes.ociIndex).send(JSON.stringify(index));
  }

  private send(reply: FastifyReply, path: string, n: number | undefined, items: string[], body: object): void {
    this.linkNext(reply, path, n, items);
    reply.status(200).header('content-type', 'application/json; charset=utf-8').send(JSON.stringify(body));
  }

  /** `Link: <...?n=&last=>; rel="next"` when the page is full, so more may remain. */
  private linkNext(reply: FastifyReply, path: string, n: number | undefined, items: string[], extraQuery = ''): void {
    const last = items[items.length - 1];
    if (n !== undefined && n > 0 && items.length === n && last !== undefined) {
      reply.header('link', `<${path}?n=${n}&last=${encodeURIComponent(last)}${extraQuery}>; rel="next"`);
    }
  }
}

function parsePage(request: FastifyRequest): { n?: number; last?: string } {
  const query = queryOf(request);
  const rawN = query['n'];
  let n: number | undefined;
  if (rawN !== undefined) {
    if (!/^\d{1,9}$/.test(rawN)) throw new RegistryError('PAGINATION_NUMBER_INVALID', undefined, { n: rawN });
    n = Number(rawN);
  }
  return { n, last: query['last'] };
}
