/**
 * Opening the embedded database: one owner per data directory, a stale lock taken over, and a schema
 * newer than this release (a rolling upgrade) used with a warning rather than refused.
 */
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { openEmbedded } from '../../src/store/database.ts';
import { capturedLogger } from '../support/log-capture.ts';
import { openTestStore } from '../support/stores.ts';

const dataDir = () => mkdtemp(join(tmpdir(), 'pvp-cds-data-'));

describe('the embedded database', () => {
  it('refuses a second instance on the same directory in this process, and frees it on close', async () => {
    const dir = await dataDir();
    const first = await openEmbedded(dir);
    await expect(openEmbedded(dir)).rejects.toThrow(`DATA_DIR ${dir} is already open in this process`);
    await first.close();
    const again = await openEmbedded(dir);
    expect(await again.query<{ one: number }>('SELECT 1 AS one')).toEqual([{ one: 1 }]);
    await again.close();
  });

  it('takes over the lock of a process that has died', async () => {
    const dir = await dataDir();
    await writeFile(join(dir, 'pvp-cds.lock'), '2147483646');
    const db = await openEmbedded(dir);
    expect(await readFile(join(dir, 'pvp-cds.lock'), 'utf8')).toBe(String(process.pid));
    await db.close();
  });

  it('creates a new directory, then reopens it with what was written kept', async () => {
    const dir = await dataDir();
    const first = await openEmbedded(dir);
    await first.script('CREATE TABLE kept (n int); INSERT INTO kept VALUES (42)');
    await first.close();
    const again = await openEmbedded(dir);
    expect(await again.query<{ n: number }>('SELECT n FROM kept')).toEqual([{ n: 42 }]);
    await again.close();
  });

  it('refuses a directory that cannot be made a database, naming the failure, and frees its lock', async () => {
    const dir = await dataDir();
    // PostgreSQL's initdb must create `global` as a directory: a file of that name stops it.
    await writeFile(join(dir, 'global'), 'not a directory');
    await expect(openEmbedded(dir)).rejects.toThrow(
      `DATA_DIR ${dir}: the embedded database could not be created there`,
    );
    await expect(readFile(join(dir, 'pvp-cds.lock'), 'utf8')).rejects.toThrow(/ENOENT/);
  });

  it('runs on a schema newer than it knows, with a warning', async () => {
    const env = { DATA_DIR: await dataDir() };
    const first = await openTestStore(env);
    await first.db.query("INSERT INTO schema_migration (version, name) VALUES (999, 'from-a-newer-release')");
    await first.close();
    const { logger, lines } = capturedLogger('warn');
    const second = await openTestStore(env, { logger });
    expect(lines.join('\n')).toContain('the database schema is newer than this release');
    await second.close();
  });
});
