/**
 * Helpers for tests against the real PostgreSQL server that tests/support/postgres-setup.ts (vitest
 * globalSetup) starts: each test file or test takes its own empty database, and can put a TCP proxy
 * between its code and the server to make "the database goes down" happen on demand.
 *
 * Without PostgreSQL binaries (and CI not true) the globalSetup warned and provided '': wrap the tests in
 * `describe.runIf(postgresAvailable())`.
 */
import { randomBytes } from 'node:crypto';
import { type AddressInfo, connect, createServer, type Socket } from 'node:net';
import pg from 'pg';
import { inject } from 'vitest';

/** Whether the globalSetup started a PostgreSQL server. */
export function postgresAvailable(): boolean {
  return inject('postgresAdminUrl') !== '';
}

/**
 * Creates a new empty database `pvp_test_<random hex>` on the test server and returns its URL,
 * `postgres://postgres@127.0.0.1:<port>/pvp_test_…`. The databases live until the server stops.
 */
export async function freshDatabaseUrl(): Promise<string> {
  const adminUrl = inject('postgresAdminUrl');
  if (!adminUrl) {
    throw new Error('no PostgreSQL test server (see the warning of tests/support/postgres-setup.ts)');
  }
  const name = `pvp_test_${randomBytes(8).toString('hex')}`;
  const client = new pg.Client({ connectionString: adminUrl });
  await client.connect();
  try {
    await client.query(`CREATE DATABASE "${name}"`);
  } finally {
    await client.end();
  }
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return url.toString();
}

/** Its methods do not use `this`: they may be passed around unbound (`{ cut: proxy.cut }`). */
export interface TcpProxy {
  /** `targetUrl` with host and port replaced by the proxy's, `127.0.0.1:<port>`. */
  readonly url: string;
  /**
   * Like a database that went down: destroys every open connection (both sides), and from now on closes
   * each new connection as soon as it is accepted, until `restore()`.
   */
  cut(): void;
  /** Forwards new connections again. */
  restore(): void;
  /** Destroys every connection and stops listening. */
  close(): Promise<void>;
}

/** A TCP proxy on 127.0.0.1 and a free port to the host and port of `targetUrl` (e.g. a database URL). */
export async function startTcpProxy(targetUrl: string): Promise<TcpProxy> {
  const target = new URL(targetUrl);
  const targetHost = target.hostname.replace(/^\[(.*)\]$/, '$1');
  const targetPort = Number(target.port || 5432);
  const sockets = new Set<Socket>();
  let down = false;

  const track = (socket: Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  };

  const server = createServer((client) => {
    client.on('error', () => {});
    if (down) {
      client.destroy();
      return;
    }
    track(client);
    const upstream = connect(targetPort, targetHost);
    track(upstream);
    upstream.on('error', () => client.destroy());
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
    client.pipe(upstream);
    upstream.pipe(client);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });

  const url = new URL(targetUrl);
  url.hostname = '127.0.0.1';
  url.port = String((server.address() as AddressInfo).port);

  const destroyAll = () => {
    for (const socket of sockets) socket.destroy();
    sockets.clear();
  };

  return {
    url: url.toString(),
    cut() {
      down = true;
      destroyAll();
    },
    restore() {
      down = false;
    },
    close() {
      down = true;
      destroyAll();
      return new Promise<void>((resolve, reject) =>
        server.close((error) => (error ? reject(error) : resolve())),
      );
    },
  };
}
