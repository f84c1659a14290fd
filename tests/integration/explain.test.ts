/**
 * The picture of each risk: every risk card links to `/explain/{cardUuid}`, a page rebuilt from the
 * ledger (both storage engines) in the card's language, without the patient's identity; unknown,
 * expired and non-risk cards answer 404. `/models/{id}` is a page for browsers and JSON otherwise.
 * Headless Chromium (no JavaScript) reads the page as a clinician would and saves the screenshots the
 * README shows when SCREENSHOT_DIR is set.
 */
import { mkdir } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Card } from '../../src/cds-hooks/schemas.ts';
import type { Store } from '../../src/store/store.ts';
import { type RunningApp, startApp, testDate } from '../support/app.ts';
import { launchBrowser } from '../support/browser.ts';
import type { TestFhirServer } from '../support/fhir-server.ts';
import { assessmentOf, cardKind, hookBody, scenarioPrefetch } from '../support/hook-calls.ts';
import { backends, openTestStore } from '../support/stores.ts';

const patientId = 'pvp-high-rbp-risk';
const orderSign = '/cds-services/pvp-risk-order-sign';
const browserAccept = 'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8';

let fhir: TestFhirServer;
let prefetch: Record<string, unknown>;

beforeAll(async () => {
  ({ fhir, prefetch } = await scenarioPrefetch('high-rbp-risk'));
});
afterAll(() => fhir.close());

async function issue(app: RunningApp, language = 'en'): Promise<Card[]> {
  const body = await hookBody('order-sign', patientId, {
    prefetch,
    draftOrders: 'high-rbp-risk.draft-orders',
  });
  const response = await app.post(orderSign, body, { 'accept-language': language });
  expect(response.status).toBe(200);
  const { cards } = (await response.json()) as { cards: Card[] };
  await app.store.ledger.settled();
  return cards;
}

function riskCard(cards: Card[], kind = 'residual-pain-risk'): Card {
  const card = cards.find((c) => cardKind(c) === kind);
  if (!card) throw new Error(`no ${kind} card`);
  return card;
}

function explainUrl(card: Card): string {
  const link = card.links?.find((l) => l.url.includes('/explain/'));
  if (!link) throw new Error(`card "${card.summary}" has no explain link`);
  return link.url;
}

const page = (url: string, headers: Record<string, string> = { accept: browserAccept }) =>
  fetch(url, { headers });

