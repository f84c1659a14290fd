/**
 * Governance analytics, on both storage engines: protected by ANALYTICS_TOKEN (absent without it),
 * counts per service, kind, tier and model version over a window of the clinic's calendar, by week,
 * as JSON and as a page a CDS committee opens in a browser.
 */
import { mkdir } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Card } from '../../src/cds-hooks/schemas.ts';
import type { AnalyticsReport } from '../../src/store/analytics-report.ts';
import type { Store } from '../../src/store/store.ts';
import { type RunningApp, startApp } from '../support/app.ts';
import { launchBrowser } from '../support/browser.ts';
import type { TestFhirServer } from '../support/fhir-server.ts';
import { cardKind, hookBody, scenarioPrefetch } from '../support/hook-calls.ts';
import { backends, openTestStore } from '../support/stores.ts';

const token = 'analytics-token-for-the-committee-0001';
const patientId = 'pvp-high-rbp-risk';
const orderSign = '/cds-services/pvp-risk-order-sign';

let fhir: TestFhirServer;
let prefetch: Record<string, unknown>;

beforeAll(async () => {
  ({ fhir, prefetch } = await scenarioPrefetch('high-rbp-risk'));
});
afterAll(() => fhir.close());

describe('without ANALYTICS_TOKEN', () => {
  it('has no analytics at all: 404 for the JSON and the page', async () => {
    const app = await startApp();
    try {
      for (const path of ['/analytics/cards', '/analytics']) {
        const response = await fetch(`${app.url}${path}`, { headers: { authorization: `Bearer ${token}` } });
        expect(response.status).toBe(404);
        expect(JSON.stringify(await response.json())).toContain('Analytics are disabled');
      }
    } finally {
      await app.close();
    }
  });
});

