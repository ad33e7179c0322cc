import { ERROR_CATALOGUE, ErrorKind, isErrorKind } from './catalogue';

/** What crosses the transport when a handler fails: the catalogue kind, a message and an optional detail. */
export interface WireError {
  kind: ErrorKind;
  message: string;
  detail?: unknown;
}

/** The one error type the registry throws for anything a client did or asked for. */
export class RegistryError extends Error {
  constructor(
    readonly kind: ErrorKind,
    message?: string,
    readonly detail?: unknown,
    /** HTTP headers the answer carries (WWW-Authenticate, Retry-After); they never cross the transport. */
    readonly headers?: Readonly<Record<string, string>>,
  ) {
    super(message ?? ERROR_CATALOGUE[kind].message);
    this.name = 'RegistryError';
  }

  get httpStatus(): number {
    return ERROR_CATALOGUE[this.kind].httpStatus;
  }

  get code(): string {
    return ERROR_CATALOGUE[this.kind].code;
  }

  toWire(): WireError {
    return this.detail === undefined
      ? { kind: this.kind, message: this.message }
      : { kind: this.kind, message: this.message, detail: this.detail };
  }

  static isWire(value: unknown): value is WireError {
    if (typeof value !== 'object' || value === null) return false;
    const candidate = value as Record<string, unknown>;
    return isErrorKind(candidate['kind']) && typeof candidate['message'] === 'string';
  }

  static fromWire(wire: WireError): RegistryError {
    return new RegistryError(wire.kind, wire.message, wire.detail);
  }

  /** Any thrown value as a RegistryError; unknown failures become UNKNOWN (500) without leaking internals. */
  static from(error: unknown): RegistryError {
    if (error instanceof RegistryError) return error;
    if (RegistryError.isWire(error)) return RegistryError.fromWire(error);
    return new RegistryError('UNKNOWN');
  }
}

/** Body of an error response, as the spec's error envelope. */
export interface ErrorEnvelope {
  errors: Array<{ code: string; message: string; detail?: unknown }>;
}

export function errorEnvelope(errors: RegistryError[]): ErrorEnvelope {
  return {
    errors: errors.map((e) =>
      e.detail === undefined ? { code: e.code, message: e.message } : { code: e.code, message: e.message, detail: e.detail },
    ),
  };
}

export function assertUnreachable(value: never): never {
  throw new Error(`unreachable: ${String(value)}`);
}
