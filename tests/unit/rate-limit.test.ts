/**
 * The per-client rate limit (rate-limiter-flexible): fixed one-minute windows per client, a Retry-After
 * of at most one window, even when the wall clock steps back (NTP, a restored VM); one count per
 * client across replicas on PostgreSQL, kept in memory while the database is down.
 */
import type { Request, Response } from 'express';
import type { RateLimiterAbstract } from 'rate-limiter-flexible';
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';
import { TooManyRequests } from '../../src/http/errors.ts';
import { createRateLimiter, rateLimit } from '../../src/http/rate-limit.ts';
import type { Database } from '../../src/store/database.ts';
import type { Store } from '../../src/store/store.ts';
import { postgresAvailable } from '../support/postgres.ts';
import { countingStatements, openTestStore, outageFor, postgres } from '../support/stores.ts';

const asClient = (iss: string) => ({ locals: { cdsClient: { iss } } }) as unknown as Response;
const fromAddress = { ip: '10.0.0.7' } as Request;

/**
 * Runs one call through the limiter (or through `middleware`, made on it): 'ok', or the Retry-After
 * seconds of its 429.
 */
async function call(
  limiter: RateLimiterAbstract,
  res: Response = { locals: {} } as Response,
  middleware = rateLimit(limiter),
): Promise<'ok' | number> {
  try {
    let passed = false;
    await middleware(fromAddress, res, () => {
      passed = true;
    });
    return passed ? 'ok' : -1;
  } catch (error) {
    if (error instanceof TooManyRequests) return error.retryAfterSeconds;
    throw error;
  }
}

async function calls(limiter: RateLimiterAbstract, n: number, res?: Response): Promise<Array<'ok' | number>> {
  const results: Array<'ok' | number> = [];
  for (let i = 0; i < n; i++) results.push(await call(limiter, res));
  return results;
}

/** Runs `n` calls at once through one middleware, as concurrent requests are: their results in order. */
function concurrentCalls(limiter: RateLimiterAbstract, n: number): Promise<Array<'ok' | number>> {
  const middleware = rateLimit(limiter);
  return Promise.all(Array.from({ length: n }, () => call(limiter, undefined, middleware)));
}

afterEach(() => {
  vi.useRealTimers();
});

describe('per-client rate limit in one process', () => {
  /** The embedded database is one process's: its counts stay in memory and it is never queried. */
  const embeddedDb = { engine: 'embedded' } as Database;

  it('allows the configured calls per minute, then says when the window ends', async () => {
    vi.useFakeTimers({
      now: new Date('2026-12-03T10:00:00Z'),
      toFake: ['Date', 'setTimeout', 'clearTimeout'],
    });
    const limiter = createRateLimiter(3, embeddedDb);
    expect(await calls(limiter, 3)).toEqual(['ok', 'ok', 'ok']);
    vi.advanceTimersByTime(20_000);
    expect(await call(limiter)).toBe(40);
    vi.advanceTimersByTime(40_001);
    expect(await calls(limiter, 4)).toEqual(['ok', 'ok', 'ok', 60]);
  });

  it('counts each client apart: its issuer once verified, its address otherwise', async () => {
    const limiter = createRateLimiter(2, embeddedDb);
    expect(await calls(limiter, 3, asClient('https://ehr-a.example.org'))).toEqual([
      'ok',
      'ok',
      expect.any(Number),
    ]);
    expect(await calls(limiter, 2, asClient('https://ehr-b.example.org'))).toEqual(['ok', 'ok']);
    expect(await calls(limiter, 2)).toEqual(['ok', 'ok']);
  });

  it("counts a client's concurrent calls as if one by one: the first ones up to the limit pass", async () => {
    const limiter = createRateLimiter(5, embeddedDb);
    const results = await concurrentCalls(limiter, 8);
    expect(results.slice(0, 5)).toEqual(['ok', 'ok', 'ok', 'ok', 'ok']);
    for (const retry of results.slice(5))
      expect(retry).toSatisfy((s: unknown) => typeof s === 'number' && s > 0 && s <= 60);
  });

  it('a wall clock that steps back an hour holds a client back for no more than one window', async () => {
    vi.useFakeTimers({
      now: new Date('2026-12-03T10:00:00Z'),
      toFake: ['Date', 'setTimeout', 'clearTimeout'],
    });
    const limiter = createRateLimiter(3, embeddedDb);
    await calls(limiter, 3);
    vi.setSystemTime(new Date('2026-12-03T09:00:00Z'));
    expect(await calls(limiter, 4)).toEqual(['ok', 'ok', 'ok', 60]);
  });
});

describe.runIf(postgresAvailable())('per-client rate limit shared in PostgreSQL', () => {
  const opened: Store[] = [];
  afterAll(async () => {
    await Promise.all(opened.map((store) => store.close()));
  });

  it('is one limit for a client across two replicas, stored under a digest', async () => {
    const place = await postgres.place();
    const [one, two] = await Promise.all([openTestStore(place), openTestStore(place)]);
    opened.push(one, two);
    const [first, second] = [createRateLimiter(4, one.db), createRateLimiter(4, two.db)];
    const client = asClient('https://ehr-a.example.org');
    const results = [
      await call(first, client),
      await call(second, client),
      await call(first, client),
      await call(second, client),
      await call(first, client),
      await call(second, client),
    ];
    expect(results.slice(0, 4)).toEqual(['ok', 'ok', 'ok', 'ok']);
    for (const retry of results.slice(4))
      expect(retry).toSatisfy((s: unknown) => typeof s === 'number' && s > 0 && s <= 60);
    const rows = await one.db.query<{ key: string; points: number }>('SELECT key, points FROM rate_limit');
    expect(rows).toHaveLength(1);
    expect(rows[0]?.points).toBe(6);
    expect(rows[0]?.key).not.toContain('ehr-a');
  });

  it("counts a client's concurrent calls in two statements, not one each, and refuses those past the limit", async () => {
    const store = await openTestStore(await postgres.place());
    opened.push(store);
    const { db, statements } = countingStatements(store.db);
    const results = await concurrentCalls(createRateLimiter(5, db), 8);
    // Which five pass is the order the database counted them in: the first alone, then the seven that
    // arrived while it was with the database (or, had it not come back within the coalescer's patience,
    // beside it).
    expect(results.filter((r) => r === 'ok')).toHaveLength(5);
    for (const retry of results.filter((r) => r !== 'ok'))
      expect(retry).toSatisfy((s: unknown) => typeof s === 'number' && s > 0 && s <= 60);
    expect(statements).toHaveLength(2);
    const rows = await store.db.query<{ points: number }>('SELECT points FROM rate_limit');
    expect(rows).toEqual([{ points: 8 }]);
  });

  it('a window the wall clock left in the future is restarted', async () => {
    const store = await openTestStore(await postgres.place());
    opened.push(store);
    const limiter = createRateLimiter(2, store.db);
    await calls(limiter, 2);
    await store.db.query('UPDATE rate_limit SET expire = expire + 3600000');
    expect(await calls(limiter, 3)).toEqual(['ok', 'ok', 60]);
  });

  it('keeps counting in memory while the database is down, and answers no 5xx', async () => {
    const outage = await outageFor(await postgres.place());
    const store = await openTestStore(outage.env);
    opened.push(store);
    const limiter = createRateLimiter(2, store.db);
    expect(await call(limiter)).toBe('ok');
    outage.cut();
    expect(await calls(limiter, 3)).toEqual(['ok', 'ok', expect.any(Number)]);
    outage.restore();
    await outage.close();
  });
});
