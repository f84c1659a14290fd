/**
 * `Database.atomically` (the ledger's write): every statement of the list stored, or none when one fails,
 * on both engines; the embedded one sends the list to its thread as one message.
 */
import { afterAll, describe, expect, it } from 'vitest';
import type { Store } from '../../src/store/store.ts';
import { backends, openTestStore } from '../support/stores.ts';

const opened: Store[] = [];
afterAll(async () => {
  await Promise.all(opened.map((store) => store.close()));
});

describe.each(backends())('atomically on the $name engine', (backend) => {
  async function database() {
    const store = await openTestStore(await backend.place());
    opened.push(store);
    await store.db.script('CREATE TABLE written (n int PRIMARY KEY, label text NOT NULL)');
    return store.db;
  }

  it('stores every statement, with its parameters', async () => {
    const db = await database();
    await db.atomically([
      { sql: 'INSERT INTO written (n, label) VALUES ($1, $2)', params: [1, 'one'] },
      { sql: 'INSERT INTO written (n, label) SELECT n + 1, $1 FROM written', params: ['two'] },
    ]);
    expect(await db.query('SELECT n, label FROM written ORDER BY n')).toEqual([
      { n: 1, label: 'one' },
      { n: 2, label: 'two' },
    ]);
  });

  it('stores none of them when one fails, with the failing statement error', async () => {
    const db = await database();
    await db.query('INSERT INTO written (n, label) VALUES (1, $1)', ['kept']);
    await expect(
      db.atomically([
        { sql: 'INSERT INTO written (n, label) VALUES ($1, $2)', params: [2, 'rolled back'] },
        { sql: 'INSERT INTO written (n, label) VALUES ($1, $2)', params: [1, 'duplicate'] },
      ]),
    ).rejects.toMatchObject({ code: '23505' });
    expect(await db.query('SELECT n, label FROM written ORDER BY n')).toEqual([{ n: 1, label: 'kept' }]);
    await db.atomically([{ sql: 'INSERT INTO written (n, label) VALUES ($1, $2)', params: [3, 'after'] }]);
    expect(await db.query('SELECT n FROM written ORDER BY n')).toEqual([{ n: 1 }, { n: 3 }]);
  });
});
