/**
 * A token bucket per client (its issuer once verified, its address otherwise): `perMinute` calls a
 * minute, with bursts up to the same number. Past it: 429 with Retry-After.
 *
 * Time is the monotonic clock: a wall-clock step (NTP, a restored VM) neither refills nor drains a
 * bucket. Full buckets are forgotten, so memory holds only the clients of the last minute.
 */
import type { RequestHandler } from 'express';
import { verifiedClient } from './client-auth.ts';
import { TooManyRequests } from './errors.ts';

interface Bucket {
  tokens: number;
  updatedMs: number;
}

export function rateLimit(perMinute: number, now: () => number = () => performance.now()): RequestHandler {
  const buckets = new Map<string, Bucket>();
  const perMs = perMinute / 60_000;
  let lastSweep = now();
  const refill = (bucket: Bucket, at: number) => {
    bucket.tokens = Math.min(perMinute, bucket.tokens + Math.max(0, at - bucket.updatedMs) * perMs);
    bucket.updatedMs = at;
  };
  return (req, res, next) => {
    const key = verifiedClient(res)?.iss ?? `address ${req.ip ?? 'unknown'}`;
    const at = now();
    if (at - lastSweep >= 60_000) {
      lastSweep = at;
      for (const [client, bucket] of buckets) {
        refill(bucket, at);
        if (bucket.tokens >= perMinute) buckets.delete(client);
      }
    }
    const bucket = buckets.get(key) ?? { tokens: perMinute, updatedMs: at };
    refill(bucket, at);
    buckets.set(key, bucket);
    if (bucket.tokens < 1) throw new TooManyRequests(Math.ceil((1 - bucket.tokens) / perMs / 1000));
    bucket.tokens -= 1;
    next();
  };
}
