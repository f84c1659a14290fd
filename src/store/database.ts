/**
 * One SQL dialect, PostgreSQL, behind two engines: PGlite (PostgreSQL compiled to WASM, in a data
 * directory, so `npm start` needs nothing else) and a PostgreSQL server through a node-postgres pool
 * (`DATABASE_URL`, for several replicas). Everything above this module sees only `Database`.
 */
import { type ChildProcess, fork } from 'node:child_process';
import { once } from 'node:events';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import pg from 'pg';
import type { Reply, Request, Statement, WorkerData } from './embedded-worker.ts';

export interface Queryable {
  query<Row>(sql: string, params?: unknown[]): Promise<Row[]>;
  /** Several statements without parameters (a migration). */
  script(sql: string): Promise<void>;
}

export interface Database extends Queryable {
  readonly engine: 'embedded' | 'postgres';
  /** Runs `work` in one transaction: committed when it resolves, rolled back when it throws. */
  transaction<T>(work: (tx: Queryable) => Promise<T>): Promise<T>;
  /**
   * The statements in one transaction, none depending on another's rows: for the embedded engine one
   * message to its thread and one reply, where `transaction` takes a round trip per step, each waking
   * the other thread (5.6% of a FHIR-fallback hook's CPU on this machine when every answer was a batch).
   */
  atomically(statements: readonly Statement[]): Promise<void>;
  close(): Promise<void>;
}

/** The database could not be reached or failed: a transient 503 for callers, never their fault. */
export class StoreUnavailable extends Error {
  override name = 'StoreUnavailable';
}

/** A wait for the database ran out (for a connection, or for a statement's answer): it hangs. */
class DatabaseHung extends StoreUnavailable {}

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

/** An error of the embedded database, as its thread reported it (name, message, SQLSTATE). */
function embeddedError(reported: { name: string; message: string; code?: string }): Error {
  const error = new Error(reported.message);
  error.name = reported.name;
  if (reported.code) Object.assign(error, { code: reported.code });
  return error;
}

function embeddedWorker(data: WorkerData): Worker {
  return new Worker(new URL('./embedded-worker.ts', import.meta.url), { workerData: data });
}

/**
 * A new data directory is created (initdb) by a process of its own, which has exited before the
 * database is opened: creating it takes about 400 MB that PGlite's memory, which never shrinks, would
 * keep for the life of the process, and a thread of ours that did it left about 90 MB to the process
 * after it ended (bench/README.md, "Memory of the embedded database"). The process gets no
 * environment and none of our Node options: it needs neither, and they may hold secrets.
 */
async function initialise(dataDir: string): Promise<void> {
  const child = fork(fileURLToPath(new URL('./embedded-worker.ts', import.meta.url)), [dataDir], {
    env: {},
    execArgv: [],
    stdio: ['ignore', 'ignore', 'ignore', 'ipc'],
  });
  try {
    await opened(child);
    if (child.exitCode === null) await once(child, 'exit');
  } catch (error) {
    child.kill();
    const { name, code } = error as { name: string; code?: string };
    throw new Error(
      `DATA_DIR ${dataDir}: the embedded database could not be created there (${name}${code ? ` ${code}` : ''})`,
    );
  }
}

/**
 * Waits for the first message of the database's thread, or of the process creating its directory: the
 * database is open (or created), or why it is not.
 */
async function opened(worker: Worker | ChildProcess): Promise<void> {
  const reply = await new Promise<Reply>((resolve, reject) => {
    worker.once('message', (reply: Reply) => resolve(reply));
    worker.once('error', (error) =>
      reject(new StoreUnavailable(`the embedded database failed: ${error.name}`)),
    );
    worker.once('exit', () => reject(new StoreUnavailable('the embedded database is closed')));
  });
  if (!reply.ok) throw embeddedError(reply.error);
}

/**
 * The embedded engine in `dataDir`, or in memory for `memory://`, in a worker thread of its own
 * (src/store/embedded-worker.ts): PGlite's statements do not take the event loop's time.
 */
export async function openEmbedded(dataDir: string): Promise<Database> {
  const unlock = dataDir === 'memory://' ? () => undefined : lockDataDir(dataDir);
  let worker: Worker | undefined;
  try {
    if (dataDir !== 'memory://' && !existsSync(join(dataDir, 'PG_VERSION'))) await initialise(dataDir);
    worker = embeddedWorker({ dataDir });
    await opened(worker);
  } catch (error) {
    await worker?.terminate();
    unlock();
    throw error;
  }
  const pending = new Map<number, { resolve: (rows: unknown[]) => void; reject: (error: Error) => void }>();
  let nextId = 1;
  let closed = false;
  const gone = (error: Error) => {
    closed = true;
    for (const { reject } of pending.values()) reject(error);
    pending.clear();
  };
  worker.on('message', (reply: Reply) => {
    const waiting = pending.get(reply.id);
    if (!waiting) return;
    pending.delete(reply.id);
    if (reply.ok) waiting.resolve(reply.rows ?? []);
    else if (reply.closed) {
      closed = true;
      waiting.reject(new StoreUnavailable('the embedded database is closed'));
    } else waiting.reject(embeddedError(reply.error));
  });
  worker.on('error', (error) => gone(new StoreUnavailable(`the embedded database failed: ${error.name}`)));
  worker.on('exit', () => gone(new StoreUnavailable('the embedded database is closed')));
  const send = (request: DistributiveOmit<Request, 'id'>): Promise<unknown[]> => {
    if (closed) return Promise.reject(new StoreUnavailable('the embedded database is closed'));
    const id = nextId++;
    return new Promise((resolve, reject) => {
      pending.set(id, { resolve, reject });
      worker.postMessage({ ...request, id });
    });
  };
  const on = (tx?: number): Queryable => ({
    query: async <Row>(sql: string, params?: unknown[]) =>
      (await send({ op: 'query', sql, ...(params ? { params } : {}), ...(tx ? { tx } : {}) })) as Row[],
    script: async (sql) => {
      await send({ op: 'exec', sql, ...(tx ? { tx } : {}) });
    },
  });
  return {
    engine: 'embedded',
    ...on(),
    async transaction(work) {
      const [tx] = (await send({ op: 'begin' })) as [number];
      let result: Awaited<ReturnType<typeof work>>;
      try {
        result = await work(on(tx));
      } catch (error) {
        await send({ op: 'end', tx, commit: false }).catch(() => undefined);
        throw error;
      }
      await send({ op: 'end', tx, commit: true });
      return result;
    },
    async atomically(statements) {
      await send({ op: 'atomically', statements: [...statements] });
    },
    async close() {
      if (!closed) await send({ op: 'close' });
      closed = true;
      await worker.terminate();
      unlock();
    },
  };
}

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;

