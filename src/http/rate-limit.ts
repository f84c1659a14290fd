/**
 * The per-client rate limit (rate-limiter-flexible): `perMinute` calls per client (its issuer once
 * verified, its address otherwise) in each fixed one-minute window; past it, 429 with Retry-After.
 * With a PostgreSQL server the counts live in the shared database, so replicas enforce one limit
 * per client; with the embedded database (one process) they live in memory, where each window's
 * entry is dropped when it ends. When the shared database cannot be reached, each replica counts in
 * its own memory meanwhile: a database outage does not stop the hooks.
 *
 * The keys are digests: no issuer or address is stored. A step back of the wall clock (NTP, a restored
 * VM) would leave a window that ends far in the future; such a window is restarted, so no client is
 * held back for longer than one window.
 */
import { createHash } from 'node:crypto';
import type { RequestHandler } from 'express';
import {
  type RateLimiterAbstract,
  RateLimiterMemory,
  RateLimiterPostgres,
  RateLimiterRes,
} from 'rate-limiter-flexible';
import { Coalescer } from '../store/coalesce.ts';
import type { Database } from '../store/database.ts';
import { verifiedClient } from './client-auth.ts';
import { TooManyRequests } from './errors.ts';

const windowSeconds = 60;

/** node-postgres' `query({text, values})` over our Database, with the bigint column as a number. */
function storeClient(db: Database) {
  return {
    async query(statement: { text: string; values?: unknown[] }) {
      const rows = await db.query<{ points: number | string; expire: number | string | bigint | null }>(
        statement.text,
        statement.values,
      );
      return {
        rowCount: rows.length,
        rows: rows.map((row) => ({
          points: Number(row.points),
          expire: row.expire === null ? null : Number(row.expire),
        })),
      };
    },
  };
}

/** Counts in `shared` when it is a PostgreSQL server's database, else in this process's memory. */
export function createRateLimiter(perMinute: number, shared: Database): RateLimiterAbstract {
  const options = { points: perMinute, duration: windowSeconds, keyPrefix: 'client' };
  if (shared.engine !== 'postgres') return new RateLimiterMemory(options);
  const db = shared;
  return new RateLimiterPostgres({
    ...options,
    storeClient: storeClient(db),
    storeType: 'client',
    tableName: 'rate_limit',
    tableCreated: true,
    insuranceLimiter: new RateLimiterMemory(options),
  });
}

/** Digests already made, so that a client's calls hash its name once; emptied when it grows large. */
const digests = new Map<string, string>();
const mostDigests = 10_000;

function clientKey(name: string): string {
  let key = digests.get(name);
  if (key === undefined) {
    if (digests.size >= mostDigests) digests.clear();
    key = createHash('sha256').update(name).digest('base64url');
    digests.set(name, key);
  }
  return key;
}

/** `points` calls of `key` counted at once: the count, whether they were all allowed or not. */
function consume(limiter: RateLimiterAbstract, key: string, points: number): Promise<RateLimiterRes> {
  return limiter.consume(key, points).catch((refusal: unknown) => {
    if (refusal instanceof RateLimiterRes) return refusal;
    throw refusal;
  });
}

/**
 * How each call is counted: alone in memory, where counting costs nothing; with a database store,
 * concurrent calls of one client together (one statement for all the calls that waited for the
 * previous count), each then allowed or refused by its place in that count, exactly as if they had
 * been counted one by one. The answer is the refusal, or undefined when the call is allowed.
 */
function counter(limiter: RateLimiterAbstract): (key: string) => Promise<RateLimiterRes | undefined> {
  const refusal = (count: RateLimiterRes, place: number) => (place <= limiter.points ? undefined : count);
  if (limiter instanceof RateLimiterMemory)
    return (key) => consume(limiter, key, 1).then((count) => refusal(count, count.consumedPoints));
  const together = new Coalescer<null, RateLimiterRes | undefined>(async (key, calls) => {
    const count = await consume(limiter, key, calls.length);
    const before = count.consumedPoints - calls.length;
    return calls.map((_, i) => refusal(count, before + i + 1));
  });
  return (key) => together.add(key, null);
}

export function rateLimit(limiter: RateLimiterAbstract): RequestHandler {
  const count = counter(limiter);
  return async (req, res, next) => {
    const client = verifiedClient(res);
    const key = clientKey(client ? `issuer ${client.iss}` : `address ${req.ip ?? 'unknown'}`);
    let refusal = await count(key);
    if (refusal && refusal.msBeforeNext > windowSeconds * 1000) {
      await limiter.delete(key);
      refusal = await count(key);
    }
    if (refusal) {
      throw new TooManyRequests(Math.min(windowSeconds, Math.max(1, Math.ceil(refusal.msBeforeNext / 1000))));
    }
    next();
  };
}
