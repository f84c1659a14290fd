/**
 * The hospital's own model in the service: MODEL_DIR is loaded at start-up (a bad file stops it,
 * naming the file), cards name the active version and, for a calibrated model, show the probability
 * with its 95% interval next to the tier; so do the explanation page and the model page.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Card } from '../../src/cds-hooks/schemas.ts';
import { loadModelFiles, ModelFileError } from '../../src/clinical/model-files.ts';
import { type RunningApp, startApp } from '../support/app.ts';
import type { TestFhirServer } from '../support/fhir-server.ts';
import { hookBody, scenarioPrefetch } from '../support/hook-calls.ts';

const publishedRbp = JSON.parse(
  readFileSync(new URL('../../src/clinical/models/rbp-v1.json', import.meta.url), 'utf8'),
) as Record<string, unknown>;

/** A recalibrated rbp-v1: logit p = a + b × points × ln 2, with a known covariance. */
const a = -2.1;
const b = 0.85;
const varA = 0.04;
const covAB = -0.006;
const varB = 0.0025;
const covariance = [
  [varA, covAB],
  [covAB, varB],
];
const version = '1.1.0+recalibrated.2026-12-01';

function recalibrated(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    ...publishedRbp,
    version,
    calibration: 'recalibrated on 640 patients with 150 events on 2026-12-01',
    local: {
      method: 'recalibrated',
      outcome: 'residual-pain',
      fittedAt: '2026-12-01T09:30:00.000Z',
      cohort: { patients: 640, events: 150, sha256: 'a'.repeat(64) },
      intercept: { estimate: a, ci: [a - 0.39, a + 0.39] },
      slope: { estimate: b, ci: [b - 0.098, b + 0.098] },
      covariance,
      validation: {
        auc: { estimate: 0.712, ci: [0.667, 0.758] },
        optimismCorrectedAuc: 0.705,
        bootstrapResamples: 200,
        calibrationIntercept: 0,
        calibrationSlope: 1,
        brier: 0.171,
      },
    },
    ...overrides,
  };
}

const made: string[] = [];
afterAll(() => {
  for (const dir of made) rmSync(dir, { recursive: true, force: true });
});

function modelDir(files: Record<string, unknown>): string {
  const dir = mkdtempSync(join(tmpdir(), 'pvp-models-'));
  made.push(dir);
  for (const [name, content] of Object.entries(files)) {
    writeFileSync(join(dir, name), typeof content === 'string' ? content : JSON.stringify(content));
  }
  return dir;
}

function assessmentOf(card: Card): {
  points: number;
  probability: { estimate: number; ci: [number, number] };
} {
  const assessment = card.extension?.['pvp-cds.assessment'];
  if (!assessment) throw new Error(`card "${card.summary}" has no assessment`);
  return assessment as ReturnType<typeof assessmentOf>;
}

/** The expected probability and interval, computed here from the formula, not by the service's code. */
function expected(points: number): { p: number; low: number; high: number } {
  const x = points * Math.LN2;
  const lp = a + b * x;
  const variance = varA + 2 * x * covAB + x * x * varB;
  const logistic = (v: number) => 1 / (1 + Math.exp(-v));
  const half = 1.959964 * Math.sqrt(variance);
  return { p: logistic(lp), low: logistic(lp - half), high: logistic(lp + half) };
}

const pct = (p: number) => (p < 0.1 || p > 0.9 ? `${(p * 100).toFixed(1)}%` : `${Math.round(p * 100)}%`);

describe('MODEL_DIR at start-up', () => {
  it('takes the calibrated model of a kind from MODEL_DIR and the published one for the other kind', () => {
    const dir = modelDir({ 'rbp-local.json': recalibrated(), 'notes.txt': 'not a model' });
    const { models, files } = loadModelFiles(dir);
    expect(models['residual-pain-risk'].version).toBe(version);
    expect(models['residual-pain-risk'].local?.method).toBe('recalibrated');
    expect(files['residual-pain-risk']).toBe(join(dir, 'rbp-local.json'));
    expect(models['refracture-risk'].version).toBe('1.1.0');
    expect(models['refracture-risk'].local).toBeUndefined();
  });

  it.each([
    ['not JSON', { 'rbp-local.json': '{"id": ' }, /rbp-local\.json is not JSON/],
    [
      'a covariance of the wrong size',
      {
        'rbp-local.json': recalibrated({
          local: { ...(recalibrated().local as object), covariance: [[1]] },
        }),
      },
      /rbp-local\.json is invalid: .*local\.covariance must be square/,
    ],
    [
      'an outcome of the other kind',
      {
        'rbp-local.json': recalibrated({
          local: { ...(recalibrated().local as object), outcome: 'refracture' },
        }),
      },
      /rbp-local\.json is invalid: .*local\.outcome/,
    ],
    [
      'two models of one kind',
      { 'a.json': recalibrated(), 'b.json': recalibrated() },
      /two residual-pain-risk models: .*a\.json and .*b\.json/,
    ],
    ['no model file', { 'README.txt': 'x' }, /holds no model file/],
  ])('refuses %s, naming it', (_, files, message) => {
    expect(() => loadModelFiles(modelDir(files))).toThrow(ModelFileError);
    expect(() => loadModelFiles(modelDir(files))).toThrow(message);
  });

  it('a bad model file stops the process with exit 1, naming the file', () => {
    const dir = modelDir({ 'rbp-local.json': { ...recalibrated(), tiers: [] } });
    const started = spawnSync(process.execPath, ['src/main.ts'], {
      env: { PATH: process.env.PATH ?? '', CDS_AUTH: 'off', MODEL_DIR: dir, DATA_DIR: 'memory://' },
      encoding: 'utf8',
      timeout: 30_000,
    });
    expect(started.status).toBe(1);
    expect(started.stderr).toContain(
      `pvp-cds cannot start: model file ${join(dir, 'rbp-local.json')} is invalid`,
    );
    expect(started.stderr).toContain('tiers');
  });
});

