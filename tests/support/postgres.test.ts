/**
 * The PostgreSQL harness (tests/support/postgres-setup.ts and postgres.ts) works: fresh databases are
 * real, empty and distinct, and the TCP proxy forwards, cuts and restores connections like a database
 * that goes down and comes back, and stalls them like one that hangs. Without PostgreSQL binaries the
 * globalSetup warned (or, with CI=true, failed the run), so the tests only run when a server is there.
 */
import pg from 'pg';
import { afterEach, describe, expect, it } from 'vitest';
import { freshDatabaseUrl, postgresAvailable, startTcpProxy, type TcpProxy } from './postgres.ts';

describe.runIf(postgresAvailable())('PostgreSQL test harness', () => {
  const clients: pg.Client[] = [];
  const proxies: TcpProxy[] = [];

  async function connected(url: string): Promise<pg.Client> {
    const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 5_000 });
    client.on('error', () => {}); // tests that cut the connection look at the error themselves
    clients.push(client);
    await client.connect();
    return client;
  }

  async function proxyTo(url: string): Promise<TcpProxy> {
    const proxy = await startTcpProxy(url);
    proxies.push(proxy);
    return proxy;
  }

  afterEach(async () => {
    await Promise.all(clients.splice(0).map((c) => c.end().catch(() => {})));
    await Promise.all(proxies.splice(0).map((p) => p.close()));
  });

  it('gives a fresh, empty database that answers queries', async () => {
    const url = await freshDatabaseUrl();
    expect(url).toMatch(/^postgres:\/\/postgres@127\.0\.0\.1:\d+\/pvp_test_[0-9a-f]{16}$/);
    const client = await connected(url);
    expect((await client.query('select 1 as one')).rows).toEqual([{ one: 1 }]);
    const tables = await client.query(
      "select count(*)::int as n from information_schema.tables where table_schema = 'public'",
    );
    expect(tables.rows[0].n).toBe(0);
  });

  it('gives a distinct database on each call', async () => {
    const [first, second] = await Promise.all([freshDatabaseUrl(), freshDatabaseUrl()]);
    expect(first).not.toBe(second);
    const a = await connected(first ?? '');
    const b = await connected(second ?? '');
    await a.query('create table only_here (id int)');
    const seen = await b.query("select to_regclass('public.only_here') as t");
    expect(seen.rows[0].t).toBeNull();
    expect((await a.query('select current_database() as db')).rows[0].db).not.toBe(
      (await b.query('select current_database() as db')).rows[0].db,
    );
  });

  it('proxies, cuts and restores connections', async () => {
    const url = await freshDatabaseUrl();
    const proxy = await proxyTo(url);
    expect(proxy.url).toMatch(/^postgres:\/\/postgres@127\.0\.0\.1:\d+\/pvp_test_[0-9a-f]{16}$/);
    expect(new URL(proxy.url).port).not.toBe(new URL(url).port);

    const existing = await connected(proxy.url);
    expect((await existing.query('select 1 as one')).rows).toEqual([{ one: 1 }]);
    const inFlight = await connected(proxy.url);
    const sleeping = inFlight.query('select pg_sleep(30)');
    sleeping.catch(() => {});
    const existingError = new Promise<Error>((resolve) => existing.once('error', resolve));

    const cutAt = performance.now();
    proxy.cut();
    // The server side of the socket closes (FIN) or resets (RST, when the proxy had unread bytes).
    const dropped = /Connection terminated|ECONNRESET/;
    await expect(sleeping).rejects.toThrow(dropped);
    expect((await existingError).message).toMatch(dropped);
    await expect(existing.query('select 1')).rejects.toThrow();
    await expect(connected(proxy.url)).rejects.toThrow();
    expect(performance.now() - cutAt).toBeLessThan(2_000); // fails fast, no timeout involved

    proxy.restore();
    const later = await connected(proxy.url);
    expect((await later.query('select 2 as two')).rows).toEqual([{ two: 2 }]);
  });

  it('stalls connections, open and new, and lets them go on restore', async () => {
    const proxy = await proxyTo(await freshDatabaseUrl());
    const open = await connected(proxy.url);
    proxy.stall();
    const settled = { query: false, connect: false };
    const query = open.query('select 1 as one').finally(() => {
      settled.query = true;
    });
    const connecting = connected(proxy.url).finally(() => {
      settled.connect = true;
    });
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(settled).toEqual({ query: false, connect: false });
    proxy.restore();
    expect((await query).rows).toEqual([{ one: 1 }]);
    expect((await (await connecting).query('select 2 as two')).rows).toEqual([{ two: 2 }]);
  });
});
