/**
 * A PostgreSQL server whose connection dies while a transaction holds it, between two statements: the
 * transaction fails as "database unavailable", the process does not crash (node-postgres emits the
 * error on the checked-out client, which the pool no longer listens to), and the next statement after
 * the outage works again. A server that hangs instead is waited for once: then statements fail at once
 * until a check in the background finds it answering; a statement that is only slow is no hang.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, describe, expect, it } from 'vitest';
import { type Database, openPostgres, StoreUnavailable } from '../../src/store/database.ts';
import type { Store } from '../../src/store/store.ts';
import { postgresAvailable, startTcpProxy } from '../support/postgres.ts';
import { openTestStore, outageFor, postgres } from '../support/stores.ts';

describe.runIf(postgresAvailable())('a PostgreSQL connection lost inside a transaction', () => {
  const opened: Store[] = [];
  afterAll(async () => {
    await Promise.all(opened.map((store) => store.close()));
  });

  it('fails that transaction and keeps the process', async () => {
    const outage = await outageFor(await postgres.place());
    const store = await openTestStore(outage.env);
    opened.push(store);
    const uncaught: unknown[] = [];
    const onUncaught = (error: unknown) => uncaught.push(error);
    process.on('uncaughtException', onUncaught);
    try {
      const work = store.db.transaction(async (tx) => {
        await tx.query('SELECT 1');
        outage.cut();
        await sleep(300);
        return tx.query('SELECT 2');
      });
      await expect(work).rejects.toBeInstanceOf(StoreUnavailable);
      await sleep(100);
      expect(uncaught).toEqual([]);
      outage.restore();
      expect(await store.db.query<{ one: number }>('SELECT 1 AS one')).toEqual([{ one: 1 }]);
    } finally {
      process.off('uncaughtException', onUncaught);
      outage.restore();
      await outage.close();
    }
  });
});

describe.runIf(postgresAvailable())('a PostgreSQL server that hangs', () => {
  const timeoutMs = 500;
  const opened: Database[] = [];
  afterAll(async () => {
    await Promise.all(opened.map((db) => db.close()));
  });

  const open = (url: string, onHang: (hanging: boolean) => void = () => undefined) => {
    const db = openPostgres({
      url,
      poolSize: 4,
      timeoutMs,
      onError: () => undefined,
      onHang,
      probePauseMs: 50,
    });
    opened.push(db);
    return db;
  };
  const timed = async (work: Promise<unknown>) => {
    const started = performance.now();
    const outcome = await work.then(
      () => 'answered',
      (error: unknown) => error,
    );
    return { outcome, ms: performance.now() - started };
  };

  it('is waited for once; then statements fail at once, until it answers again', async () => {
    const proxy = await startTcpProxy((await postgres.place()).DATABASE_URL as string);
    const changes: boolean[] = [];
    const db = open(proxy.url, (hanging) => changes.push(hanging));
    try {
      await db.query('SELECT 1');
      proxy.stall();
      const first = await timed(db.query('SELECT 1'));
      expect(first.outcome).toBeInstanceOf(StoreUnavailable);
      expect(first.ms).toBeGreaterThanOrEqual(timeoutMs * 0.9);
      expect(changes).toEqual([true]);
      for (const statement of [
        db.query('SELECT 2'),
        db.script('SELECT 3'),
        db.transaction((tx) => tx.query('SELECT 4')),
        db.atomically([{ sql: 'SELECT 5' }]),
      ]) {
        const then = await timed(statement);
        expect(then.outcome).toBeInstanceOf(StoreUnavailable);
        expect(then.ms).toBeLessThan(timeoutMs / 2);
      }
      proxy.restore();
      for (let i = 0; i < 100 && changes.length < 2; i++) await sleep(50);
      expect(changes).toEqual([true, false]);
      expect(await db.query<{ one: number }>('SELECT 1 AS one')).toEqual([{ one: 1 }]);
    } finally {
      proxy.restore();
      await proxy.close();
    }
  });

  it('costs a transaction one timeout: a connection that hangs is closed, not asked to roll back', async () => {
    const proxy = await startTcpProxy((await postgres.place()).DATABASE_URL as string);
    const db = open(proxy.url);
    try {
      const work = timed(
        db.transaction(async (tx) => {
          await tx.query('SELECT 1');
          proxy.stall();
          return tx.query('SELECT 2');
        }),
      );
      const { outcome, ms } = await work;
      expect(outcome).toBeInstanceOf(StoreUnavailable);
      expect(ms).toBeLessThan(timeoutMs * 1.5);
    } finally {
      proxy.restore();
      await proxy.close();
    }
  });

  it('does not take a slow statement for a hang: the server cancels it, and the next one runs', async () => {
    const changes: boolean[] = [];
    const db = open((await postgres.place()).DATABASE_URL as string, (hanging) => changes.push(hanging));
    const slow = await timed(db.query('SELECT pg_sleep(5)'));
    // 57014: the server's own statement_timeout cancelled it, before the client stopped waiting.
    expect(slow.outcome).toBeInstanceOf(StoreUnavailable);
    expect((slow.outcome as Error).message).toContain('57014');
    expect(changes).toEqual([]);
    expect(await db.query<{ one: number }>('SELECT 1 AS one')).toEqual([{ one: 1 }]);
  });
});
