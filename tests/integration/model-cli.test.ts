/**
 * `npm run model` as a hospital's analyst runs it: the CLI as a process on CSV files. A fitted file is
 * loaded by the service (MODEL_DIR) and its cards show the probability the file's coefficients give;
 * the report opens in Chromium with both charts drawn; every kind of bad input exits 2 naming the
 * column or rule.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Card } from '../../src/cds-hooks/schemas.ts';
import type { Calibration } from '../../src/clinical/calibration.ts';
import { loadModelFiles } from '../../src/clinical/model-files.ts';
import { startApp } from '../support/app.ts';
import { launchBrowser } from '../support/browser.ts';
import { hookBody, scenarioPrefetch } from '../support/hook-calls.ts';
import { rbpFactors, syntheticCohort } from '../support/synthetic-cohort.ts';

const dir = mkdtempSync(join(tmpdir(), 'pvp-model-cli-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function model(...args: string[]) {
  const run = spawnSync(process.execPath, ['scripts/model/cli.ts', ...args], {
    encoding: 'utf8',
    timeout: 60_000,
  });
  return { status: run.status, stdout: run.stdout, stderr: run.stderr };
}

function file(name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

const coefficients = {
  depression: 1.0,
  bmd: 0.6,
  'multiple-levels': 0.3,
  diabetes: 0.5,
  'no-anti-osteoporosis-drug': 0.4,
  'intravertebral-cleft': 1.1,
  'fascia-injury': 0.9,
  'cement-maldistribution': 0.5,
  'cement-leakage': 0.8,
};
const cohort = syntheticCohort({
  patients: 2500,
  intercept: -2.8,
  factors: rbpFactors(coefficients),
  outcomeColumn: 'residual-pain',
  seed: 'cli',
});
const header = cohort.csv.split('\n')[0] as string;
const rows = cohort.csv.trim().split('\n').slice(1);

describe('fit, evaluate and report through the CLI', () => {
  const data = join(dir, 'cohort.csv');
  const out = join(dir, 'models', 'rbp-local.json');

  beforeAll(() => {
    writeFileSync(data, cohort.csv);
  });

  it('fit writes a model file the service loads, and prints its figures', () => {
    const run = model('fit', '--data', data, '--outcome', 'residual-pain', '--out', out);
    expect(run.stderr).toContain('bootstrap: 200 steps');
    expect(run.status).toBe(0);
    expect(run.stdout).toMatch(/AUC \(95% CI\)\s+0\.\d{3} \(0\.\d{3}–0\.\d{3}\)/);
    expect(run.stdout).toMatch(/Optimism-corrected AUC\s+0\.\d{3}/);
    expect(run.stdout).toMatch(/depression\s+1\.\d{3} \(/);
    const { models } = loadModelFiles(join(dir, 'models'));
    const local = models['residual-pain-risk'].local as Calibration & { method: 'fitted' };
    expect(local.method).toBe('fitted');
    expect(local.cohort.patients).toBe(2500);
    for (const c of local.coefficients) {
      const truth = coefficients[c.factor as keyof typeof coefficients];
      const se = (c.ci[1] - c.ci[0]) / (2 * 1.959964);
      expect(Math.abs(truth - c.estimate)).toBeLessThan(3 * se);
    }
    expect(model('fit', '--data', data, '--outcome', 'residual-pain', '--out', out).stderr).toMatch(
      /exists; add --force/,
    );
  });

  it('evaluate prints the same AUC as the fit, as JSON too', () => {
    const fitted = JSON.parse(readFileSync(out, 'utf8')) as { local: Calibration };
    const run = model('evaluate', '--model', out, '--data', data, '--json', '--bootstrap', '20');
    expect(run.status).toBe(0);
    const { figures } = JSON.parse(run.stdout) as { figures: { auc: { estimate: number }; brier: number } };
    expect(figures.auc.estimate).toBeCloseTo(fitted.local.validation.auc.estimate, 10);
    expect(figures.brier).toBeCloseTo(fitted.local.validation.brier, 10);
  });

  it('evaluate on a held-out cohort prints its AUC (a direct Mann–Whitney count) and good calibration', () => {
    const heldOut = syntheticCohort({
      patients: 1500,
      intercept: -2.8,
      factors: rbpFactors(coefficients),
      outcomeColumn: 'residual-pain',
      seed: 'cli-held-out',
    });
    const run = model('evaluate', '--model', out, '--data', file('held-out.csv', heldOut.csv));
    expect(run.status).toBe(0);
    const fitted = JSON.parse(readFileSync(out, 'utf8')) as {
      local: { intercept: { estimate: number }; coefficients: Array<{ factor: string; estimate: number }> };
    };
    const scores = heldOut.rows.map((row) =>
      fitted.local.coefficients.reduce(
        (lp, c) => lp + c.estimate * (row[c.factor] ?? 0),
        fitted.local.intercept.estimate,
      ),
    );
    const outcomes = heldOut.rows.map((row) => row['residual-pain'] ?? 0);
    let wins = 0;
    let pairs = 0;
    outcomes.forEach((yi, i) => {
      outcomes.forEach((yj, j) => {
        if (yi !== 1 || yj !== 0) return;
        pairs++;
        const [si = 0, sj = 0] = [scores[i], scores[j]];
        wins += si > sj ? 1 : si === sj ? 0.5 : 0;
      });
    });
    const printed = (label: string) =>
      Number(run.stdout.match(new RegExp(`${label}\\s+(-?\\d\\.\\d{3})`))?.[1]);
    expect(printed('AUC \\(95% CI\\)')).toBe(Number((wins / pairs).toFixed(3)));
    expect(Math.abs(printed('Calibration intercept'))).toBeLessThan(0.2);
    expect(Math.abs(printed('Calibration slope') - 1)).toBeLessThan(0.2);
    expect(run.stdout).toMatch(/Brier score\s+0\.\d{3}/);
  });

  it('evaluate on the published model: the points rank, and there is no Brier score', () => {
    const run = model('evaluate', '--model', 'rbp-v1', '--data', data, '--bootstrap', '20');
    expect(run.status).toBe(0);
    expect(run.stdout).toMatch(/^rbp-v1 1\.1\.0\n/);
    expect(run.stdout).toMatch(/AUC \(95% CI\)\s+0\.\d{3}/);
    expect(run.stdout).toMatch(/Brier score\s+not available: the model gives no probabilities/);
  });

  it('recalibrate keeps the published points and fits intercept and slope', () => {
    const recalibrated = join(dir, 'recalibrated', 'rbp.json');
    const run = model('recalibrate', '--model', 'rbp-v1', '--data', data, '--out', recalibrated);
    expect(run.status).toBe(0);
    expect(run.stdout).toMatch(/Slope on points × ln 2 \(95% CI\)\s+\d\.\d{3}/);
    const { models } = loadModelFiles(join(dir, 'recalibrated'));
    expect(models['residual-pain-risk'].local?.method).toBe('recalibrated');
    expect(models['residual-pain-risk'].version).toMatch(/^1\.1\.0\+recalibrated\.\d{4}-\d{2}-\d{2}$/);
  });

  it('report writes one self-contained page whose two charts Chromium draws', async () => {
    const report = join(dir, 'report.html');
    const run = model('report', '--model', out, '--data', data, '--out', report);
    expect(run.status).toBe(0);
    const html = readFileSync(report, 'utf8');
    expect(html).not.toMatch(/<script|https?:\/\/(?!www\.w3\.org)/);
    const browser = await launchBrowser();
    try {
      const page = await browser.newPage({ viewport: { width: 1100, height: 1400 } });
      const errors: string[] = [];
      page.on('console', (m) => {
        if (m.type() === 'error') errors.push(m.text());
      });
      await page.goto(pathToFileURL(report).href);
      const deciles = await page.locator('#calibration svg .mark-symbol path').count();
      const smoothed =
        (await page.locator('#calibration svg .mark-line path').last().getAttribute('d')) ?? '';
      const rocPath = (await page.locator('#roc svg .mark-line path').last().getAttribute('d')) ?? '';
      const box = await page.locator('#roc svg').boundingBox();
      expect(deciles).toBe(10);
      expect(smoothed.split(/[LH V]/).length).toBeGreaterThan(20);
      expect(rocPath.split(/[LH V]/).length).toBeGreaterThan(100);
      expect(box?.width).toBeGreaterThan(300);
      expect(await page.locator('#figures').innerText()).toMatch(/AUC \(95% CI\)\s+0\.\d{3}/);
      expect(errors).toEqual([]);
      if (process.env.SCREENSHOT_DIR) {
        await page.screenshot({ path: join(process.env.SCREENSHOT_DIR, 'model-report.png'), fullPage: true });
      }
    } finally {
      await browser.close();
    }
  });

  it('the service takes the fitted file from MODEL_DIR: the card shows the probability its coefficients give', async () => {
    const scenario = await scenarioPrefetch('high-rbp-risk');
    const app = await startApp({ MODEL_DIR: join(dir, 'models') });
    try {
      const body = await hookBody('order-sign', scenario.patientId, {
        prefetch: scenario.prefetch,
        draftOrders: 'high-rbp-risk.draft-orders',
      });
      const { cards } = (await (await app.post('/cds-services/pvp-risk-order-sign', body)).json()) as {
        cards: Card[];
      };
      const card = cards.find(
        (c) => (c.extension?.['pvp-cds.assessment'] as { kind?: string })?.kind === 'residual-pain-risk',
      );
      const assessment = card?.extension?.['pvp-cds.assessment'] as {
        factors: Array<{ id: string; points: number }>;
        probability: { estimate: number };
      };
      const fitted = JSON.parse(readFileSync(out, 'utf8')) as {
        local: {
          intercept: { estimate: number };
          coefficients: Array<{ factor: string; estimate: number; ci: [number, number] }>;
        };
      };
      // bmd earns 1 point at level 1 and 2 at level 2; every other factor of rbp-v1 is level 1 when it counts.
      const level = (f: { id: string; points: number }) => (f.id === 'bmd' ? f.points : 1);
      const lp = assessment.factors.reduce(
        (sum, f) =>
          sum + (fitted.local.coefficients.find((c) => c.factor === f.id)?.estimate ?? 0) * level(f),
        fitted.local.intercept.estimate,
      );
      expect(assessment.factors.length).toBeGreaterThan(0);
      expect(assessment.probability.estimate).toBeCloseTo(1 / (1 + Math.exp(-lp)), 10);
      expect(card?.detail).toContain("Probability in this hospital's patients");
      expect(card?.detail).toMatch(/fitted on this hospital's patients: 2500 patients/);
      // The factor table adds the hospital's odds ratio: e^β for depression (level 1), with its interval.
      const depression = fitted.local.coefficients.find((c) => c.factor === 'depression');
      const odds = (beta: number) => Math.exp(beta).toFixed(2);
      const row = (card?.detail ?? '').split('\n').find((line) => line.startsWith('| Depression'));
      expect(card?.detail).toContain('| Odds ratio in this hospital (95% CI) |');
      expect(row).toMatch(
        new RegExp(
          `\\| ${odds(depression?.estimate ?? 0)} \\(${odds(depression?.ci[0] ?? 0)}–${odds(depression?.ci[1] ?? 0)}\\) \\|$`,
        ),
      );
    } finally {
      await Promise.all([app.close(), scenario.fhir.close()]);
    }
  });
});

describe('bad input exits 2 naming the problem', () => {
  const body = (lines: string[]) => `${header}\n${lines.join('\n')}\n`;
  const cases: Array<[string, () => string[], RegExp]> = [
    ['a missing file', () => ['--data', join(dir, 'nope.csv')], /nope\.csv: no such file/],
    [
      'a missing column',
      () => ['--data', file('no-bmd.csv', cohort.csv.replace(/(^|\n)([^,\n]*),([^,\n]*),/g, '$1$2,'))],
      /missing column\(s\) bmd .*--factors/,
    ],
    [
      'a non-binary outcome',
      () => ['--data', file('outcome.csv', body([...rows.slice(0, 50), '0,0,0,0,0,0,0,0,0,2']))],
      /line 52, column residual-pain: the outcome must be 0 or 1, not 2/,
    ],
    [
      'too few events per factor',
      () => ['--data', file('few.csv', body(rows.slice(0, 150)))],
      /too few events per factor: \d+ events .* at least 10 of each per parameter \(90\)/,
    ],
    [
      'a constant column',
      () => ['--data', file('constant.csv', body(rows.map((r) => r.replace(/^\d/, '1'))))],
      /column depression is constant/,
    ],
    [
      'collinear columns',
      () => [
        '--data',
        file(
          'collinear.csv',
          body(
            rows.map((r) => {
              const cells = r.split(',');
              cells[6] = cells[0] as string;
              return cells.join(',');
            }),
          ),
        ),
      ],
      /collinear columns: fascia-injury is \(nearly\) a linear combination of depression \(R² 1\.0000/,
    ],
    [
      'a non-numeric cell',
      () => ['--data', file('text.csv', body([...rows.slice(0, 9), 'yes,0,0,0,0,0,0,0,0,1']))],
      /line 11, column depression: "yes" is not a number/,
    ],
    [
      'an unclosed quote',
      () => [
        '--data',
        file('quote.csv', body([...rows.slice(0, 4), '1,"0,0,0,0,0,0,0,0,1', ...rows.slice(4, 8)])),
      ],
      /quote\.csv: not readable as CSV: Quote Not Closed/,
    ],
    [
      'a duplicated column',
      () => [
        '--data',
        file('twice.csv', cohort.csv.replace(/^([^,]*),/, '$1,depression,').replace(/\n(\d),/g, '\n$1,$1,')),
      ],
      /column depression appears more than once in the header/,
    ],
    [
      'a banded level out of range',
      () => ['--data', file('level.csv', body([...rows.slice(0, 3), '0,3,0,0,0,0,0,0,0,1']))],
      /line 5, column bmd: must be a level from 0 to 2, not 3/,
    ],
    [
      'an unknown outcome',
      () => ['--data', join(dir, 'cohort.csv'), '--outcome', 'pain'],
      /--outcome must be one of/,
    ],
  ];

  it.each(cases)('%s', (_, args, message) => {
    const argv = args();
    const withOutcome = argv.includes('--outcome') ? argv : [...argv, '--outcome', 'residual-pain'];
    const out = join(dir, `bad-${Math.random().toString(36).slice(2)}.json`);
    const run = model('fit', ...withOutcome, '--out', out);
    expect(run.stderr).toMatch(message);
    expect(run.status).toBe(2);
    expect(run.stderr).not.toMatch(/\n\s+at /);
    expect(existsSync(out)).toBe(false);
  });
});
