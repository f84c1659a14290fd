/**
 * The per-client rate limit measures time with the monotonic clock: a step of the wall clock (NTP, a
 * restored VM) must not lock an EHR out, and a client is never held back longer than one window.
 */
import type { Request, Response } from 'express';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { TooManyRequests } from '../../src/http/errors.ts';
import { rateLimit } from '../../src/http/rate-limit.ts';

const request = { ip: '10.0.0.7' } as Request;
const response = { locals: {} } as Response;

/** Runs one call through the limiter: 'ok', or the Retry-After seconds of its 429. */
function call(limit: ReturnType<typeof rateLimit>): 'ok' | number {
  try {
    let passed = false;
    limit(request, response, () => {
      passed = true;
    });
    return passed ? 'ok' : -1;
  } catch (error) {
    if (error instanceof TooManyRequests) return error.retryAfterSeconds;
    throw error;
  }
}

afterEach(() => {
  vi.restoreAllMocks();
});

describe('per-client rate limit and time', () => {
  it('refills at the configured rate and says when to retry', () => {
    let clock = 1_000;
    const limit = rateLimit(3, () => clock);
    expect([call(limit), call(limit), call(limit), call(limit)]).toEqual(['ok', 'ok', 'ok', 20]);
    clock += 20_000;
    expect([call(limit), call(limit)]).toEqual(['ok', 20]);
  });

  it('a clock that steps back an hour holds a client back for no more than one window', () => {
    let clock = 10_000_000;
    const limit = rateLimit(3, () => clock);
    for (let i = 0; i < 3; i++) call(limit);
    clock -= 3_600_000;
    const retry = call(limit);
    expect(retry).toBeLessThanOrEqual(60);
    clock += 20_000;
    expect(call(limit)).toBe('ok');
  });

  it('by default ignores the wall clock altogether', () => {
    const limit = rateLimit(3);
    const wall = Date.now();
    expect(call(limit)).toBe('ok');
    vi.spyOn(Date, 'now').mockReturnValue(wall - 3_600_000);
    expect([call(limit), call(limit), call(limit)]).toEqual(['ok', 'ok', 20]);
  });
});