describe('cards and pages of a calibrated model', () => {
  let app: RunningApp;
  let fhir: TestFhirServer;
  let body: unknown;

  beforeAll(async () => {
    const scenario = await scenarioPrefetch('high-rbp-risk');
    fhir = scenario.fhir;
    app = await startApp({ MODEL_DIR: modelDir({ 'rbp-local.json': recalibrated() }) });
    body = await hookBody('order-sign', scenario.patientId, {
      prefetch: scenario.prefetch,
      draftOrders: 'high-rbp-risk.draft-orders',
    });
  });
  afterAll(async () => {
    await Promise.all([app.close(), fhir.close()]);
  });

  async function rbpCard(language?: string): Promise<Card> {
    const response = await app.post(
      '/cds-services/pvp-risk-order-sign',
      body,
      language ? { 'accept-language': language } : {},
    );
    expect(response.status).toBe(200);
    const { cards } = (await response.json()) as { cards: Card[] };
    const card = cards.find(
      (c) => (c.extension?.['pvp-cds.assessment'] as { kind?: string })?.kind === 'residual-pain-risk',
    );
    if (!card) throw new Error('no residual back pain card');
    await app.store.ledger.settled();
    return card;
  }

  it('shows the probability with its interval next to the tier, and names the version', async () => {
    const card = await rbpCard();
    const assessment = assessmentOf(card);
    const want = expected(assessment.points);
    expect(assessment.points).toBeGreaterThan(0);
    expect(assessment.probability.estimate).toBeCloseTo(want.p, 10);
    expect(assessment.probability.ci[0]).toBeCloseTo(want.low, 10);
    expect(assessment.probability.ci[1]).toBeCloseTo(want.high, 10);
    expect(card.summary).toContain(`(${assessment.points} pts, ${pct(want.p)})`);
    expect(card.detail).toContain(
      `**Probability in this hospital's patients: ${pct(want.p)}** (95% CI ${pct(want.low)}–${pct(want.high)})`,
    );
    expect(card.detail).toContain(
      `version ${version}), recalibrated on this hospital's patients: 640 patients`,
    );
    expect(card.detail).not.toContain('Tiers are relative');
    expect(card.source.label).toContain(version);
  });

  it('in Chinese too', async () => {
    const card = await rbpCard('zh-CN');
    const { points } = assessmentOf(card);
    const want = expected(points);
    expect(card.summary).toContain(`（${points} 分，${pct(want.p)}）`);
    expect(card.detail).toContain(
      `**本院患者中的发生概率：${pct(want.p)}**（95% CI ${pct(want.low)}–${pct(want.high)}）`,
    );
    expect(card.detail).toContain('再校准');
  });

  it('the re-fracture card of the published model shows no probability and says its tiers are relative', async () => {
    const response = await app.post('/cds-services/pvp-risk-order-sign', body);
    const { cards } = (await response.json()) as { cards: Card[] };
    const refracture = cards.find(
      (c) => (c.extension?.['pvp-cds.assessment'] as { kind?: string })?.kind === 'refracture-risk',
    );
    expect(refracture).toBeDefined();
    expect(refracture?.detail).toContain('Tiers are relative');
    expect(refracture?.detail).not.toContain('Probability in this hospital');
    expect(refracture?.extension?.['pvp-cds.assessment']).not.toHaveProperty('probability');
  });

  it('the explanation page shows the same probability', async () => {
    const card = await rbpCard();
    const { points } = assessmentOf(card);
    const want = expected(points);
    const link = card.links?.find((l) => l.url.includes('/explain/'));
    const page = await (await fetch(link?.url ?? '', { headers: { accept: 'text/html' } })).text();
    expect(page).toContain(
      `id="probability">Probability in this hospital&#39;s patients: ${pct(want.p)} (95% CI ${pct(want.low)}–${pct(want.high)})`,
    );
    expect(page).toContain(
      'recalibrated on this hospital&#39;s patients (640 patients, 150 events, 2026-12-01',
    );
  });

  it('the model page shows how it was calibrated, and the JSON is the file', async () => {
    const html = await (await fetch(`${app.url}/models/rbp-v1`, { headers: { accept: 'text/html' } })).text();
    expect(html).toContain('id="calibrated"');
    expect(html).toContain('recalibrated on 640 patients (150 events), 2026-12-01');
    expect(html).toContain('0.71 (0.67–0.76)');
    expect(html).toContain('−2.10 (−2.49 – −1.71)');
    expect(html).not.toContain('Tiers are relative');
    const json = (await (await fetch(`${app.url}/models/rbp-v1?format=json`)).json()) as { version: string };
    expect(json.version).toBe(version);
  });
});
