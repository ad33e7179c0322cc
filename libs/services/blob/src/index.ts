export { BlobServiceModule } from './blob-service.module';
export const BLOB_SERVICE_QUEUE = 'blob-service';
