import { DynamicModule, Module } from '@nestjs/common';
import { RegistryConfig, Tokens } from '@ocireg/config';
import type { RegistryRpc } from '@ocireg/contracts';
import type { ContentStore } from '@ocireg/storage';
import { BlobsHandler } from './blobs.handler';
import { ListingHandler } from './listing.handler';
import { ManifestsHandler } from './manifests.handler';
import { UploadsHandler } from './uploads.handler';
import { TokenController } from './token.controller';
import { V2Controller } from './v2.controller';
import type { TokenServer } from './access/token-server';
import type { AccessControl } from './access/access-control';
import { ANYONE } from './access/caller';

const OPEN_ACCESS: AccessControl = { authorize: async () => ANYONE };

export interface GatewayDeps {
  config: RegistryConfig;
  rpc: RegistryRpc;
  store: ContentStore;
  /** Who may do what; anyone anything when absent (REGISTRY_AUTH=none). */
  access?: AccessControl;
  /** The registry's own token endpoint, when it issues tokens. */
  tokenServer?: TokenServer;
}

@Module({})
export class GatewayModule {
  static register(deps: GatewayDeps): DynamicModule {
    return {
      module: GatewayModule,
      controllers: [V2Controller, TokenController],
      providers: [
        BlobsHandler,
        UploadsHandler,
        ManifestsHandler,
        ListingHandler,
        { provide: Tokens.config, useValue: deps.config },
        { provide: Tokens.rpc, useValue: deps.rpc },
        { provide: Tokens.contentStore, useValue: deps.store },
        { provide: Tokens.accessControl, useValue: deps.access ?? OPEN_ACCESS },
        { provide: Tokens.tokenServer, useValue: deps.tokenServer },
      ],
    };
  }
}
