import { DynamicModule, Module } from '@nestjs/common';
import { Tokens } from '@ocireg/config';
import type { Metadata } from '@ocireg/metadata';
import { BlobController } from './blob.controller';

@Module({})
export class BlobServiceModule {
  static register(deps: { metadata: Metadata }): DynamicModule {
    return {
      module: BlobServiceModule,
      controllers: [BlobController],
      providers: [{ provide: Tokens.metadata, useValue: deps.metadata }],
    };
  }
}
