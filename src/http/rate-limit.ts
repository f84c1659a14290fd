/**
 * A token bucket per client (its issuer once verified, its address otherwise): `perMinute` calls a
 * minute, with bursts up to the same number. Past it: 429 with Retry-After.
 */
import type { RequestHandler } from 'express';
import { verifiedClient } from './client-auth.ts';
import { TooManyRequests } from './errors.ts';

interface Bucket {
  tokens: number;
  updatedMs: number;
}

export function rateLimit(perMinute: number, now: () => number = Date.now): RequestHandler {
  const buckets = new Map<string, Bucket>();
  const perMs = perMinute / 60_000;
  return (req, res, next) => {
    const key = verifiedClient(res)?.iss ?? `address ${req.ip ?? 'unknown'}`;
    const at = now();
    const bucket = buckets.get(key) ?? { tokens: perMinute, updatedMs: at };
    bucket.tokens = Math.min(perMinute, bucket.tokens + (at - bucket.updatedMs) * perMs);
    bucket.updatedMs = at;
    buckets.set(key, bucket);
    if (bucket.tokens < 1) throw new TooManyRequests(Math.ceil((1 - bucket.tokens) / perMs / 1000));
    bucket.tokens -= 1;
    next();
  };
}
