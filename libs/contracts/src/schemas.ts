import { z } from 'zod';

/** Largest manifest the gateway sends along with `manifest.put` (bigger ones the service reads back from storage). */
export const MANIFEST_INLINE_MAX = 64 * 1024;

/**
 * The NATS contracts: every subject the gateway uses, with its request and response schemas. Handlers
 * parse each request with its schema (validate once, at the boundary); responses are typed.
 */
const repository = z.string().min(1).max(255);
const digest = z.string().min(1).max(256);
const json = z.json();
const appendState = z.object({ size: z.number().int().nonnegative() }).catchall(json);

export const blobRecord = z.object({ digest, size: z.number().int().nonnegative(), storageKey: z.string() });
export const uploadView = z.object({
  id: z.string(),
  repository,
  storageKey: z.string(),
  offset: z.number().int().nonnegative(),
  append: appendState,
  leaseToken: z.string().optional(),
});
export const manifestRecord = z.object({
  digest,
  mediaType: z.string(),
  size: z.number().int().nonnegative(),
  storageKey: z.string(),
  subject: z.string().optional(),
  artifactType: z.string().optional(),
  annotations: z.record(z.string(), z.string()).optional(),
});
/** A manifest to serve: from manifest.resolve. */
const manifestView = manifestRecord.extend({
  /**
   * The manifest's bytes (base64) when the metadata keeps them (see 'manifest.put'); absent, they are read
   * from storageKey in the content store.
   */
  body: z.string().max(Math.ceil(MANIFEST_INLINE_MAX / 3) * 4).optional(),
});
/**
 * Lists cross NATS one bounded page at a time (NATS messages are limited to 1 MB by default): `n` at most
 * MAX_PAGE, and `more` says whether anything follows the page.
 */
export const MAX_PAGE = 1000;
const page = { n: z.number().int().min(0).max(MAX_PAGE), last: z.string().optional() };

