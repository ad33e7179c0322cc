import { DynamicModule, Module } from '@nestjs/common';
import { Tokens } from '@ocireg/config';
import type { Metadata } from '@ocireg/metadata';
import { ManifestController } from './manifest.controller';

@Module({})
export class ManifestServiceModule {
  static register(deps: { metadata: Metadata }): DynamicModule {
    return {
      module: ManifestServiceModule,
      controllers: [ManifestController],
      providers: [{ provide: Tokens.metadata, useValue: deps.metadata }],
    };
  }
}
