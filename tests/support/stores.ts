/**
 * The two storage engines the same tests run on: the embedded PostgreSQL (PGlite in a data directory of
 * the test's own) and the PostgreSQL server the globalSetup started (a fresh database per store). Each
 * `place()` is a new empty database; opening a store on the same place again is a restart.
 */
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../../src/config.ts';
import type { Logger } from '../../src/observability/logger.ts';
import { createLogger } from '../../src/observability/logger.ts';
import { type Database, openEmbedded, StoreUnavailable } from '../../src/store/database.ts';
import { openStore, type Store } from '../../src/store/store.ts';
import { freshDatabaseUrl, postgresAvailable, startTcpProxy } from './postgres.ts';

export type StoreEnv = Record<string, string>;

export interface Backend {
  name: 'embedded' | 'postgres';
  /** A new empty database: the environment that points the service at it. */
  place(): Promise<StoreEnv>;
}

export const embedded: Backend = {
  name: 'embedded',
  place: async () => ({ DATA_DIR: await mkdtemp(join(tmpdir(), 'pvp-cds-data-')) }),
};

export const postgres: Backend = {
  name: 'postgres',
  place: async () => ({ DATABASE_URL: await freshDatabaseUrl() }),
};

/** Both engines where PostgreSQL is installed (always in CI); the embedded one alone otherwise. */
export function backends(): Backend[] {
  return postgresAvailable() ? [embedded, postgres] : [embedded];
}

export function openTestStore(
  env: StoreEnv,
  options: { now?: () => Date; logger?: Logger; db?: Database } = {},
): Promise<Store> {
  return openStore(
    loadConfig({ ...env, DATABASE_TIMEOUT_MS: '1000' }),
    options.logger ?? createLogger('silent'),
    {
      ...(options.now ? { now: options.now } : {}),
      ...(options.db ? { db: options.db } : {}),
    },
  );
}

/** A database that can be taken down and brought back while a store uses it. */
export interface Outage {
  /** The environment to open the store with. */
  env: StoreEnv;
  /** The database to open the store on, when the outage is a switch in front of it. */
  db?: Database;
  cut(): void;
  restore(): void;
  close(): Promise<void>;
}

/**
 * For a PostgreSQL server, a TCP proxy between the pool and the server: cut, every connection drops and
 * new ones are refused, as when the server goes down. The embedded engine runs inside the process and
 * cannot go down alone: a switch in front of it makes every statement fail as a lost database would.
 */
export async function outageFor(place: StoreEnv): Promise<Outage> {
  if (place.DATABASE_URL) {
    const proxy = await startTcpProxy(place.DATABASE_URL);
    return { env: { DATABASE_URL: proxy.url }, cut: proxy.cut, restore: proxy.restore, close: proxy.close };
  }
  const real = await openEmbedded(place.DATA_DIR ?? 'memory://');
  let down = false;
  const check = () => {
    if (down) throw new StoreUnavailable('database unavailable (test outage)');
  };
  const db: Database = {
    engine: real.engine,
    query: async (sql, params) => {
      check();
      return real.query(sql, params);
    },
    script: async (sql) => {
      check();
      return real.script(sql);
    },
    transaction: async (work) => {
      check();
      return real.transaction(work);
    },
    atomically: async (statements) => {
      check();
      return real.atomically(statements);
    },
    close: () => real.close(),
  };
  return {
    env: place,
    db,
    cut: () => {
      down = true;
    },
    restore: () => {
      down = false;
    },
    close: async () => undefined,
  };
}

/** `db` with each statement sent through `query` recorded in `statements`: the round trips a change saves. */
export function countingStatements(db: Database): { db: Database; statements: string[] } {
  const statements: string[] = [];
  const counted: Database = {
    ...db,
    query: (sql, params) => {
      statements.push(sql);
      return db.query(sql, params);
    },
  };
  return { db: counted, statements };
}
