import { Inject, Injectable } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { Tokens } from '@ocireg/config';
import { MAX_PAGE, type RegistryRpc } from '@ocireg/contracts';
import { RegistryError } from '@ocireg/errors';
import { MediaTypes } from '@ocireg/oci';
import { queryOf, requireDigest } from './http-util';
import type { Caller } from './access/caller';

/** Tags lists, the catalog and referrers, paginated with `n` and `last` and a `Link` header when more remain. */
@Injectable()
export class ListingHandler {
  constructor(@Inject(Tokens.rpc) private readonly rpc: RegistryRpc) {}

  async tags(name: string, request: FastifyRequest, reply: FastifyReply): Promise<void> {
    const { n, last } = parsePage(request);
    const { items, more } = await collect(n, last, async (size, after) => {
      const page = await this.rpc.call('tags.list', { repository: name, n: size, last: after });
      return { items: page.tags, more: page.more };
    });
    this.send(reply, `/v2/${name}/tags/list`, n, items, more, { name, tags: items });
  }

  /** GET /v2/_catalog: the repositories the caller may pull, paginated. */
  async catalog(caller: Caller, request: FastifyRequest, reply: FastifyReply): Promise<void> {
    const { n, last } = parsePage(request);
    const fetchPage: PageFetcher = async (size, after) => {
      const page = await this.rpc.call('catalog.list', { n: size, last: after });
      return { items: page.repositories, more: page.more };
    };
    const { items, more } = await collect(n, last, fetchPage, (repository) => caller.seesInCatalog(repository));
    this.send(reply, '/v2/_catalog', n, items, more, { repositories: items });
  }

  /**
   * GET /v2/<name>/referrers/<digest>: an image index of the manifests whose subject is the digest, one
   * page of at most MAX_PAGE descriptors; a `Link` header names the next page when more remain.
   */
  async referrers(name: string, reference: string, request: FastifyRequest, reply: FastifyReply): Promise<void> {
    const { digest } = requireDigest(reference);
    const { n, last } = parsePage(request);
    const artifactType = queryOf(request)['artifactType'] || undefined;
    const size = Math.min(n ?? MAX_PAGE, MAX_PAGE);
    const { manifests, more } = await this.rpc.call('referrers.list', { repository: name, subject: digest, artifactType, n: size, last });
    if (artifactType !== undefined) reply.header('oci-filters-applied', 'artifactType');
    const filter = artifactType === undefined ? '' : `&artifactType=${encodeURIComponent(artifactType)}`;
    linkNext(reply, `/v2/${name}/referrers/${digest}`, size, manifests.map((m) => m.digest), more, filter);
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

  private send(reply: FastifyReply, path: string, n: number | undefined, items: string[], more: boolean, body: object): void {
    if (n !== undefined) linkNext(reply, path, n, items, more);
    reply.status(200).header('content-type', 'application/json; charset=utf-8').send(JSON.stringify(body));
  }
}

type PageFetcher = (size: number, last: string | undefined) => Promise<{ items: string[]; more: boolean }>;

/**
 * Gathers `n` names (all of them when n is undefined) that `keep` accepts, from pages of at most MAX_PAGE: a
 * service answers one bounded page per message. `more` tells whether names may remain after the last one.
 */
async function collect(
  n: number | undefined,
  last: string | undefined,
  fetchPage: PageFetcher,
  keep: (name: string) => boolean = () => true,
): Promise<{ items: string[]; more: boolean }> {
  const items: string[] = [];
  if (n === 0) return { items, more: false };
  let cursor = last;
  for (;;) {
    const size = Math.min(MAX_PAGE, n === undefined ? MAX_PAGE : n - items.length);
    const page = await fetchPage(size, cursor);
    for (const name of page.items) {
      if (n !== undefined && items.length === n) return { items, more: true };
      if (keep(name)) items.push(name);
    }
    cursor = page.items[page.items.length - 1] ?? cursor;
    if (!page.more || page.items.length === 0) return { items, more: false };
    if (n !== undefined && items.length >= n) return { items, more: true };
  }
}

/** `Link: <...?n=&last=>; rel="next"` when more remain after this page. */
function linkNext(reply: FastifyReply, path: string, n: number, items: string[], more: boolean, extraQuery = ''): void {
  const last = items[items.length - 1];
  if (more && n > 0 && last !== undefined) {
    reply.header('link', `<${path}?n=${n}&last=${encodeURIComponent(last)}${extraQuery}>; rel="next"`);
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
