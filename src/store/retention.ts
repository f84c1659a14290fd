/**
 * Deletes ledger rows and feedback older than RETENTION_DAYS, and expired replay-cache rows, once at
 * start-up and then hourly. With several replicas one of them does it per round: the others find the
 * advisory lock taken and skip.
 */
import type { Logger } from '../observability/logger.ts';
import type { Database } from './database.ts';

/** pg_try_advisory_xact_lock key: "pvpcdsrt" as a 64-bit integer. */
const retentionLock = '8103516193340846708';

export interface RetentionResult {
  ran: boolean;
  cards: number;
  feedback: number;
  tokens: number;
}

export async function applyRetention(db: Database, days: number, now: Date): Promise<RetentionResult> {
  const cutoff = new Date(now.getTime() - days * 86_400_000);
  return db.transaction(async (tx) => {
    const [lock] = await tx.query<{ locked: boolean }>(
      'SELECT pg_try_advisory_xact_lock($1::bigint) AS locked',
      [retentionLock],
    );
    if (!lock?.locked) return { ran: false, cards: 0, feedback: 0, tokens: 0 };
    const feedback = await tx.query('DELETE FROM card_feedback WHERE received_at < $1 RETURNING 1', [cutoff]);
    const cards = await tx.query('DELETE FROM issued_card WHERE issued_at < $1 RETURNING 1', [cutoff]);
    const tokens = await tx.query('DELETE FROM seen_token WHERE expires_at < $1 RETURNING 1', [now]);
    return { ran: true, cards: cards.length, feedback: feedback.length, tokens: tokens.length };
  });
}

/**
 * Runs retention now and every `intervalMs`; the returned stop waits for a round in progress, so the
 * database can close after it. Failures are logged, not thrown.
 */
export function scheduleRetention(
  db: Database,
  options: { days: number; intervalMs: number; now: () => Date; logger: Logger },
): () => Promise<void> {
  let current: Promise<void> = Promise.resolve();
  const round = () => {
    current = applyRetention(db, options.days, options.now()).then(
      (result) => {
        if (result.ran && result.cards + result.feedback > 0)
          options.logger.info({ ...result, retentionDays: options.days }, 'retention deleted old records');
      },
      (error: unknown) =>
        options.logger.warn(
          { error: error instanceof Error ? error.name : 'error' },
          'retention round failed',
        ),
    );
  };
  round();
  const timer = setInterval(round, options.intervalMs);
  timer.unref();
  return () => {
    clearInterval(timer);
    return current;
  };
}
