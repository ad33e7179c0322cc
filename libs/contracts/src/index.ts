export { Contracts, MANIFEST_INLINE_MAX, MAX_PAGE } from './schemas';
export type { Subject, RequestOf, ResponseOf, UploadView, BlobView, ManifestView } from './schemas';
export { RegistryRpcClient, parseRequest } from './rpc';
export type { RegistryRpc } from './rpc';
export { RpcErrorFilter } from './rpc-error.filter';
export const RPC_CLIENT = Symbol('RPC_CLIENT');
export { UploadIds, uploadIdsFrom, UNSTARTED_SECONDS } from './upload-ids';
export type { UploadIdSettings } from './upload-ids';
