/**
 * Storage as configured: the embedded PostgreSQL (PGlite in DATA_DIR) by default, a PostgreSQL server
 * with DATABASE_URL. Migrations run before anything is served; retention runs in the background.
 */
import type { Config } from '../config.ts';
import type { Logger } from '../observability/logger.ts';
import { type Database, openEmbedded, openPostgres } from './database.ts';
import { CardLedger } from './ledger.ts';
import { migrate, migrations } from './migrations.ts';
import { DatabaseReplayCache, MemoryReplayCache, type ReplayCache } from './replay-cache.ts';
import { scheduleRetention } from './retention.ts';

export interface Store {
  readonly db: Database;
  readonly ledger: CardLedger;
  /** Shared by replicas in PostgreSQL; in memory with the embedded database (one process). */
  readonly replayCache: ReplayCache;
  /** Waits for pending ledger writes and the retention round, then closes the database. */
  close(): Promise<void>;
}

export type StoreSettings = Pick<
  Config,
  'databaseUrl' | 'dataDir' | 'databasePoolSize' | 'databaseTimeoutMs' | 'retentionDays' | 'patientKeySecret'
>;

export async function openDatabase(settings: StoreSettings, logger: Logger): Promise<Database> {
  if (!settings.databaseUrl) return openEmbedded(settings.dataDir);
  return openPostgres({
    url: settings.databaseUrl,
    poolSize: settings.databasePoolSize,
    timeoutMs: settings.databaseTimeoutMs,
    onError: (error) => logger.warn({ error: error.name }, 'idle database connection failed'),
    onHang: (hanging) =>
      hanging
        ? logger.warn(
            { timeoutMs: settings.databaseTimeoutMs },
            'the database did not answer in time: its statements fail at once until it answers again',
          )
        : logger.info('the database answers again'),
  });
}

export async function openStore(
  settings: StoreSettings,
  logger: Logger,
  options: { now?: () => Date; db?: Database } = {},
): Promise<Store> {
  const now = options.now ?? (() => new Date());
  const db = options.db ?? (await openDatabase(settings, logger));
  try {
    const { applied, version } = await migrate(db);
    const known = Math.max(...migrations().map((m) => m.version));
    if (version > known)
      logger.warn({ version, known }, 'the database schema is newer than this release: running on it');
    logger.info({ engine: db.engine, schemaVersion: version, applied }, 'store ready');
  } catch (error) {
    await db.close();
    throw error;
  }
  const ledger = new CardLedger(db, logger, settings.patientKeySecret);
  const stopRetention = scheduleRetention(db, {
    days: settings.retentionDays,
    intervalMs: 3_600_000,
    now,
    logger,
  });
  return {
    db,
    ledger,
    // Token expiry is the real clock's, whatever clock the cards are dated by.
    replayCache: db.engine === 'postgres' ? new DatabaseReplayCache(db) : new MemoryReplayCache(),
    async close() {
      await stopRetention();
      await ledger.settled();
      await db.close();
    },
  };
}
