import { INestApplication, LogLevel } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, NestFastifyApplication } from '@nestjs/platform-fastify';
import type { FastifyInstance } from 'fastify';
import { GatewayDeps, GatewayModule } from './gateway.module';
import { RegistryHttpExceptionFilter } from './http-errors';

/** Builds the HTTP gateway: Fastify tuned for streaming bodies, OCI headers and the one error writer. */
export async function createGateway(deps: GatewayDeps, logger: LogLevel[] | false): Promise<NestFastifyApplication> {
  const adapter = new FastifyAdapter({
    routerOptions: { ignoreTrailingSlash: true, maxParamLength: 2048 },
    exposeHeadRoutes: false,
    bodyLimit: 1024 * 1024 * 1024 * 1024,
    keepAliveTimeout: 65_000,
    requestTimeout: 0,
  });
  const app = await NestFactory.create<NestFastifyApplication>(GatewayModule.register(deps), adapter, {
    logger,
    bodyParser: false,
  });
  // Global, so that Nest's own not-found and error paths write the OCI error envelope too.
  app.useGlobalFilters(new RegistryHttpExceptionFilter());
  configureFastify(app.getHttpAdapter().getInstance());
  return app;
}

function configureFastify(fastify: FastifyInstance): void {
  // Bodies are never buffered by Fastify: handlers stream them (blobs) or read them with a limit (manifests).
  fastify.removeAllContentTypeParsers();
  fastify.addContentTypeParser('*', (_request, payload, done) => done(null, payload));
  fastify.addHook('onRequest', async (_request, reply) => {
    reply.header('docker-distribution-api-version', 'registry/2.0');
  });
}

export type { INestApplication };
