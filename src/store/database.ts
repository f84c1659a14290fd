/**
 * One SQL dialect, PostgreSQL, behind two engines: PGlite (PostgreSQL compiled to WASM, in a data
 * directory, so `npm start` needs nothing else) and a PostgreSQL server through a node-postgres pool
 * (`DATABASE_URL`, for several replicas). Everything above this module sees only `Database`.
 */
import { closeSync, mkdirSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import pg from 'pg';

export interface Queryable {
  query<Row>(sql: string, params?: unknown[]): Promise<Row[]>;
  /** Several statements without parameters (a migration). */
  script(sql: string): Promise<void>;
}

export interface Database extends Queryable {
  readonly engine: 'embedded' | 'postgres';
  /** Runs `work` in one transaction: committed when it resolves, rolled back when it throws. */
  transaction<T>(work: (tx: Queryable) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

/** The database could not be reached or failed: a transient 503 for callers, never their fault. */
export class StoreUnavailable extends Error {
  override name = 'StoreUnavailable';
}

const lockName = 'pvp-cds.lock';
/** Data directories this process holds: a lock naming our own pid is stale only if it is not here. */
const heldHere = new Set<string>();

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * PGlite has one writer: a second process (or a second instance in this one) on the same directory
 * would corrupt it. A lock file with the owner's pid keeps it out; a lock left by a process that has
 * died is taken over.
 */
function lockDataDir(dataDir: string): () => void {
  mkdirSync(dataDir, { recursive: true });
  const path = join(dataDir, lockName);
  if (heldHere.has(path)) throw new Error(`DATA_DIR ${dataDir} is already open in this process`);
  for (let attempt = 0; attempt < 2; attempt += 1) {
    try {
      const fd = openSync(path, 'wx');
      writeSync(fd, String(process.pid));
      closeSync(fd);
      heldHere.add(path);
      return () => {
        heldHere.delete(path);
        rmSync(path, { force: true });
      };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      // A container restarts with the same pid: our own pid in the lock is a crashed predecessor's.
      const owner = Number(readFileSync(path, 'utf8'));
      if (Number.isInteger(owner) && owner !== process.pid && processAlive(owner)) {
        throw new Error(
          `DATA_DIR ${dataDir} is in use by process ${owner}; an embedded database has one owner`,
        );
      }
      rmSync(path, { force: true });
    }
  }
  throw new Error(`DATA_DIR ${dataDir}: could not take its lock file`);
}

/** The embedded engine in `dataDir`, or in memory for `memory://`. */
export async function openEmbedded(dataDir: string): Promise<Database> {
  const unlock = dataDir === 'memory://' ? () => undefined : lockDataDir(dataDir);
  let db: PGlite;
  try {
    db = await PGlite.create(dataDir);
  } catch (error) {
    unlock();
    throw error;
  }
  const run = async <Row>(q: Pick<PGlite, 'query'>, sql: string, params?: unknown[]) => {
    try {
      return (await q.query<Row>(sql, params)).rows;
    } catch (error) {
      if (db.closed) throw new StoreUnavailable('the embedded database is closed');
      throw error;
    }
  };
  const script = async (q: Pick<PGlite, 'exec'>, sql: string) => {
    await q.exec(sql);
  };
  return {
    engine: 'embedded',
    query: (sql, params) => run(db, sql, params),
    script: (sql) => script(db, sql),
    transaction: (work) =>
      db.transaction((tx) =>
        work({ query: (sql, params) => run(tx, sql, params), script: (sql) => script(tx, sql) }),
      ),
    async close() {
      await db.close();
      unlock();
    },
  };
}

export interface PostgresOptions {
  url: string;
  poolSize: number;
  /** Longest wait for a connection and longest statement: a database that hangs is a failure. */
  timeoutMs: number;
  onError(error: Error): void;
}

function unavailable(error: unknown): never {
  if (error instanceof StoreUnavailable) throw error;
  const code = (error as { code?: unknown }).code;
  // SQLSTATE classes 08 (connection), 53 (resources), 57 (operator intervention: shutdown, timeout)
  // and Node's socket errors mean the database, not the statement, failed.
  if (typeof code === 'string' && /^(08|53|57)|^E[A-Z]+$/.test(code))
    throw new StoreUnavailable(`database unavailable (${code})`);
  if (error instanceof Error && /timeout|terminat|Connection/i.test(error.message))
    throw new StoreUnavailable('database unavailable');
  throw error;
}

export function openPostgres(options: PostgresOptions): Database {
  const pool = new pg.Pool({
    connectionString: options.url,
    max: options.poolSize,
    connectionTimeoutMillis: options.timeoutMs,
    query_timeout: options.timeoutMs,
    statement_timeout: options.timeoutMs,
    idleTimeoutMillis: 30_000,
    application_name: 'pvp-cds',
  });
  // An idle client losing its connection must not crash the process: the pool replaces it.
  pool.on('error', options.onError);
  const run = async <Row>(q: pg.Pool | pg.PoolClient, sql: string, params?: unknown[]) => {
    try {
      return (await q.query(sql, params)).rows as Row[];
    } catch (error) {
      return unavailable(error);
    }
  };
  const script = async (q: pg.Pool | pg.PoolClient, sql: string) => {
    await run(q, sql);
  };
  return {
    engine: 'postgres',
    query: (sql, params) => run(pool, sql, params),
    script: (sql) => script(pool, sql),
    async transaction(work) {
      const client = await pool.connect().catch(unavailable);
      let broken: unknown;
      try {
        await run(client, 'BEGIN');
        const result = await work({
          query: (sql, params) => run(client, sql, params),
          script: (sql) => script(client, sql),
        });
        await run(client, 'COMMIT');
        return result;
      } catch (error) {
        broken = await client.query('ROLLBACK').then(
          () => undefined,
          (rollbackError: unknown) => rollbackError,
        );
        throw error;
      } finally {
        client.release(broken instanceof Error ? broken : undefined);
      }
    },
    close: () => pool.end(),
  };
}
