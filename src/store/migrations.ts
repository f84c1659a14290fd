/**
 * Versioned migrations, `migrations/NNN-name.sql`, applied in order at start-up in one transaction
 * under an advisory lock: replicas starting at once wait for each other, and the second finds the
 * work done. A database newer than this release is left alone (a rolling upgrade runs both).
 */
import { readdirSync, readFileSync } from 'node:fs';
import type { Database } from './database.ts';

const migrationsDir = new URL('./migrations/', import.meta.url);

/** pg_advisory_xact_lock key: "pvpcdsmg" as a 64-bit integer. */
const migrationLock = '8103516193340843879';

export interface Migration {
  version: number;
  name: string;
  sql: string;
}

export function migrations(): Migration[] {
  return readdirSync(migrationsDir)
    .filter((file) => /^\d{3}-[\w-]+\.sql$/.test(file))
    .sort()
    .map((file) => ({
      version: Number(file.slice(0, 3)),
      name: file.slice(4, -4),
      sql: readFileSync(new URL(file, migrationsDir), 'utf8'),
    }));
}

export interface MigrationResult {
  applied: number[];
  /** The highest version in the database, ours or a newer release's. */
  version: number;
}

export async function migrate(db: Database): Promise<MigrationResult> {
  return db.transaction(async (tx) => {
    await tx.query('SELECT pg_advisory_xact_lock($1::bigint)', [migrationLock]);
    await tx.query(`CREATE TABLE IF NOT EXISTS schema_migration (
      version integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())`);
    const done = new Set(
      (await tx.query<{ version: number }>('SELECT version FROM schema_migration')).map((r) => r.version),
    );
    const applied: number[] = [];
    for (const migration of migrations()) {
      if (done.has(migration.version)) continue;
      await tx.script(migration.sql);
      await tx.query('INSERT INTO schema_migration (version, name) VALUES ($1, $2)', [
        migration.version,
        migration.name,
      ]);
      applied.push(migration.version);
    }
    const [row] = await tx.query<{ version: number | null }>(
      'SELECT max(version) AS version FROM schema_migration',
    );
    return { applied, version: row?.version ?? 0 };
  });
}
