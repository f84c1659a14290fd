import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningApp, startApp } from '../support/app.ts';

let app: RunningApp;
beforeAll(async () => {
  app = await startApp({ RATE_LIMIT_PER_MINUTE: '3', CORS_ORIGINS: 'https://sandbox.cds-hooks.org' });
});
afterAll(() => app.close());

describe('per-client rate limit', () => {
  it('answers 429 with Retry-After and an OperationOutcome past the limit', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 4; i++) statuses.push((await fetch(`${app.url}/cds-services`)).status);
    expect(statuses).toEqual([200, 200, 200, 429]);
    const res = await fetch(`${app.url}/cds-services`);
    expect(res.status).toBe(429);
    expect(Number(res.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(await res.json()).toMatchObject({
      resourceType: 'OperationOutcome',
      issue: [{ code: 'throttled' }],
    });
  });
});

describe('CORS for configured origins', () => {
  it('allows a configured origin and says nothing to others', async () => {
    const allowed = await fetch(`${app.url}/healthz`, {
      headers: { origin: 'https://sandbox.cds-hooks.org' },
    });
    expect(allowed.headers.get('access-control-allow-origin')).toBe('https://sandbox.cds-hooks.org');
    expect(allowed.headers.get('vary')).toMatch(/Origin/);
    const other = await fetch(`${app.url}/healthz`, { headers: { origin: 'https://evil.example' } });
    expect(other.headers.get('access-control-allow-origin')).toBeNull();
  });
});
