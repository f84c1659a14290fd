/**
 * The JWT replay cache shared by replicas (PostgreSQL): each key is accepted once while its token could
 * be valid, under a digest; the tokens of concurrent calls are recorded in one statement, with the
 * same answers as one by one.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { DatabaseReplayCache } from '../../src/store/replay-cache.ts';
import type { Store } from '../../src/store/store.ts';
import { postgresAvailable } from '../support/postgres.ts';
import { countingStatements, openTestStore, postgres } from '../support/stores.ts';

describe.runIf(postgresAvailable())('replay cache in PostgreSQL', () => {
  const opened: Store[] = [];
  afterAll(async () => {
    await Promise.all(opened.map((store) => store.close()));
  });

  /** A store on a new database, and its database counting the statements sent to it. */
  async function countedStore() {
    const store = await openTestStore(await postgres.place());
    opened.push(store);
    return { store, ...countingStatements(store.db) };
  }

  const inAMinute = () => Date.now() + 60_000;

  it('accepts each key once when calls come together, in two statements for six calls', async () => {
    const { store, db, statements } = await countedStore();
    const cache = new DatabaseReplayCache(db);
    const keys = ['iss-a jti-1', 'iss-a jti-2', 'iss-b jti-1', 'iss-a jti-1', 'iss-b jti-9', 'iss-a jti-2'];
    const answers = await Promise.all(keys.map((key) => cache.remember(key, inAMinute())));
    // The first alone, the other five together: jti-1 is accepted once, by whichever statement the
    // database ran first (the first, unless it hung past the coalescer's patience); the second jti-2
    // meets its twin in the same batch.
    expect([answers[0], answers[3]].filter(Boolean)).toHaveLength(1);
    expect([answers[1], answers[2], answers[4], answers[5]]).toEqual([true, true, true, false]);
    expect(statements).toHaveLength(2);
    const rows = await store.db.query<{ digest: string }>('SELECT digest FROM seen_token');
    expect(rows).toHaveLength(4);
    for (const { digest } of rows) expect(digest).toMatch(/^[\w-]{43}$/);
  });

  it('refuses a key seen by another replica, and accepts it again once its token has expired', async () => {
    const { db } = await countedStore();
    let now = Date.parse('2026-12-07T10:00:00Z');
    const [one, two] = [new DatabaseReplayCache(db, () => now), new DatabaseReplayCache(db, () => now)];
    expect(await one.remember('iss-a jti-1', now + 60_000)).toBe(true);
    expect(await two.remember('iss-a jti-1', now + 60_000)).toBe(false);
    now += 61_000;
    expect(await two.remember('iss-a jti-1', now + 60_000)).toBe(true);
    expect(await one.remember('iss-a jti-1', now + 60_000)).toBe(false);
  });
});
