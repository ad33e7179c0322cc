import { Controller, UseFilters } from '@nestjs/common';
import { MessagePattern, Payload } from '@nestjs/microservices';
import { ResponseOf, RpcErrorFilter, parseRequest } from '@ocireg/contracts';
import { UploadService } from './upload.service';

@Controller()
@UseFilters(RpcErrorFilter)
export class UploadController {
  constructor(private readonly uploads: UploadService) {}

  @MessagePattern('upload.start')
  start(@Payload() payload: unknown): Promise<ResponseOf<'upload.start'>> {
    const { repository, claim } = parseRequest('upload.start', payload);
    return this.uploads.start(repository, claim);
  }

  @MessagePattern('upload.status')
  status(@Payload() payload: unknown): Promise<ResponseOf<'upload.status'>> {
    const { repository, id } = parseRequest('upload.status', payload);
    return this.uploads.status(repository, id);
  }

  @MessagePattern('upload.claim')
  claim(@Payload() payload: unknown): Promise<ResponseOf<'upload.claim'>> {
    const { repository, id, start } = parseRequest('upload.claim', payload);
    return this.uploads.claim(repository, id, start);
  }

  @MessagePattern('upload.advance')
  advance(@Payload() payload: unknown): Promise<ResponseOf<'upload.advance'>> {
    return this.uploads.advance(parseRequest('upload.advance', payload));
  }

  @MessagePattern('upload.adopt')
  adopt(@Payload() payload: unknown): Promise<ResponseOf<'upload.adopt'>> {
    return this.uploads.adopt(parseRequest('upload.adopt', payload));
  }

  @MessagePattern('upload.release')
  async release(@Payload() payload: unknown): Promise<ResponseOf<'upload.release'>> {
    const { repository, id, leaseToken } = parseRequest('upload.release', payload);
    return { released: await this.uploads.release(repository, id, leaseToken) };
  }

  @MessagePattern('upload.commit')
  commit(@Payload() payload: unknown): Promise<ResponseOf<'upload.commit'>> {
    return this.uploads.commit(parseRequest('upload.commit', payload));
  }

  @MessagePattern('upload.complete')
  complete(@Payload() payload: unknown): Promise<ResponseOf<'upload.complete'>> {
    return this.uploads.complete(parseRequest('upload.complete', payload));
  }

  @MessagePattern('upload.cancel')
  async cancel(@Payload() payload: unknown): Promise<ResponseOf<'upload.cancel'>> {
    const { repository, id } = parseRequest('upload.cancel', payload);
    return { cancelled: await this.uploads.cancel(repository, id) };
  }
}
