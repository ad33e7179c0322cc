import { z } from 'zod';
import { RegistryError } from '@ocireg/errors';
import { Digest, parseDigest } from './digest';
import { ManifestMediaType, MediaTypes, isIndexMediaType, isManifestMediaType } from './media-types';

const digestField = z.string().refine((value) => typeof parseDigest(value) === 'object', 'invalid digest');

const descriptorSchema = z.object({
  mediaType: z.string().min(1),
  digest: digestField,
  size: z.number().int().nonnegative(),
  urls: z.array(z.string()).optional(),
  annotations: z.record(z.string(), z.string()).optional(),
  artifactType: z.string().optional(),
  platform: z.object({ architecture: z.string(), os: z.string() }).loose().optional(),
});

const imageManifestSchema = z
  .object({
    schemaVersion: z.literal(2),
    mediaType: z.string().optional(),
    artifactType: z.string().optional(),
    config: descriptorSchema,
    layers: z.array(descriptorSchema),
    subject: descriptorSchema.optional(),
    annotations: z.record(z.string(), z.string()).optional(),
  })
  .loose();

const indexSchema = z
  .object({
    schemaVersion: z.literal(2),
    mediaType: z.string().optional(),
    artifactType: z.string().optional(),
    manifests: z.array(descriptorSchema),
    subject: descriptorSchema.optional(),
    annotations: z.record(z.string(), z.string()).optional(),
  })
  .loose();

export type Descriptor = z.infer<typeof descriptorSchema>;

/** What the registry needs to know about a manifest it accepts. */
export interface ParsedManifest {
  mediaType: ManifestMediaType;
  /** Blobs (config and distributable layers) that must exist in the repository. */
  blobs: Digest[];
  /** Manifests (index children) that must exist in the repository. */
  manifests: Digest[];
  subject?: Digest;
  /** artifactType, falling back to the config's media type for image manifests. */
  artifactType?: string;
  annotations?: Record<string, string>;
}

function isNonDistributable(mediaType: string): boolean {
  return mediaType === MediaTypes.dockerForeignLayer || mediaType.startsWith(MediaTypes.ociNondistributableLayerPrefix);
}

function invalid(message: string, detail?: unknown): RegistryError {
  return new RegistryError('MANIFEST_INVALID', message, detail);
}

/** Strips parameters from a Content-Type value ("a/b; charset=utf-8" -> "a/b"). */
export function baseMediaType(contentType: string | undefined): string | undefined {
  const base = contentType?.split(';')[0]?.trim().toLowerCase();
  return base ? base : undefined;
}

function resolveMediaType(body: Record<string, unknown>, contentType: string | undefined): ManifestMediaType {
  const declared = typeof body['mediaType'] === 'string' ? body['mediaType'] : undefined;
  const header = baseMediaType(contentType);
  const headerIsManifest = header !== undefined && isManifestMediaType(header);
  if (declared !== undefined) {
    if (!isManifestMediaType(declared)) throw invalid(`unsupported manifest media type ${declared}`);
    if (headerIsManifest && header !== declared) {
      throw invalid('manifest mediaType does not match the Content-Type header');
    }
    return declared;
  }
  if (headerIsManifest) return header;
  if (header === MediaTypes.dockerSchema1 || header === MediaTypes.dockerSchema1Signed) {
    throw invalid('Docker schema 1 manifests are not supported');
  }
  // OCI manifests may omit mediaType; infer from the shape.
  if (Array.isArray(body['manifests'])) return MediaTypes.ociIndex;
  if (typeof body['config'] === 'object' && body['config'] !== null) return MediaTypes.ociManifest;
  throw invalid('cannot determine the manifest media type');
}

/** Parses and validates a manifest body (image manifest, image index, schema2 manifest or manifest list). */
export function parseManifest(bytes: Buffer, contentType: string | undefined): ParsedManifest {
  let body: unknown;
  try {
    body = JSON.parse(bytes.toString('utf8'));
  } catch {
    throw invalid('manifest is not valid JSON');
  }
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw invalid('manifest is not a JSON object');
  const mediaType = resolveMediaType(body as Record<string, unknown>, contentType);
  if (isIndexMediaType(mediaType)) {
    const result = indexSchema.safeParse(body);
    if (!result.success) throw invalid('invalid image index', z.flattenError(result.error).fieldErrors);
    const index = result.data;
    return {
      mediaType,
      blobs: [],
      manifests: index.manifests.map((d) => d.digest as Digest),
      subject: index.subject?.digest as Digest | undefined,
      artifactType: index.artifactType,
      annotations: index.annotations,
    };
  }
  const result = imageManifestSchema.safeParse(body);
  if (!result.success) throw invalid('invalid image manifest', z.flattenError(result.error).fieldErrors);
  const manifest = result.data;
  const layers = manifest.layers.filter((layer) => !isNonDistributable(layer.mediaType));
  return {
    mediaType,
    blobs: [manifest.config.digest as Digest, ...layers.map((layer) => layer.digest as Digest)],
    manifests: [],
    subject: manifest.subject?.digest as Digest | undefined,
    artifactType: manifest.artifactType ?? manifest.config.mediaType,
    annotations: manifest.annotations,
  };
}

/** Reads a (manifest) stream into memory, refusing more than `limit` bytes: manifests are small and bounded. */
export async function readLimited(stream: AsyncIterable<Buffer>, limit: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let total = 0;
  for await (const chunk of stream) {
    total += chunk.length;
    if (total > limit) throw new RegistryError('MANIFEST_TOO_LARGE', `manifest exceeds ${limit} bytes`, { limit });
    chunks.push(chunk);
  }
  return Buffer.concat(chunks, total);
}
