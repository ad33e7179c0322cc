import { Controller, Get, Inject, Optional, Post, Req, Res } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { Tokens } from '@ocireg/config';
import { RegistryError } from '@ocireg/errors';
import { readLimited } from '@ocireg/oci';
import { TokenServer, tokenRequestFromForm, tokenRequestFromQuery } from './access/token-server';
import { bodyOf } from './http-util';

const FORM_LIMIT = 64 * 1024;

/** The registry's own token endpoint (REGISTRY_AUTH=token with a signing key): GET and the OAuth2 POST form. */
@Controller('auth')
export class TokenController {
  constructor(@Optional() @Inject(Tokens.tokenServer) private readonly server?: TokenServer) {}

  @Get('token')
  async get(@Req() request: FastifyRequest, @Res() reply: FastifyReply): Promise<void> {
    const answer = await this.require().answer(tokenRequestFromQuery(request), request.ip);
    this.send(reply, answer);
  }

  @Post('token')
  async post(@Req() request: FastifyRequest, @Res() reply: FastifyReply): Promise<void> {
    const server = this.require();
    let body: Buffer;
    try {
      // The body as the hooks hand it on (counted for the access log and metrics), not the raw request they read.
      body = await readLimited(bodyOf(request), FORM_LIMIT);
    } catch {
      throw new RegistryError('SIZE_INVALID', 'token request too large');
    }
    const { token: _token, ...answer } = await server.answer(tokenRequestFromForm(new URLSearchParams(body.toString('utf8'))), request.ip);
    this.send(reply, answer);
  }

  private require(): TokenServer {
    if (!this.server) throw new RegistryError('ROUTE_UNKNOWN', 'this registry has no token endpoint');
    return this.server;
  }

  private send(reply: FastifyReply, answer: object): void {
    reply.status(200).headers({ 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' }).send(JSON.stringify(answer));
  }
}
