/**
 * The model tool's statistics on seeded synthetic cohorts drawn from known coefficients: the fit
 * recovers them within their confidence intervals, the AUC equals a direct Mann–Whitney count, the
 * Brier score a direct mean, and recalibration recovers a known intercept shift and slope.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { checkFittable, readCohort } from '../../scripts/model/cohort.ts';
import {
  evaluate,
  fitModel,
  publishedPredictor,
  type RunOptions,
  recalibrate,
} from '../../scripts/model/commands.ts';
import { FitFailed, fitLogistic } from '../../scripts/model/logistic.ts';
import { smoothedCalibration } from '../../scripts/model/report.ts';
import { auc, randomSource } from '../../scripts/model/validation.ts';
import { probability } from '../../src/clinical/calibration.ts';
import { modelSchema } from '../../src/clinical/model.ts';
import { loadModel } from '../../src/clinical/model-files.ts';
import { rbpFactors, syntheticCohort } from '../support/synthetic-cohort.ts';

const dir = mkdtempSync(join(tmpdir(), 'pvp-cohort-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const rbp = loadModel('rbp-v1.json');
const silent = { start() {}, tick() {}, stop() {} };
const run = (bootstrap = 200): RunOptions => ({
  random: randomSource('test'),
  bootstrap,
  folds: 10,
  minEventsPerFactor: 10,
  progress: silent,
  now: new Date('2026-12-03T08:00:00Z'),
});

function cohortFile(name: string, csv: string) {
  const file = join(dir, name);
  writeFileSync(file, csv);
  return readCohort(file, { model: rbp, outcomeColumn: 'residual-pain' });
}

/** The fraction of (event, non-event) pairs where the event scores higher, ties one half: O(n²). */
function mannWhitney(scores: number[], outcomes: number[]): number {
  let wins = 0;
  let pairs = 0;
  outcomes.forEach((yi, i) => {
    if (yi !== 1) return;
    outcomes.forEach((yj, j) => {
      if (yj !== 0) return;
      pairs++;
      const si = scores[i] ?? 0;
      const sj = scores[j] ?? 0;
      wins += si > sj ? 1 : si === sj ? 0.5 : 0;
    });
  });
  return wins / pairs;
}

const truth: Record<string, number> = {
  depression: 1.1,
  bmd: 0.5,
  'multiple-levels': 0.4,
  diabetes: 0.45,
  'no-anti-osteoporosis-drug': 0.3,
  'intravertebral-cleft': 1.2,
  'fascia-injury': 1.0,
  'cement-maldistribution': 0.6,
  'cement-leakage': 0.9,
};
const trueIntercept = -3;