describe.each(backends())('the explain page on the $name database', (backend) => {
  let store: Store;
  let app: RunningApp;

  beforeAll(async () => {
    store = await openTestStore(await backend.place(), { now: () => testDate });
    app = await startApp({}, { store });
  });
  afterAll(async () => {
    await app.close();
    await store.close();
  });

  it('links every risk card, and only risk cards, to its picture', async () => {
    const cards = await issue(app);
    const risks = cards.filter((c) => ['residual-pain-risk', 'refracture-risk'].includes(cardKind(c)));
    expect(risks).toHaveLength(2);
    for (const card of cards) {
      const links = card.links ?? [];
      if (risks.includes(card))
        expect(links).toEqual([
          {
            label: 'Picture of this risk: what drives it',
            url: `${app.url}/explain/${card.uuid}`,
            type: 'absolute',
          },
        ]);
      else expect(links.some((l) => l.url.includes('/explain/'))).toBe(false);
    }
  });

  it("shows the card's tier, each factor's points and share, what can change, and no identity", async () => {
    const card = riskCard(await issue(app));
    const assessment = assessmentOf(card);
    const response = await page(explainUrl(card));
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^text\/html/);
    const policy = response.headers.get('content-security-policy') ?? '';
    expect(policy).toMatch(/default-src 'none'; style-src 'sha256-[A-Za-z0-9+/=]+'/);
    expect(policy).not.toContain('script-src');
    const html = await response.text();
    expect(html).toContain(`${assessment.points} points: ${assessment.tier} risk`);
    const total = assessment.factors.reduce((sum, f) => sum + f.points, 0);
    expect(total).toBe(assessment.points);
    for (const factor of assessment.factors) {
      const row = new RegExp(`<tr data-factor="${factor.id}">[\\s\\S]*?</tr>`).exec(html)?.[0] ?? '';
      expect(row).toContain(`data-points="${factor.points}"`);
      expect(row).toContain(`${factor.points} pt`);
      expect(row).toContain(`${Math.round((100 * factor.points) / total)}%`);
    }
    expect(html).toMatch(/<tr data-factor="depression">[\s\S]*?<span class="tag">depression care<\/span>/);
    expect(html).toContain('data-action="depression-care"');
    for (const id of assessment.notAssessed) expect(html).toContain(`<li data-factor="${id}">`);
    expect(html).toContain('href="https://pubmed.ncbi.nlm.nih.gov/31561662/"');
    expect(html).toContain(`href="${app.url}/models/rbp-v1?lang=en"`);
    for (const identity of [patientId, 'MRN-PVP-HIGH-RBP-RISK', 'High-RBP', 'Fixture', '1952-06-02'])
      expect(html).not.toContain(identity);
  });

  it("is in the card's language, or the one asked for", async () => {
    const card = riskCard(await issue(app, 'zh-CN'), 'refracture-risk');
    const chinese = await (await page(explainUrl(card))).text();
    expect(chinese).toContain('<html lang="zh-CN">');
    expect(chinese).toContain('再骨折风险：风险构成');
    expect(chinese).toContain('抗骨松治疗');
    const english = await (await page(`${explainUrl(card)}?lang=en`)).text();
    expect(english).toContain('<html lang="en">');
    expect(english).toContain('Re-fracture risk: what drives it');
  });

  it('answers 404 for unknown uuids, non-risk cards and cards past retention', async () => {
    const cards = await issue(app);
    const careGap = cards.find((c) => !['residual-pain-risk', 'refracture-risk'].includes(cardKind(c)));
    expect(careGap).toBeDefined();
    for (const uuid of ['0b0e5f8e-7a0f-4d6b-9a53-2f1c6c1d2e3f', careGap?.uuid, 'not-a-uuid', "'%3B--"]) {
      const html = await page(`${app.url}/explain/${uuid}`);
      expect(html.status).toBe(404);
      expect(await html.text()).toContain('No picture for this card');
      const json = await page(`${app.url}/explain/${uuid}`, { accept: 'application/json' });
      expect(json.status).toBe(404);
      const outcome = (await json.json()) as { resourceType: string; issue: Array<{ code: string }> };
      expect(outcome.resourceType).toBe('OperationOutcome');
      expect(outcome.issue[0]?.code).toBe('not-found');
    }
    const card = riskCard(cards);
    const later = await startApp(
      { RETENTION_DAYS: '30' },
      { store, now: () => new Date(testDate.getTime() + 31 * 86_400_000) },
    );
    try {
      const path = new URL(explainUrl(card)).pathname;
      expect((await page(`${later.url}${path}`)).status).toBe(404);
      expect((await page(`${app.url}${path}`)).status).toBe(200);
    } finally {
      await later.close();
    }
  });
});

