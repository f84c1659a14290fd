/**
 * The jti of every accepted client token, kept until that token could no longer be valid, so that a
 * replayed token is refused. In memory: right for one process; several replicas need a shared store
 * behind the same interface.
 */
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