describe('fit', () => {
  const synthetic = syntheticCohort({
    patients: 5000,
    intercept: trueIntercept,
    factors: rbpFactors(truth),
    outcomeColumn: 'residual-pain',
    seed: 'recover',
  });
  const cohort = cohortFile('recover.csv', synthetic.csv);
  const result = fitModel(rbp, 'residual-pain', cohort, run());
  const local = result.model.local;
  if (local?.method !== 'fitted') throw new Error('not a fitted model');

  it('recovers the generating coefficients within their 95% intervals (all within 3 standard errors)', () => {
    const outside = local.coefficients.filter((c) => {
      const t = truth[c.factor] as number;
      return t < c.ci[0] || t > c.ci[1];
    });
    expect(outside.length).toBeLessThanOrEqual(1);
    for (const c of local.coefficients) {
      const se = (c.ci[1] - c.ci[0]) / (2 * 1.959964);
      expect(Math.abs((truth[c.factor] as number) - c.estimate)).toBeLessThan(3 * se);
    }
    expect(local.intercept.ci[0]).toBeLessThan(trueIntercept);
    expect(local.intercept.ci[1]).toBeGreaterThan(trueIntercept);
    expect(local.coefficients.map((c) => c.factor)).toEqual(Object.keys(truth));
  });

  it('reports an AUC equal to a direct Mann–Whitney count, and a Brier score equal to a direct mean', () => {
    const scores = cohort.x.map((row) => {
      const levels = new Map(cohort.factors.map((id, j) => [id, row[j] ?? 0]));
      return probability(local, rbp.factors, levels).estimate;
    });
    expect(local.validation.auc.estimate).toBeCloseTo(mannWhitney(scores, cohort.y), 3);
    const brier = scores.reduce((s, p, i) => s + (p - (cohort.y[i] ?? 0)) ** 2, 0) / scores.length;
    expect(local.validation.brier).toBeCloseTo(brier, 6);
    expect(local.validation.auc.ci[0]).toBeLessThan(local.validation.auc.estimate);
    expect(local.validation.auc.ci[1]).toBeGreaterThan(local.validation.auc.estimate);
  });

  it('corrects the AUC for optimism with 200 refitted resamples, and writes a file the service loads', () => {
    expect(local.validation.bootstrapResamples).toBe(200);
    expect(local.validation.optimismCorrectedAuc).toBeLessThan(local.validation.auc.estimate);
    expect(local.validation.auc.estimate - local.validation.optimismCorrectedAuc).toBeLessThan(0.02);
    expect(local.validation.calibrationSlope).toBeCloseTo(1, 1);
    expect(result.figures.optimismCorrectedSlope).toBeLessThan(local.validation.calibrationSlope);
    expect(result.figures.optimismCorrectedSlope).toBeGreaterThan(0.95);
    expect(Math.abs(local.validation.calibrationIntercept)).toBeLessThan(0.01);
    expect(local.cohort).toMatchObject({ patients: 5000, events: cohort.events });
    expect(local.coefficients.reduce((s, c) => s + c.importance, 0)).toBeCloseTo(1, 10);
    expect(modelSchema.safeParse(JSON.parse(JSON.stringify(result.model))).success).toBe(true);
    expect(result.model.version).toBe('1.1.0+fitted.2026-12-03');
  });

  it('a held-out cohort from the same coefficients is well calibrated under the fitted model', () => {
    const heldOut = cohortFile(
      'held-out.csv',
      syntheticCohort({
        patients: 4000,
        intercept: trueIntercept,
        factors: rbpFactors(truth),
        outcomeColumn: 'residual-pain',
        seed: 'held-out',
      }).csv,
    );
    const { figures, probabilities = [] } = evaluate(result.model, heldOut, run(50));
    // The smoothed calibration curve follows the diagonal (a robust loess would sink below it).
    const curve = smoothedCalibration(probabilities, heldOut.y);
    expect(curve.length).toBeGreaterThan(50);
    for (const point of curve.filter((p) => p.predicted > 0.1 && p.predicted < 0.6)) {
      expect(Math.abs(point.observed - point.predicted)).toBeLessThan(0.05);
    }
    expect(figures.calibrationSlope).toBeGreaterThan(0.85);
    expect(figures.calibrationSlope).toBeLessThan(1.15);
    expect(Math.abs(figures.calibrationIntercept)).toBeLessThan(0.15);
    expect(figures.auc.estimate).toBeCloseTo(local.validation.auc.estimate, 1);
  });
});

describe('recalibrate', () => {
  const shift = -2.4;
  const slope = 0.8;
  const csv = syntheticCohort({
    patients: 4000,
    intercept: 0,
    factors: rbpFactors({}),
    outcomeColumn: 'residual-pain',
    seed: 'shift',
  }).rows;
  // Outcomes drawn from the published points: logit p = shift + slope × points × ln 2.
  const random = randomSource('outcomes');
  const header = [...rbp.factors.map((f) => f.id), 'residual-pain'];
  const draft = cohortFile(
    'points.csv',
    `${header.join(',')}\n${csv.map((r) => header.map((h) => r[h]).join(',')).join('\n')}\n`,
  );
  const lp = publishedPredictor(rbp, draft);
  const withOutcomes = csv.map((r, i) => ({
    ...r,
    'residual-pain': random() < 1 / (1 + Math.exp(-(shift + slope * (lp[i] ?? 0)))) ? 1 : 0,
  }));
  const cohort = cohortFile(
    'recalibrate.csv',
    `${header.join(',')}\n${withOutcomes.map((r) => header.map((h) => r[h as keyof typeof r]).join(',')).join('\n')}\n`,
  );

  it('recovers a known intercept shift and slope, keeping the published points', () => {
    const result = recalibrate(rbp, cohort, run());
    const local = result.model.local;
    if (local?.method !== 'recalibrated') throw new Error('not recalibrated');
    expect(local.intercept.ci[0]).toBeLessThan(shift);
    expect(local.intercept.ci[1]).toBeGreaterThan(shift);
    expect(local.slope.ci[0]).toBeLessThan(slope);
    expect(local.slope.ci[1]).toBeGreaterThan(slope);
    expect(result.model.factors).toEqual(rbp.factors);
    expect(local.validation.auc.estimate).toBeCloseTo(auc(lp, cohort.y), 10);
    expect(modelSchema.safeParse(JSON.parse(JSON.stringify(result.model))).success).toBe(true);
  });

  it('the published model evaluated on it: the points discriminate, and the figures say how far off it is', () => {
    const { figures, probabilities } = evaluate(rbp, cohort, run(20));
    expect(probabilities).toBeUndefined();
    expect(figures.brier).toBeUndefined();
    expect(figures.auc.estimate).toBeCloseTo(mannWhitney(lp, cohort.y), 3);
    expect(figures.calibrationSlope).toBeCloseTo(slope, 1);
  });
});