export interface PostgresOptions {
  url: string;
  poolSize: number;
  /** Longest wait for a connection and longest statement: a database that hangs is a failure. */
  timeoutMs: number;
  onError(error: Error): void;
  /** The database stopped answering within `timeoutMs` (true), or answers again (false). */
  onHang?(hanging: boolean): void;
  /** Pause between two background checks of a database that hangs (default 500 ms). */
  probePauseMs?: number;
}

function unavailable(error: unknown): never {
  if (error instanceof StoreUnavailable) throw error;
  const code = (error as { code?: unknown }).code;
  // node-postgres' own timeouts (the pool's wait for a connection, the connection's, the statement's
  // read) carry no SQLSTATE: the server sent nothing. A statement the server cancels is 57014.
  if (code === undefined && error instanceof Error && /timeout/i.test(error.message))
    throw new DatabaseHung('database unavailable (no answer within its timeout)');
  // SQLSTATE classes 08 (connection), 53 (resources), 57 (operator intervention: shutdown, timeout)
  // and Node's socket errors mean the database, not the statement, failed.
  if (typeof code === 'string' && /^(08|53|57)|^E[A-Z]+$/.test(code))
    throw new StoreUnavailable(`database unavailable (${code})`);
  if (error instanceof Error && /timeout|terminat|Connection/i.test(error.message))
    throw new StoreUnavailable('database unavailable');
  throw error;
}

/**
 * A database that hangs answers nothing, not even an error, so each statement would wait out the
 * timeout and every hook call would be that much late. Once a wait has run out, the statements that
 * follow fail at once as unavailable, while one `SELECT 1` at a time, in the background, finds out
 * when the database answers again; its first answer lets statements through again. A statement that
 * is only slow does not count: the server cancels it first (`statement_timeout` is 90% of the
 * timeout) and so answers.
 */
function hangGuard(probe: () => Promise<unknown>, options: Pick<PostgresOptions, 'onHang' | 'probePauseMs'>) {
  const pauseMs = options.probePauseMs ?? 500;
  let hanging = false;
  let closed = false;
  const watch = async () => {
    while (!closed) {
      try {
        await probe();
      } catch {
        await sleep(pauseMs, undefined, { ref: false });
        continue;
      }
      hanging = false;
      options.onHang?.(false);
      return;
    }
  };
  return {
    async guarded<T>(work: () => Promise<T>): Promise<T> {
      if (hanging)
        throw new StoreUnavailable('database unavailable (not answering; checked in the background)');
      try {
        return await work();
      } catch (error) {
        if (error instanceof DatabaseHung && !hanging && !closed) {
          hanging = true;
          options.onHang?.(true);
          void watch();
        }
        throw error;
      }
    },
    close() {
      closed = true;
    },
  };
}

export function openPostgres(options: PostgresOptions): Database {
  const pool = new pg.Pool({
    connectionString: options.url,
    max: options.poolSize,
    connectionTimeoutMillis: options.timeoutMs,
    query_timeout: options.timeoutMs,
    statement_timeout: Math.floor(options.timeoutMs * 0.9),
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
  const { guarded, close } = hangGuard(() => pool.query('SELECT 1'), options);
  const transaction = async <T>(work: (tx: Queryable) => Promise<T>): Promise<T> => {
    const client = await pool.connect().catch(unavailable);
    // A checked-out client has no pool listener: its connection dying between statements would
    // otherwise be an uncaught 'error' event that ends the process. The statement in flight fails.
    let lost: Error | undefined;
    const onLost = (error: Error) => {
      lost = error;
      options.onError(error);
    };
    client.on('error', onLost);
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
      // A connection that hangs is not asked for a rollback (another wait): it is closed, and the
      // server rolls the transaction back.
      broken =
        error instanceof DatabaseHung
          ? error
          : await client.query('ROLLBACK').then(
              () => undefined,
              (rollbackError: unknown) => rollbackError,
            );
      throw error;
    } finally {
      client.removeListener('error', onLost);
      client.release(lost ?? (broken instanceof Error ? broken : undefined));
    }
  };
  return {
    engine: 'postgres',
    query: (sql, params) => guarded(() => run(pool, sql, params)),
    script: (sql) => guarded(() => script(pool, sql)),
    transaction: (work) => guarded(() => transaction(work)),
    atomically: (statements) =>
      guarded(() =>
        transaction(async (tx) => {
          for (const { sql, params } of statements) await tx.query(sql, params);
        }),
      ),
    close: () => {
      close();
      return pool.end();
    },
  };
}
