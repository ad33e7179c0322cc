export { UploadServiceModule } from './upload-service.module';
export type { UploadServiceDeps } from './upload-service.module';
export const UPLOAD_SERVICE_QUEUE = 'upload-service';
