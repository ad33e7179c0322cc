import { Inject, Injectable } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { RegistryConfig, Tokens } from '@ocireg/config';
import { MANIFEST_INLINE_MAX, ManifestView, type RegistryRpc } from '@ocireg/contracts';
import { RegistryError } from '@ocireg/errors';
import { MediaTypes, digestOf, isTag, looksLikeDigest, parseManifest, readLimited } from '@ocireg/oci';
import { type ContentStore, ContentNotFoundError, manifestKey } from '@ocireg/storage';
import { bodyOf, requireDigest, sendEmpty } from './http-util';
import { acceptedTypes, fallbackChild, isIndexType } from './content-negotiation';
import { ManifestCache } from './manifest-cache';

/**
 * Manifests: parsed and verified here; metadata in the manifest service, which keeps the bytes of a small
 * manifest (sent along) in the metadata or the content store; a large one's bytes written to the store here.
 */
@Injectable()
export class ManifestsHandler {
  private readonly cache = new ManifestCache();

  constructor(
    @Inject(Tokens.config) private readonly config: RegistryConfig,
    @Inject(Tokens.rpc) private readonly rpc: RegistryRpc,
    @Inject(Tokens.contentStore) private readonly store: ContentStore,
  ) {}

  /** PUT /v2/<name>/manifests/<reference> */
  async put(name: string, reference: string, request: FastifyRequest, reply: FastifyReply): Promise<void> {
    const ref = parseReference(reference);
    const bytes = await readLimited(bodyOf(request), this.config.manifests.maxSize);
    const digest = digestOf(bytes, ref.digest ? ref.digest.algorithm : 'sha256');
    if (ref.digest && ref.digest.digest !== digest) {
      throw new RegistryError('DIGEST_INVALID', 'the manifest does not match the digest in the URL', { expected: reference, computed: digest });
    }
    const parsed = parseManifest(bytes, request.headers['content-type']);
    const storageKey = manifestKey(digest);
    const sentAlong = bytes.length <= MANIFEST_INLINE_MAX;
    if (!sentAlong && !(await this.store.stat(storageKey))) await this.store.write(storageKey, bytes);
    await this.rpc.call('manifest.put', {
      repository: name,
      tag: ref.tag,
      digest,
      size: bytes.length,
      storageKey,
      contentType: request.headers['content-type'],
      ...(sentAlong ? { body: bytes.toString('base64') } : {}),
    });
    this.cache.set(digest, bytes);
    const headers: Record<string, string> = { location: `/v2/${name}/manifests/${digest}`, 'docker-content-digest': digest };
    if (parsed.subject) headers['oci-subject'] = parsed.subject;
    sendEmpty(reply, 201, headers);
  }

  /** GET and HEAD /v2/<name>/manifests/<reference>, negotiated on Accept. */
  async get(name: string, reference: string, request: FastifyRequest, reply: FastifyReply, head: boolean): Promise<void> {
    parseReference(reference);
    const manifest = await this.negotiate(name, await this.rpc.call('manifest.resolve', { repository: name, reference }), request);
    reply.status(200).headers({
      'content-type': manifest.mediaType,
      'content-length': manifest.size,
      'docker-content-digest': manifest.digest,
      etag: `"${manifest.digest}"`,
    });
    if (head) return void reply.send();
    reply.send(await this.bytesOf(name, manifest));
  }

  /** DELETE /v2/<name>/manifests/<reference>: by tag removes the tag; by digest the manifest and its tags. */
  async delete(name: string, reference: string, reply: FastifyReply): Promise<void> {
    parseReference(reference);
    await this.rpc.call('manifest.delete', { repository: name, reference });
    sendEmpty(reply, 202, {});
  }

  /**
   * The manifest to answer with, as Distribution negotiates without schema 1: the stored one when the client
   * accepts its type (a Docker schema2 manifest always: it was the default before Accept mattered); for an
   * index or list it does not accept, its linux/amd64 child when acceptable; otherwise MANIFEST_UNKNOWN.
   */
  private async negotiate(name: string, manifest: ManifestView, request: FastifyRequest): Promise<ManifestView> {
    const accepted = acceptedTypes(request.headers['accept']);
    if (!accepted || accepted.has(manifest.mediaType) || manifest.mediaType === MediaTypes.dockerManifest) return manifest;
    const child = isIndexType(manifest.mediaType) ? fallbackChild(await this.bytesOf(name, manifest), accepted) : undefined;
    if (child) return this.rpc.call('manifest.resolve', { repository: name, reference: child });
    throw new RegistryError('MANIFEST_UNKNOWN', `the manifest is a ${manifest.mediaType}, which the Accept header does not allow`, {
      mediaType: manifest.mediaType,
    });
  }

  /**
   * The manifest's bytes: those that came with the answer (kept in the metadata), else from the cache of
   * bytes, else from the content store; a manifest in none of them (its bytes are in the metadata, and the
   * answer came from the cache of answers, which does not keep them) is asked again, past that cache.
   */
  private async bytesOf(name: string, manifest: ManifestView): Promise<Buffer> {
    const cached = manifest.body === undefined ? this.cache.get(manifest.digest) : undefined;
    if (cached) return cached;
    const bytes = await this.fetchBytes(name, manifest);
    if (bytes.length !== manifest.size) throw new Error(`manifest ${manifest.digest} has ${bytes.length} bytes, not ${manifest.size}`);
    this.cache.set(manifest.digest, bytes);
    return bytes;
  }

  private async fetchBytes(name: string, manifest: ManifestView): Promise<Buffer> {
    if (manifest.body !== undefined) return Buffer.from(manifest.body, 'base64');
    try {
      return await readLimited(await this.store.read(manifest.storageKey), manifest.size);
    } catch (error) {
      if (!(error instanceof ContentNotFoundError)) throw error;
      const fresh = await this.rpc.call('manifest.resolve', { repository: name, reference: manifest.digest, fresh: true });
      if (fresh.body === undefined) throw error;
      return Buffer.from(fresh.body, 'base64');
    }
  }
}

type Reference = { tag: string; digest?: undefined } | { tag?: undefined; digest: ReturnType<typeof requireDigest> };

function parseReference(reference: string): Reference {
  if (looksLikeDigest(reference)) return { digest: requireDigest(reference) };
  if (!isTag(reference)) throw new RegistryError('TAG_INVALID', 'invalid tag', { tag: reference });
  return { tag: reference };
}


