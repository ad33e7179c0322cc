import { DynamicModule, Module } from '@nestjs/common';
import { RegistryConfig, Tokens } from '@ocireg/config';
import type { Metadata } from '@ocireg/metadata';
import type { UploadSessionStore } from '@ocireg/sessions';
import type { ContentStore } from '@ocireg/storage';
import { UploadController } from './upload.controller';
import { UploadPurger } from './upload-purger';
import { UploadService } from './upload.service';

export interface UploadServiceDeps {
  config: RegistryConfig;
  metadata: Metadata;
  sessions: UploadSessionStore;
  store: ContentStore;
}

@Module({})
export class UploadServiceModule {
  static register(deps: UploadServiceDeps): DynamicModule {
    return {
      module: UploadServiceModule,
      controllers: [UploadController],
      providers: [
        UploadService,
        UploadPurger,
        { provide: Tokens.config, useValue: deps.config },
        { provide: Tokens.metadata, useValue: deps.metadata },
        { provide: Tokens.uploadSessions, useValue: deps.sessions },
        { provide: Tokens.contentStore, useValue: deps.store },
      ],
    };
  }
}
