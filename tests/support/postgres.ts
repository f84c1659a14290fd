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
  /**
   * Like a database that hangs (a frozen server, a network path that drops every packet): every
   * connection, open or new, stays open and nothing passes in either direction, until `restore()`.
   */
  stall(): void;
  /** Forwards again: new connections, and what stalled connections held back. */
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
  /** Connections forwarded, to hold back while stalled and let go on restore. */
  const pairs = new Set<[Socket, Socket]>();
  /** Connections accepted while stalled, to forward on restore. */
  const held = new Set<Socket>();
  let state: 'forwarding' | 'down' | 'stalled' = 'forwarding';

  const track = (socket: Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  };

  const flow = (pair: [Socket, Socket]) => {
    pair[0].pipe(pair[1]);
    pair[1].pipe(pair[0]);
  };
  const holdBack = ([client, upstream]: [Socket, Socket]) => {
    client.unpipe(upstream);
    upstream.unpipe(client);
    client.pause();
    upstream.pause();
  };

  const forward = (client: Socket) => {
    const upstream = connect(targetPort, targetHost);
    track(upstream);
    const pair: [Socket, Socket] = [client, upstream];
    pairs.add(pair);
    upstream.on('error', () => client.destroy());
    client.on('close', () => {
      pairs.delete(pair);
      upstream.destroy();
    });
    upstream.on('close', () => client.destroy());
    flow(pair);
  };

  const server = createServer((client) => {
    client.on('error', () => {});
    if (state === 'down') {
      client.destroy();
      return;
    }
    track(client);
    if (state === 'forwarding') {
      forward(client);
      return;
    }
    client.pause();
    held.add(client);
    client.on('close', () => held.delete(client));
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
      state = 'down';
      destroyAll();
    },
    stall() {
      state = 'stalled';
      for (const pair of pairs) holdBack(pair);
    },
    restore() {
      const wasStalled = state === 'stalled';
      state = 'forwarding';
      if (!wasStalled) return;
      for (const pair of pairs) flow(pair);
      for (const client of held) forward(client);
      held.clear();
    },
    close() {
      state = 'down';
      destroyAll();
      return new Promise<void>((resolve, reject) =>
        server.close((error) => (error ? reject(error) : resolve())),
      );
    },
  };
}
