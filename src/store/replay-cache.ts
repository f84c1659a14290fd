/**
 * The jti of every accepted client token, kept until that token could no longer be valid, so that a
 * replayed token is refused: in memory for one process (the embedded database), in PostgreSQL when
 * several replicas share one (`DATABASE_URL`).
 */
import { createHash } from 'node:crypto';
import { Coalescer } from './coalesce.ts';
import type { Queryable } from './database.ts';

export interface ReplayCache {
  /** Records `key` until `expiresAtMs`; false when it was already recorded and has not expired. */
  remember(key: string, expiresAtMs: number): Promise<boolean>;
}

export class MemoryReplayCache implements ReplayCache {
  readonly #entries = new Map<string, number>();
  readonly #now: () => number;
  #lastSweep = 0;

  constructor(now: () => number = Date.now) {
    this.#now = now;
  }

  get size(): number {
    return this.#entries.size;
  }

  async remember(key: string, expiresAtMs: number): Promise<boolean> {
    const now = this.#now();
    this.#sweep(now);
    const existing = this.#entries.get(key);
    if (existing !== undefined && existing > now) return false;
    this.#entries.set(key, expiresAtMs);
    return true;
  }

  /**
   * Drops expired entries at most every 10 s, so memory is bounded by the tokens of the last minutes.
   * Expiry is wall-clock time (a token's exp is); a step of the clock back does not stop the sweeps.
   */
  #sweep(now: number): void {
    if (Math.abs(now - this.#lastSweep) < 10_000) return;
    this.#lastSweep = now;
    for (const [key, expiresAt] of this.#entries) if (expiresAt <= now) this.#entries.delete(key);
  }
}

/**
 * The replay cache in the shared database, for several replicas: a token accepted by one is refused by
 * every other. The key is stored as a digest; expired rows are reused at once and swept by retention.
 * The tokens of concurrent calls are recorded together, one statement for all that arrived while the
 * previous one was with the database.
 */
export class DatabaseReplayCache implements ReplayCache {
  readonly #db: Queryable;
  readonly #now: () => number;
  readonly #recorded = new Coalescer<{ digest: string; expiresAt: Date }, boolean>((_, tokens) =>
    this.#record(tokens),
  );

  constructor(db: Queryable, now: () => number = Date.now) {
    this.#db = db;
    this.#now = now;
  }

  remember(key: string, expiresAtMs: number): Promise<boolean> {
    const digest = createHash('sha256').update(key).digest('base64url');
    return this.#recorded.add('', { digest, expiresAt: new Date(expiresAtMs) });
  }

  /** True for each token recorded now; a key twice in one batch is a replay the second time. */
  async #record(tokens: Array<{ digest: string; expiresAt: Date }>): Promise<boolean[]> {
    const firsts = new Map<string, Date>();
    for (const { digest, expiresAt } of tokens) if (!firsts.has(digest)) firsts.set(digest, expiresAt);
    const rows = await this.#db.query<{ digest: string }>(
      `INSERT INTO seen_token (digest, expires_at)
       SELECT * FROM unnest($1::text[], $2::timestamptz[])
       ON CONFLICT (digest) DO UPDATE SET expires_at = excluded.expires_at
         WHERE seen_token.expires_at <= $3
       RETURNING digest`,
      [[...firsts.keys()], [...firsts.values()], new Date(this.#now())],
    );
    const recorded = new Set(rows.map((row) => row.digest));
    return tokens.map(({ digest }) => recorded.delete(digest));
  }
}