describe.each(backends())('analytics on the $name database', (backend) => {
  let store: Store;
  let app: RunningApp;
  /** The app's clock: cards are issued on the days the tests set. */
  let clock = new Date('2026-11-03T09:00:00Z');
  const issued: Card[] = [];

  const get = (path: string, headers: Record<string, string> = { authorization: `Bearer ${token}` }) =>
    fetch(`${app.url}${path}`, { headers, redirect: 'manual' });

  async function issueOn(day: string): Promise<Card[]> {
    clock = new Date(`${day}T09:00:00Z`);
    const body = await hookBody('order-sign', patientId, {
      prefetch,
      draftOrders: 'high-rbp-risk.draft-orders',
    });
    const response = await app.post(orderSign, body);
    const { cards } = (await response.json()) as { cards: Card[] };
    issued.push(...cards);
    return cards;
  }

  async function feedback(items: unknown[]) {
    const response = await app.post(`${orderSign}/feedback`, { feedback: items });
    expect(response.status).toBe(200);
  }

  beforeAll(async () => {
    store = await openTestStore(await backend.place(), { now: () => clock });
    app = await startApp(
      { ANALYTICS_TOKEN: token, CLINIC_TIME_ZONE: 'Asia/Shanghai' },
      { store, now: () => clock },
    );
    // Week of Monday 2026-11-02: two calls; week of 2026-11-16: one call.
    const [first, second, third] = [
      await issueOn('2026-11-03'),
      await issueOn('2026-11-04'),
      await issueOn('2026-11-17'),
    ];
    const risk = (cards: Card[]) => cards.find((c) => cardKind(c) === 'residual-pain-risk') as Card;
    const suggestion = risk(first).suggestions?.[0]?.uuid;
    await feedback([
      {
        card: risk(first).uuid,
        outcome: 'accepted',
        acceptedSuggestions: [{ id: suggestion }],
        outcomeTimestamp: '2026-11-17T09:01:00Z',
      },
      {
        card: risk(second).uuid,
        outcome: 'overridden',
        overrideReason: { reason: { code: 'patient-declined' } },
        outcomeTimestamp: '2026-11-17T09:01:00Z',
      },
      { card: risk(third).uuid, outcome: 'overridden', outcomeTimestamp: '2026-11-17T09:02:00Z' },
    ]);
    await store.ledger.settled();
  });
  afterAll(async () => {
    await app.close();
    await store.close();
  });

  it('401 without the token or with another, with a Bearer challenge', async () => {
    const attempts: Array<Record<string, string>> = [
      {},
      { authorization: 'Bearer not-the-token' },
      { authorization: `Basic ${token}` },
    ];
    for (const headers of attempts) {
      const response = await get('/analytics/cards', headers);
      expect(response.status).toBe(401);
      expect(response.headers.get('www-authenticate')).toBe('Bearer');
    }
  });

  it('counts issued, accepted, overridden and without feedback per group, by week, with reasons and suggestions', async () => {
    const response = await get('/analytics/cards?from=2026-11-01&to=2026-11-30');
    expect(response.status).toBe(200);
    const report = (await response.json()) as AnalyticsReport;
    expect(report).toMatchObject({ from: '2026-11-01', to: '2026-11-30', timeZone: 'Asia/Shanghai' });
    expect(report.totals).toEqual({
      issued: issued.length,
      accepted: 1,
      overridden: 2,
      noFeedback: issued.length - 3,
    });
    const risk = report.groups.find((g) => g.kind === 'residual-pain-risk');
    expect(risk).toMatchObject({
      service: 'pvp-risk-order-sign',
      model: 'rbp-v1',
      modelVersion: '1.1.0',
      issued: 3,
      accepted: 1,
      overridden: 2,
      noFeedback: 0,
    });
    expect(risk?.tier).toBeTruthy();
    expect(risk?.weeks).toEqual([
      { week: '2026-11-02', issued: 2, accepted: 1, overridden: 1, noFeedback: 0 },
      { week: '2026-11-16', issued: 1, accepted: 0, overridden: 1, noFeedback: 0 },
    ]);
    expect(risk?.overrideReasons).toEqual(
      expect.arrayContaining([{ code: 'patient-declined', count: 1 }, { count: 1 }]),
    );
    const accepted = risk?.suggestions.filter((s) => s.accepted > 0);
    expect(accepted).toHaveLength(1);
    expect(accepted?.[0]).toMatchObject({ offered: 3, accepted: 1 });
    const kinds = new Set(issued.map(cardKind));
    expect(new Set(report.groups.map((g) => g.kind))).toEqual(kinds);
  });

  it('keeps to the window, on the clinic calendar', async () => {
    const report = (await (
      await get('/analytics/cards?from=2026-11-10&to=2026-11-30')
    ).json()) as AnalyticsReport;
    expect(report.groups.find((g) => g.kind === 'residual-pain-risk')).toMatchObject({ issued: 1 });
    // 2026-11-17 09:00 UTC is 17:00 in Shanghai: still the 17th there.
    const oneDay = (await (
      await get('/analytics/cards?from=2026-11-17&to=2026-11-17')
    ).json()) as AnalyticsReport;
    expect(oneDay.totals.issued).toBe(issued.length / 3);
  });

  it.each([
    ['from=2026-13-01', 'The from parameter must be a date'],
    ['to=yesterday', 'The to parameter must be a date'],
    ['from=2026-02-30', 'The from parameter must be a date'],
    ['to=9999-12-31', 'The to parameter must be a date such as 2026-11-02, from 1900-01-01 to 9998-12-31'],
    ['from=1899-12-31&to=1900-01-31', 'The from parameter must be a date'],
    ['from=2026-11-20&to=2026-11-01', 'The from date is after the to date'],
    ['from=2000-01-01&to=2026-11-01', 'longer than 3660 days'],
  ])('400 for %s', async (query, message) => {
    const response = await get(`/analytics/cards?${query}`);
    expect(response.status).toBe(400);
    expect(JSON.stringify(await response.json())).toContain(message);
  });

  it('serves the page with a bearer token or after the login form, never without', async () => {
    const login = await get('/analytics', {});
    expect(login.status).toBe(401);
    expect(await login.text()).toContain('name="token"');
    const refused = await fetch(`${app.url}/analytics/login`, {
      method: 'POST',
      body: new URLSearchParams({ token: 'wrong' }),
      redirect: 'manual',
    });
    expect(refused.status).toBe(401);
    expect(refused.headers.get('set-cookie')).toBeNull();
    const accepted = await fetch(`${app.url}/analytics/login`, {
      method: 'POST',
      body: new URLSearchParams({ token }),
      redirect: 'manual',
    });
    expect(accepted.status).toBe(303);
    const cookie = accepted.headers.get('set-cookie') ?? '';
    expect(cookie).toMatch(/HttpOnly/i);
    expect(cookie).toMatch(/SameSite=Strict/i);
    expect(cookie).not.toContain(token);
    const page = await get('/analytics?from=2026-11-01&to=2026-11-30', {
      cookie: cookie.split(';')[0] ?? '',
    });
    expect(page.status).toBe(200);
    expect(page.headers.get('content-security-policy')).toMatch(/style-src 'sha256-[A-Za-z0-9+/=]+'/);
    expect(page.headers.get('content-security-policy')).not.toContain('script-src');
    const html = await page.text();
    expect(html).not.toContain('<script');
  });

  it('shows a CDS committee the counts in Chromium, in English and Chinese, without JavaScript', async () => {
    const browser = await launchBrowser();
    try {
      const context = await browser.newContext({
        javaScriptEnabled: false,
        viewport: { width: 1200, height: 900 },
      });
      const page = await context.newPage();
      const cspViolations: string[] = [];
      page.on('console', (message) => {
        if (/Content Security Policy/i.test(message.text())) cspViolations.push(message.text());
      });
      await page.goto(`${app.url}/analytics?from=2026-11-01&to=2026-11-30&lang=en`);
      await page.fill('input[name="token"]', token);
      await Promise.all([
        page.waitForNavigation(),
        page.click('button[type="submit"], input[type="submit"]'),
      ]);
      const text = await page.locator('body').innerText();
      expect(text).toContain('Residual back pain');
      const riskRow = page.locator('tr', { hasText: 'Residual back pain' }).first();
      expect(await riskRow.innerText()).toMatch(/\b3\b[\s\S]*\b1\b[\s\S]*\b2\b/);
      expect(await page.locator('svg').count()).toBeGreaterThanOrEqual(2);
      if (process.env.SCREENSHOT_DIR) {
        await mkdir(process.env.SCREENSHOT_DIR, { recursive: true });
        await page.screenshot({ path: `${process.env.SCREENSHOT_DIR}/analytics-en.png`, fullPage: true });
      }
      await page.selectOption('select[name="lang"]', 'zh-CN');
      await Promise.all([
        page.waitForNavigation(),
        page.click('form[method="get"] button, form[method="get"] input[type="submit"]'),
      ]);
      expect(await page.locator('html').getAttribute('lang')).toBe('zh-CN');
      expect(await page.locator('body').innerText()).toContain('残余');
      if (process.env.SCREENSHOT_DIR)
        await page.screenshot({ path: `${process.env.SCREENSHOT_DIR}/analytics-zh-CN.png`, fullPage: true });
      expect(cspViolations).toEqual([]);
    } finally {
      await browser.close();
    }
  });
});
