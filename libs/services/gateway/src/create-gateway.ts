import { INestApplication, LogLevel, LoggerService } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, NestFastifyApplication } from '@nestjs/platform-fastify';
import type { FastifyInstance } from 'fastify';
import { GatewayDeps, GatewayModule } from './gateway.module';
import { RegistryHttpExceptionFilter } from './http-errors';

/** PEM contents for the gateway to terminate TLS itself; with `clientCas`, clients must present a certificate. */
export interface GatewayTls {
  key: Buffer;
  cert: Buffer;
  clientCas?: Buffer[];
}

/**
 * Builds the HTTP gateway: Fastify tuned for streaming bodies, OCI headers and the one error writer. With TLS
 * it serves HTTP/2 and HTTP/1.1 on the same port (ALPN), so clients need no insecure-registry setting.
 */
export async function createGateway(deps: GatewayDeps, logger: LoggerService | LogLevel[] | false, tls?: GatewayTls): Promise<NestFastifyApplication> {
  const options = {
    routerOptions: { ignoreTrailingSlash: true, maxParamLength: 2048 },
    exposeHeadRoutes: false,
    bodyLimit: 1024 * 1024 * 1024 * 1024,
    keepAliveTimeout: 65_000,
    requestTimeout: 0,
  };
  const mutual = tls?.clientCas !== undefined && tls.clientCas.length > 0;
  const adapter = tls
    ? new FastifyAdapter({
        ...options,
        http2: true,
        https: { allowHTTP1: true, key: tls.key, cert: tls.cert, ca: mutual ? tls.clientCas : undefined, requestCert: mutual, rejectUnauthorized: mutual },
      })
    : new FastifyAdapter(options);
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
  // Callback hooks, not async ones: a promise per hook per request costs (see logRequests).
  fastify.addHook('onRequest', (_request, reply, done) => {
    reply.header('docker-distribution-api-version', 'registry/2.0');
    done();
  });
}

export type { INestApplication };