describe('columns the fit cannot tell apart', () => {
  const base = syntheticCohort({
    patients: 2000,
    intercept: -1,
    factors: rbpFactors(truth),
    outcomeColumn: 'residual-pain',
    seed: 'collinear',
  }).rows;
  const header = [...rbp.factors.map((f) => f.id), 'residual-pain'];
  const cohortOf = (name: string, edit: (row: Record<string, number>) => void) =>
    cohortFile(
      name,
      `${header.join(',')}\n${base
        .map((row) => {
          const copy = { ...row };
          edit(copy);
          return header.map((h) => copy[h]).join(',');
        })
        .join('\n')}\n`,
    );

  it('a column that is the complement of another is named with it', () => {
    const cohort = cohortOf('complement.csv', (row) => {
      row['cement-leakage'] = 1 - (row.depression ?? 0);
    });
    expect(() => checkFittable(cohort, 10, cohort.factors.length)).toThrow(
      /collinear columns: cement-leakage is \(nearly\) a linear combination of depression \(/,
    );
  });

  it('a sum of two columns names both, and only them', () => {
    const cohort = cohortOf('sum.csv', (row) => {
      row['fascia-injury'] = 0;
      row.diabetes = 0;
      if ((row.depression ?? 0) + (row['multiple-levels'] ?? 0) === 1) row.diabetes = 1;
      if ((row.depression ?? 0) + (row['multiple-levels'] ?? 0) === 2) row['fascia-injury'] = 1;
      row['cement-maldistribution'] = (row.diabetes ?? 0) + 2 * (row['fascia-injury'] ?? 0) > 0 ? 1 : 0;
    });
    // diabetes + 2 × fascia-injury = depression + multiple-levels, so fascia-injury is the combination.
    expect(() => checkFittable(cohort, 10, cohort.factors.length)).toThrow(
      /fascia-injury is \(nearly\) a linear combination of depression, multiple-levels, diabetes \(R² 1\.0000/,
    );
  });

  it('one discordant patient in 2000 is still collinear; independent columns pass', () => {
    const near = cohortOf('near.csv', (row) => {
      row['fascia-injury'] = row.depression ?? 0;
    });
    const row = near.x[7] as number[];
    row[6] = 1 - (row[6] ?? 0);
    expect(() => checkFittable(near, 10, near.factors.length)).toThrow(
      /fascia-injury is \(nearly\) a linear combination of depression \(R² 0\.99\d\d, variance inflation ≥ \d{3}/,
    );
    const independent = cohortOf('independent.csv', () => {});
    expect(() => checkFittable(independent, 10, independent.factors.length)).not.toThrow();
  });
});

describe('fitLogistic', () => {
  const random = randomSource('singular');
  const x = Array.from({ length: 400 }, () => {
    const a = random() < 0.4 ? 1 : 0;
    return [a, random() < 0.5 ? 1 : 0, 1 - a];
  });
  const y = x.map(([a = 0, b = 0]) => (random() < 1 / (1 + Math.exp(-(-1 + a + 0.5 * b))) ? 1 : 0));

  it('a column that is the complement of another (singular information) fails as FitFailed', () => {
    expect(() => fitLogistic(x, y)).toThrow(FitFailed);
  });

  it('with a ridge penalty the same columns fit, the effect shared between the two', () => {
    const { beta } = fitLogistic(x, y, { lambda: 1 });
    expect((beta[1] ?? 0) - (beta[3] ?? 0)).toBeGreaterThan(0.3);
    expect(beta[1]).toBeCloseTo(-(beta[3] ?? 0), 6);
  });
});
