import { Inject, Injectable } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { Tokens } from '@ocireg/config';
import { RegistryRpcClient } from '@ocireg/contracts';
import { RegistryError } from '@ocireg/errors';
import { queryOf } from './http-util';

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

  private send(reply: FastifyReply, path: string, n: number | undefined, items: string[], body: object): void {
    const last = items[items.length - 1];
    if (n !== undefined && n > 0 && items.length === n && last !== undefined) {
      reply.header('link', `<${path}?n=${n}&last=${encodeURIComponent(last)}>; rel="next"`);
    }
    reply.status(200).header('content-type', 'application/json; charset=utf-8').send(JSON.stringify(body));
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
