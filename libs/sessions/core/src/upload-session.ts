import type { AppendState } from '@ocireg/storage';

/** A writer's claim on an upload while one request streams a chunk into it. */
export interface UploadLease {
  token: string;
  /** Epoch milliseconds after which the lease may be taken over (a crashed writer). */
  expiresAt: number;
}

/** Everything about an upload in progress. Lives only in the session store, so any replica can continue it. */
export interface UploadSession {
  id: string;
  repository: string;
  /** Content-store key the bytes are appended to; it becomes the blob's key on completion. */
  storageKey: string;
  /** Content-store append state (adapter specific JSON). `append.size` is the acknowledged offset. */
  append: AppendState;
  lease?: UploadLease;
  /** Incremented on every change; compareAndSet succeeds only against the version that was read. */
  version: number;
  /**
   * The upload is over (completed or cancelled) but its id must stay unknown: an id the registry signed
   * (see UploadIds in @ocireg/contracts) would otherwise be taken for an upload issued and never written to.
   */
  ended?: boolean;
  createdAt: number;
  updatedAt: number;
}

/** The upload-session port. Every adapter passes the shared contract suite. */
export interface UploadSessionStore {
  /**
   * Stores a new session (version as given) that expires after ttlSeconds without updates, unless one with its
   * id exists, which stays as it is: returns whether it stored it (atomically: of two racing creates one wins).
   */
  create(session: UploadSession, ttlSeconds: number): Promise<boolean>;
  get(id: string): Promise<UploadSession | undefined>;
  /**
   * Replaces the session if its stored version still equals expectedVersion, refreshing its TTL; the stored
   * version becomes next.version. Returns false (and changes nothing) when absent or changed meanwhile.
   */
  compareAndSet(id: string, expectedVersion: number, next: UploadSession, ttlSeconds: number): Promise<boolean>;
  /** Removes a session; returns whether it existed. */
  delete(id: string): Promise<boolean>;
  /** Checks the backend is reachable. */
  init(): Promise<void>;
  close(): Promise<void>;
}
