import { DynamicModule, Module } from '@nestjs/common';
import { RegistryConfig, Tokens } from '@ocireg/config';
import type { Metadata } from '@ocireg/metadata';
import type { ContentStore } from '@ocireg/storage';
import { ManifestController } from './manifest.controller';

@Module({})
export class ManifestServiceModule {
  static register(deps: { config: RegistryConfig; metadata: Metadata; store: ContentStore }): DynamicModule {
    return {
      module: ManifestServiceModule,
      controllers: [ManifestController],
      providers: [
        { provide: Tokens.config, useValue: deps.config },
        { provide: Tokens.metadata, useValue: deps.metadata },
        { provide: Tokens.contentStore, useValue: deps.store },
      ],
    };
  }
}
