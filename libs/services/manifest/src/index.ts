export { ManifestServiceModule } from './manifest-service.module';
export const MANIFEST_SERVICE_QUEUE = 'manifest-service';