export const Contracts = {
  'blob.resolve': { request: z.object({ repository, digest }), response: blobRecord },
  'blob.mount': {
    request: z.object({ repository, digest, from: repository }),
    response: z.object({ blob: blobRecord.optional() }),
  },
  'blob.holders': {
    /** Repositories that hold a blob (candidates for an automatic mount, filtered by the caller's rights). */
    request: z.object({ digest, limit: z.number().int().min(1).max(MAX_PAGE) }),
    response: z.object({ repositories: z.array(repository) }),
  },
  'blob.delete': { request: z.object({ repository, digest }), response: z.object({ deleted: z.literal(true) }) },
  'upload.start': { request: z.object({ repository, claim: z.boolean() }), response: uploadView },
  'upload.status': {
    request: z.object({ repository, id: z.string() }),
    response: z.object({ id: z.string(), offset: z.number().int().nonnegative() }),
  },
  'upload.claim': {
    request: z.object({ repository, id: z.string(), start: z.number().int().nonnegative().optional() }),
    response: uploadView,
  },
  'upload.advance': {
    request: z.object({ repository, id: z.string(), leaseToken: z.string(), append: appendState }),
    response: z.object({ id: z.string(), offset: z.number().int().nonnegative() }),
  },
  'upload.adopt': {
    /**
     * The first chunk of an upload in one call, without a lease taken beforehand (upload.claim): the gateway
     * appended the chunk to an object of its own (`storageKey`, left at `append`), which becomes the upload's
     * object if the upload holds no bytes yet. Otherwise nothing changes and `adopted` is false: the gateway
     * then appends the chunk the long way (or refuses it, when its Content-Range said it starts at 0).
     */
    request: z.object({ repository, id: z.string(), storageKey: z.string().min(1).max(1024), append: appendState }),
    response: z.object({ offset: z.number().int().nonnegative(), adopted: z.boolean() }),
  },
  'upload.release': {
    request: z.object({ repository, id: z.string(), leaseToken: z.string() }),
    response: z.object({ released: z.boolean() }),
  },
  'upload.commit': {
    request: z.object({
      repository,
      id: z.string(),
      leaseToken: z.string(),
      /** Size of the completed object (the gateway completed the append before hashing it). */
      size: z.number().int().nonnegative(),
      /** The digest the client asked for. */
      digest,
      /** The digest of the bytes received, computed by the gateway with the same algorithm. */
      computedDigest: digest,
    }),
    response: blobRecord,
  },
  'upload.complete': {
    /**
     * Completes and commits an upload in one call, without a lease taken beforehand (upload.claim): the
     * upload service takes it, completes the upload's object and commits it, as upload.commit does. Either
     * `object` names a whole object the gateway wrote with the last request's body (it holds all the blob's
     * bytes: valid only while the upload holds none), or the upload's own bytes are the blob (their digest
     * computed by the gateway over `size` bytes: valid only while the upload holds exactly that many). When
     * the upload holds another number of bytes, nothing changes and the answer is its `offset`: the gateway
     * then goes the long way (claim, append, commit).
     */
    request: z.object({
      repository,
      id: z.string(),
      /** The digest the client asked for. */
      digest,
      /** The digest of the blob's bytes, computed by the gateway with the same algorithm. */
      computedDigest: digest,
      /** Bytes the computed digest covers. */
      size: z.number().int().nonnegative(),
      /** Storage key of the whole object written with the body, or absent for the upload's own bytes. */
      object: z.string().min(1).max(1024).optional(),
    }),
    response: z.object({ blob: blobRecord.optional(), offset: z.number().int().nonnegative().optional() }),
  },
  'upload.cancel': { request: z.object({ repository, id: z.string() }), response: z.object({ cancelled: z.boolean() }) },
  'manifest.put': {
    /**
     * The gateway has verified the digest; the manifest service parses the bytes to record what the
     * manifest references. A small manifest (at most MANIFEST_INLINE_MAX bytes, the usual case) comes along
     * in `body` (base64) and nothing is stored yet: the manifest service keeps the bytes in the metadata
     * (Postgres: the manifest's row) or, where the metadata does not keep them (the journal), writes them to
     * storageKey in the content store. A larger one the gateway has stored at storageKey, and it is read back
     * from there (its references can exceed a NATS message).
     */
    request: z.object({
      repository,
      tag: z.string().optional(),
      digest,
      size: z.number().int().nonnegative(),
      storageKey: z.string(),
      contentType: z.string().optional(),
      body: z.string().max(Math.ceil(MANIFEST_INLINE_MAX / 3) * 4).optional(),
    }),
    response: z.object({ digest, subject: digest.optional() }),
  },
  'manifest.resolve': {
    /**
     * `fresh`: asked past the gateway's cache of answers (CachingRpc keeps them without the bytes), for the
     * bytes of a manifest it has in neither its cache of bytes nor the content store.
     */
    request: z.object({ repository, reference: z.string().min(1), fresh: z.boolean().optional() }),
    response: manifestView,
  },
  'manifest.delete': {
    /** By tag: removes the tag only. By digest: removes the manifest from the repository and its tags. */
    request: z.object({ repository, reference: z.string().min(1) }),
    response: z.object({ deleted: z.literal(true) }),
  },
  'referrers.list': {
    request: z.object({ repository, subject: digest, artifactType: z.string().optional(), ...page }),
    response: z.object({ manifests: z.array(manifestRecord), more: z.boolean() }),
  },
  'tags.list': {
    request: z.object({ repository, ...page }),
    response: z.object({ name: repository, tags: z.array(z.string()), more: z.boolean() }),
  },
  'catalog.list': { request: z.object({ ...page }), response: z.object({ repositories: z.array(z.string()), more: z.boolean() }) },
} as const;

export type Subject = keyof typeof Contracts;
export type RequestOf<S extends Subject> = z.infer<(typeof Contracts)[S]['request']>;
export type ResponseOf<S extends Subject> = z.infer<(typeof Contracts)[S]['response']>;
export type UploadView = z.infer<typeof uploadView>;
export type BlobView = z.infer<typeof blobRecord>;
export type ManifestView = z.infer<typeof manifestView>;
