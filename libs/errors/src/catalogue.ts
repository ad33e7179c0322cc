/**
 * The one catalogue of registry errors. Each entry is data: the wire code clients see (from the OCI
 * distribution spec's error table, plus Distribution's extra codes), the message, and the HTTP status.
 * Services throw `RegistryError(kind)`; the gateway's filter is the only place that writes the body.
 */
export const ERROR_CATALOGUE = {
  BLOB_UNKNOWN: { code: 'BLOB_UNKNOWN', message: 'blob unknown to registry', httpStatus: 404 },
  BLOB_UPLOAD_INVALID: { code: 'BLOB_UPLOAD_INVALID', message: 'blob upload invalid', httpStatus: 400 },
  BLOB_UPLOAD_UNKNOWN: { code: 'BLOB_UPLOAD_UNKNOWN', message: 'blob upload unknown to registry', httpStatus: 404 },
  DIGEST_INVALID: { code: 'DIGEST_INVALID', message: 'provided digest did not match uploaded content', httpStatus: 400 },
  MANIFEST_BLOB_UNKNOWN: {
    code: 'MANIFEST_BLOB_UNKNOWN',
    message: 'manifest references a manifest or blob unknown to registry',
    httpStatus: 400,
  },
  MANIFEST_INVALID: { code: 'MANIFEST_INVALID', message: 'manifest invalid', httpStatus: 400 },
  MANIFEST_UNKNOWN: { code: 'MANIFEST_UNKNOWN', message: 'manifest unknown to registry', httpStatus: 404 },
  NAME_INVALID: { code: 'NAME_INVALID', message: 'invalid repository name', httpStatus: 400 },
  NAME_UNKNOWN: { code: 'NAME_UNKNOWN', message: 'repository name not known to registry', httpStatus: 404 },
  SIZE_INVALID: { code: 'SIZE_INVALID', message: 'provided length did not match content length', httpStatus: 400 },
  UNAUTHORIZED: { code: 'UNAUTHORIZED', message: 'authentication required', httpStatus: 401 },
  DENIED: { code: 'DENIED', message: 'requested access to the resource is denied', httpStatus: 403 },
  UNSUPPORTED: { code: 'UNSUPPORTED', message: 'the operation is unsupported', httpStatus: 405 },
  TOOMANYREQUESTS: { code: 'TOOMANYREQUESTS', message: 'too many requests', httpStatus: 429 },
  /** Distribution's code for a chunk whose Content-Range does not continue the upload. */
  RANGE_INVALID: { code: 'RANGE_INVALID', message: 'invalid content range', httpStatus: 416 },
  /** A blob Range header that cannot be satisfied (past the end). Same wire code, per Distribution. */
  RANGE_NOT_SATISFIABLE: { code: 'RANGE_INVALID', message: 'requested range not satisfiable', httpStatus: 416 },
  /** The manifest body is larger than the configured limit. */
  MANIFEST_TOO_LARGE: { code: 'SIZE_INVALID', message: 'manifest exceeds the size limit', httpStatus: 413 },
  TAG_INVALID: { code: 'TAG_INVALID', message: 'manifest tag did not match URI', httpStatus: 400 },
  PAGINATION_NUMBER_INVALID: { code: 'PAGINATION_NUMBER_INVALID', message: 'invalid number of results requested', httpStatus: 400 },
  /** A path under /v2/ that names no endpoint of the spec. */
  ROUTE_UNKNOWN: { code: 'NOT_FOUND', message: 'no such endpoint', httpStatus: 404 },
  /** A known endpoint asked with a method it does not have. */
  METHOD_UNKNOWN: { code: 'UNSUPPORTED', message: 'the method is not supported on this endpoint', httpStatus: 405 },
  UNAVAILABLE: { code: 'UNAVAILABLE', message: 'service unavailable', httpStatus: 503 },
  UNKNOWN: { code: 'UNKNOWN', message: 'unknown error', httpStatus: 500 },
} as const satisfies Record<string, { code: string; message: string; httpStatus: number }>;

export type ErrorKind = keyof typeof ERROR_CATALOGUE;

export const ERROR_KINDS = Object.keys(ERROR_CATALOGUE) as ErrorKind[];

export function isErrorKind(value: unknown): value is ErrorKind {
  return typeof value === 'string' && Object.prototype.hasOwnProperty.call(ERROR_CATALOGUE, value);
}
