/**
 * A PostgreSQL server whose connection dies while a transaction holds it, between two statements: the
 * transaction fails as "database unavailable", the process does not crash (node-postgres emits the
 * error on the checked-out client, which the pool no longer listens to), and the next statement after
 * the outage works again.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, describe, expect, it } from 'vitest';
import { StoreUnavailable } from '../../src/store/database.ts';
import type { Store } from '../../src/store/store.ts';
import { postgresAvailable } from '../support/postgres.ts';
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
