export type { RegistryTransport, Broadcast } from './transport';
export { RouteCache } from './route-cache';
