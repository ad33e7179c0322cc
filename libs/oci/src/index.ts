export { DIGEST_ALGORITHMS, parseDigest, isDigest, isDigestAlgorithm, looksLikeDigest, digestOf } from './digest';
export type { Digest, DigestAlgorithm, ParsedDigest, DigestProblem } from './digest';
export { isRepositoryName, isTag, MAX_NAME_LENGTH } from './names';
export type { RepositoryName, Tag } from './names';
export { MediaTypes, MANIFEST_MEDIA_TYPES, isManifestMediaType, isIndexMediaType } from './media-types';
export type { ManifestMediaType } from './media-types';
export { parseManifest, baseMediaType, readLimited } from './manifest';
export type { ParsedManifest, Descriptor } from './manifest';