describe('the pages on the default store', () => {
  let app: RunningApp;
  beforeAll(async () => {
    app = await startApp();
  });
  afterAll(() => app.close());

  it('gives JSON by default and to Accept: application/json, a page to browsers', async () => {
    const json = await page(`${app.url}/models/rbp-v1`, {});
    expect(json.headers.get('content-type')).toMatch(/^application\/json/);
    expect(((await json.json()) as { id: string }).id).toBe('rbp-v1');
    const asked = await page(`${app.url}/models/refracture-v1?format=json`);
    expect(((await asked.json()) as { version: string }).version).toBe('1.1.0');
    const html = await page(`${app.url}/models/rbp-v1`, {
      accept: browserAccept,
      'accept-language': 'zh-CN',
    });
    expect(html.status).toBe(200);
    expect(html.headers.get('vary')).toMatch(/Accept/);
    const text = await html.text();
    expect(text).toContain('<html lang="zh-CN">');
    expect(text).toContain('术后残余腰背痛风险：模型 rbp-v1');
    expect(text).toMatch(/<tr data-factor="bmd">[\s\S]*?≤ −3\.5：2 分[\s\S]*?5\.05 \(1\.87–13\.62\)/);
    expect(text).toContain('href="https://doi.org/10.1097/MD.0000000000034752"');
    expect(text).toContain('局限性');
  });

  it('answers 404 for an unknown model: a page or an OperationOutcome', async () => {
    const html = await page(`${app.url}/models/rbp-v9`);
    expect(html.status).toBe(404);
    expect(await html.text()).toContain('No model with id rbp-v9.');
    const json = await page(`${app.url}/models/rbp-v9`, {});
    expect(json.status).toBe(404);
    expect(((await json.json()) as { resourceType: string }).resourceType).toBe('OperationOutcome');
  });

  it('draws, in Chromium, one bar per factor, as long as its points, and leads to the model page', async () => {
    const cards = await issue(app);
    const card = riskCard(cards);
    const assessment = assessmentOf(card);
    const browser = await launchBrowser();
    try {
      const context = await browser.newContext({
        javaScriptEnabled: false,
        viewport: { width: 1100, height: 900 },
      });
      const tab = await context.newPage();
      const violations: string[] = [];
      tab.on('console', (message) => {
        if (/Content Security Policy/i.test(message.text())) violations.push(message.text());
      });
      await tab.goto(explainUrl(card));
      expect(await tab.locator('#tier').innerText()).toBe(
        `${assessment.points} points: ${assessment.tier} risk`,
      );
      const bars = tab.locator('#factors rect[data-points]');
      expect(await bars.count()).toBe(assessment.factors.length);
      const drawn = await Promise.all(
        (await bars.all()).map(async (bar) => ({
          points: Number(await bar.getAttribute('data-points')),
          width: (await bar.boundingBox())?.width ?? 0,
        })),
      );
      const perPoint = (drawn[0]?.width ?? 0) / (drawn[0]?.points ?? 1);
      expect(perPoint).toBeGreaterThan(20);
      for (const bar of drawn) expect(Math.abs(bar.width - bar.points * perPoint)).toBeLessThan(1);
      const text = await tab.locator('body').innerText();
      expect(text).toContain('What could change it');
      expect(text).toContain('Not assessed');
      expect(await tab.locator('#tier-scale').isVisible()).toBe(true);
      if (process.env.SCREENSHOT_DIR) {
        await mkdir(process.env.SCREENSHOT_DIR, { recursive: true });
        await tab.screenshot({ path: `${process.env.SCREENSHOT_DIR}/explain-en.png`, fullPage: true });
      }
      await Promise.all([tab.waitForNavigation(), tab.click('#model-link')]);
      expect(await tab.locator('h1').innerText()).toBe('Residual back pain risk: model rbp-v1');
      expect(await tab.locator('#factors tbody tr').count()).toBeGreaterThan(5);
      if (process.env.SCREENSHOT_DIR)
        await tab.screenshot({ path: `${process.env.SCREENSHOT_DIR}/model-en.png`, fullPage: true });
      await tab.goto(`${explainUrl(card)}?lang=zh-CN`);
      expect(await tab.locator('h1').innerText()).toBe('术后残余腰背痛风险：风险构成');
      if (process.env.SCREENSHOT_DIR)
        await tab.screenshot({ path: `${process.env.SCREENSHOT_DIR}/explain-zh-CN.png`, fullPage: true });
      expect(violations).toEqual([]);
    } finally {
      await browser.close();
    }
  });
});
