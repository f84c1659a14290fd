/**
 * The embedded database's own thread: PGlite (PostgreSQL compiled to WASM) runs its statements here,
 * so that its CPU (a quarter of a hook's, when every card is recorded) is not the event loop's that
 * answers the hooks. The parent (`openEmbedded` in database.ts) sends statements, transaction steps or a
 * whole transaction's statements as messages and receives rows or an error's name, message and SQLSTATE.
 * Run as a process of its own (`node embedded-worker.ts <dataDir>`, with an IPC channel), it creates a
 * new data directory, says so and exits (database.ts `initialise`).
 */
import { setFlagsFromString } from 'node:v8';
import { parentPort, workerData } from 'node:worker_threads';
import { PGlite, type Transaction } from '@electric-sql/pglite';

export type Request =
  | { id: number; op: 'query'; sql: string; params?: unknown[]; tx?: number }
  | { id: number; op: 'exec'; sql: string; tx?: number }
  | { id: number; op: 'begin' }
  | { id: number; op: 'atomically'; statements: Statement[] }
  | { id: number; op: 'end'; tx: number; commit: boolean }
  | { id: number; op: 'close' };

/** A statement with its parameters, for a list run in one transaction. */
export interface Statement {
  sql: string;
  params?: unknown[];
}

export interface WorkerData {
  dataDir: string;
}

export type Reply =
  | { id: number; ok: true; rows?: unknown[] }
  | { id: number; ok: false; error: { name: string; message: string; code?: string }; closed: boolean };

/** A process of its own only creates the data directory named by its argument. */
const initialiseOnly = parentPort === null;
/**
 * The first reply (open, created, or why not): to the thread's parent, or as a process over its IPC
 * channel, which is then closed so that the process ends.
 */
const firstReply = (reply: Reply) =>
  parentPort ? parentPort.postMessage(reply) : process.send?.(reply, () => process.disconnect());
if (initialiseOnly && (!process.send || !process.argv[2]))
  throw new Error(
    'embedded-worker.ts runs as a worker thread, or as a process with an IPC channel and a data directory',
  );

class RolledBack extends Error {}

// Memory (bench/README.md, "Memory of the embedded database"): V8's optimising compiler, tiering up
// PostgreSQL's hot functions, took about 500 MB for a moment at every start (a service reopening its
// data directory peaked at 916 MB; 231 MB with the baseline compiler only) and kept part of it. The
// ledger's writes go about 30% slower (about 2900 answers/s alone, twice the hooks this machine
// answers). Wasm only, no JavaScript is affected; set before PGlite compiles its module. 16 MB of
// shared buffers instead of 128 for the ledger's few small tables: the operating system's page cache
// keeps the files read.
setFlagsFromString('--liftoff-only --no-wasm-tier-up --no-wasm-dynamic-tiering');
const dataDir = initialiseOnly ? (process.argv[2] as string) : (workerData as WorkerData).dataDir;
const open = PGlite.create(dataDir, {
  startParams: [...PGlite.defaultStartParams, '-c', 'shared_buffers=16MB'],
});
/** Open transactions: the handle, how to end it, and the error that ended it (undefined: as asked). */
const transactions = new Map<
  number,
  { tx: Transaction; end: (commit: boolean) => void; finished: Promise<unknown> }
>();
let nextTx = 1;

function failure(id: number, error: unknown, closed: boolean): Reply {
  const { name, message, code } = error as { name?: unknown; message?: unknown; code?: unknown };
  return {
    id,
    ok: false,
    closed,
    error: {
      name: typeof name === 'string' ? name : 'Error',
      message: typeof message === 'string' ? message : String(error),
      ...(typeof code === 'string' ? { code } : {}),
    },
  };
}

async function handle(db: PGlite, request: Request): Promise<Reply> {
  switch (request.op) {
    case 'query': {
      const on = request.tx === undefined ? db : transactions.get(request.tx)?.tx;
      if (!on) throw new Error('no such transaction');
      return { id: request.id, ok: true, rows: (await on.query(request.sql, request.params)).rows };
    }
    case 'exec': {
      const on = request.tx === undefined ? db : transactions.get(request.tx)?.tx;
      if (!on) throw new Error('no such transaction');
      await on.exec(request.sql);
      return { id: request.id, ok: true };
    }
    case 'begin': {
      const txId = nextTx++;
      return new Promise<Reply>((begun) => {
        let started = false;
        let finish: (error: unknown) => void = () => undefined;
        const finished = new Promise<unknown>((resolve) => {
          finish = resolve;
        });
        db.transaction(
          (tx) =>
            new Promise<void>((resolve, reject) => {
              started = true;
              transactions.set(txId, {
                tx,
                finished,
                end: (commit) => (commit ? resolve() : reject(new RolledBack())),
              });
              begun({ id: request.id, ok: true, rows: [txId] });
            }),
        ).then(
          () => finish(undefined),
          (error: unknown) => {
            if (started) finish(error instanceof RolledBack ? undefined : error);
            else begun(failure(request.id, error, db.closed));
          },
        );
      });
    }
    case 'atomically':
      await db.transaction(async (tx) => {
        for (const { sql, params } of request.statements) await tx.query(sql, params);
      });
      return { id: request.id, ok: true };
    case 'end': {
      const open = transactions.get(request.tx);
      if (!open) throw new Error('no such transaction');
      open.end(request.commit);
      const error = await open.finished;
      transactions.delete(request.tx);
      if (error !== undefined) return failure(request.id, error, db.closed);
      return { id: request.id, ok: true };
    }
    case 'close':
      await db.close();
      return { id: request.id, ok: true };
  }
}

open.then(
  async (db) => {
    if (!parentPort) {
      await db.close();
      firstReply({ id: 0, ok: true });
      return;
    }
    const port = parentPort;
    port.on('message', (request: Request) => {
      handle(db, request).then(
        (reply) => port.postMessage(reply),
        (error: unknown) => port.postMessage(failure(request.id, error, db.closed)),
      );
    });
    firstReply({ id: 0, ok: true });
  },
  (error: unknown) => firstReply(failure(0, error, true)),
);
