import { Redis } from 'ioredis';

/** How an adapter reaches Redis: a client of the caller's, or a URL (whose values win over the parts) or its parts. */
export interface RedisConnectionOptions {
  /** An existing client to use instead of opening one. It is left open by close(): its owner closes it. */
  client?: Redis;
  /** `redis://[:password@]host[:port][/db]`. Values in the URL take precedence over host/port/password/db. */
  url?: string;
  host?: string;
  port?: number;
  password?: string;
  db?: number;
}

/**
 * The Redis client of an adapter (the upload session store, the login failure limiter): the caller's, or one
 * of its own that connects on open() (lazily: constructing it touches nothing) and quits on close().
 */
export class RedisConnection {
  readonly client: Redis;
  private readonly owned: boolean;
  private closing: Promise<void> | undefined;

  constructor(options: RedisConnectionOptions) {
    if (options.client) {
      this.client = options.client;
      this.owned = false;
      return;
    }
    const connection = {
      lazyConnect: true,
      ...(options.host !== undefined && { host: options.host }),
      ...(options.port !== undefined && { port: options.port }),
      ...(options.password !== undefined && { password: options.password }),
      ...(options.db !== undefined && { db: options.db }),
    };
    this.client = options.url !== undefined ? new Redis(options.url, connection) : new Redis(connection);
    this.owned = true;
  }

  /** Connects (when not yet connected) and checks that Redis answers. */
  async open(): Promise<void> {
    if (this.client.status === 'wait') {
      await this.client.connect();
    }
    await this.client.ping();
  }

  /** Quits the adapter's own client, once however often it is called; a caller's client is left open. */
  async close(): Promise<void> {
    if (this.owned) {
      this.closing ??= this.quit();
      await this.closing;
    }
  }

  private async quit(): Promise<void> {
    if (this.client.status === 'end' || this.client.status === 'close') {
      return;
    }
    if (this.client.status === 'wait') {
      // Never connected (lazyConnect): nothing to say goodbye to.
      this.client.disconnect();
      return;
    }
    await this.client.quit();
  }
}

/** Base of the Redis adapters: one connection (see RedisConnection), opened by init() and closed by close(). */
export abstract class RedisAdapter {
  protected readonly client: Redis;
  private readonly connection: RedisConnection;

  constructor(options: RedisConnectionOptions) {
    this.connection = new RedisConnection(options);
    this.client = this.connection.client;
  }

  init(): Promise<void> {
    return this.connection.open();
  }

  close(): Promise<void> {
    return this.connection.close();
  }
}
