import { DynamicModule, Module } from '@nestjs/common';
import { RegistryConfig, Tokens } from '@ocireg/config';
import type { RegistryRpcClient } from '@ocireg/contracts';
import type { ContentStore } from '@ocireg/storage';
import { BlobsHandler } from './blobs.handler';
import { ListingHandler } from './listing.handler';
import { ManifestsHandler } from './manifests.handler';
import { UploadsHandler } from './uploads.handler';
import { V2Controller } from './v2.controller';

export interface GatewayDeps {
  config: RegistryConfig;
  rpc: RegistryRpcClient;
  store: ContentStore;
}

@Module({})
export class GatewayModule {
  static register(deps: GatewayDeps): DynamicModule {
    return {
      module: GatewayModule,
      controllers: [V2Controller],
      providers: [
        BlobsHandler,
        UploadsHandler,
        ManifestsHandler,
        ListingHandler,
        { provide: Tokens.config, useValue: deps.config },
        { provide: Tokens.rpc, useValue: deps.rpc },
        { provide: Tokens.contentStore, useValue: deps.store },
      ],
    };
  }
}
