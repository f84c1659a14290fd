/**
 * The figures a model is judged by: discrimination (AUC, with a bootstrap interval and Harrell's
 * optimism correction), calibration (intercept and slope), the Brier score; and the ridge penalty
 * chosen by stratified k-fold cross-validation. Seeded (seedrandom), so a run can be repeated.
 */
import seedrandom from 'seedrandom';
import { FitFailed, fitLogistic, linearPredictor, logistic } from './logistic.ts';

export type Random = () => number;

export function randomSource(seed: string | number): Random {
  return seedrandom(String(seed));
}

/**
 * The area under the ROC curve: the probability that an event scores above a non-event, ties counting
 * one half (the Mann–Whitney U statistic over its maximum), from mid-ranks in O(n log n).
 */
export function auc(
  scores: readonly number[],
  outcomes: readonly number[],
  rows?: readonly number[],
): number {
  const index = rows ?? scores.map((_, i) => i);
  const pairs = index.map((i) => ({ s: scores[i] ?? 0, y: outcomes[i] ?? 0 })).sort((a, b) => a.s - b.s);
  let rankSum = 0;
  let events = 0;
  for (let start = 0; start < pairs.length; ) {
    let end = start;
    while (end < pairs.length && pairs[end]?.s === pairs[start]?.s) end++;
    const midRank = (start + 1 + end) / 2;
    for (let k = start; k < end; k++) {
      if (pairs[k]?.y === 1) {
        rankSum += midRank;
        events++;
      }
    }
    start = end;
  }
  const nonEvents = pairs.length - events;
  if (events === 0 || nonEvents === 0) return Number.NaN;
  return (rankSum - (events * (events + 1)) / 2) / (events * nonEvents);
}

export function brier(probabilities: readonly number[], outcomes: readonly number[]): number {
  let sum = 0;
  for (let i = 0; i < outcomes.length; i++) sum += ((probabilities[i] ?? 0) - (outcomes[i] ?? 0)) ** 2;
  return sum / outcomes.length;
}

export interface Calibration {
  /** Calibration-in-the-large: a in logit p = a + LP (LP as offset); 0 when the average risk is right. */
  intercept: number;
  /** b in logit p = a + b·LP; 1 when the spread of the predictions is right, < 1 when too extreme. */
  slope: number;
}

export function calibration(
  predictors: readonly number[],
  outcomes: readonly number[],
  rows?: readonly number[],
): Calibration {
  const inTheLarge = fitLogistic(
    outcomes.map(() => []),
    outcomes,
    { ...(rows ? { rows } : {}), offset: predictors },
  );
  return { intercept: inTheLarge.beta[0] ?? 0, slope: calibrationSlope(predictors, outcomes, rows) };
}

/** b in logit p = a + b·LP, from a = 0, b = 1 (a calibrated predictor). */
export function calibrationSlope(
  predictors: readonly number[],
  outcomes: readonly number[],
  rows?: readonly number[],
): number {
  const fit = fitLogistic(
    predictors.map((lp) => [lp]),
    outcomes,
    { ...(rows ? { rows } : {}), start: [0, 1] },
  );
  return fit.beta[1] ?? 0;
}

/** A bootstrap resample: n row indices drawn with replacement. */
export function resample(n: number, random: Random): number[] {
  return Array.from({ length: n }, () => Math.floor(random() * n));
}

export function percentile(values: readonly number[], q: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  const position = (sorted.length - 1) * q;
  const low = Math.floor(position);
  const high = Math.ceil(position);
  return (sorted[low] ?? 0) + ((sorted[high] ?? 0) - (sorted[low] ?? 0)) * (position - low);
}

/** Stratified folds: events and non-events shuffled apart and dealt in turn, so each fold has both. */
export function stratifiedFolds(outcomes: readonly number[], k: number, random: Random): number[][] {
  const folds: number[][] = Array.from({ length: k }, () => []);
  for (const value of [0, 1]) {
    const rows = outcomes.flatMap((y, i) => (y === value ? [i] : []));
    for (let i = rows.length - 1; i > 0; i--) {
      const j = Math.floor(random() * (i + 1));
      [rows[i], rows[j]] = [rows[j] as number, rows[i] as number];
    }
    for (let i = 0; i < rows.length; i++) folds[i % k]?.push(rows[i] as number);
  }
  return folds;
}

function deviance(
  beta: readonly number[],
  x: readonly (readonly number[])[],
  y: readonly number[],
  rows: number[],
) {
  let sum = 0;
  for (const i of rows) {
    const p = Math.min(Math.max(logistic(linearPredictor(beta, x[i] ?? [])), 1e-12), 1 - 1e-12);
    sum += (y[i] === 1 ? -Math.log(p) : -Math.log(1 - p)) * 2;
  }
  return sum;
}

export const penaltyGrid = [0, 0.01, 0.03, 0.1, 0.3, 1, 3, 10, 30, 100];

export interface PenaltyChoice {
  lambda: number;
  /** Cross-validated deviance per penalty tried (Infinity where a fold did not converge). */
  deviances: Array<{ lambda: number; deviance: number }>;
}

/** The penalty with the least cross-validated deviance. */
export function choosePenalty(
  x: readonly (readonly number[])[],
  y: readonly number[],
  folds: number[][],
  onStep: () => void,
): PenaltyChoice {
  const deviances = penaltyGrid.map((lambda) => {
    let total = 0;
    for (const test of folds) {
      const held = new Set(test);
      const train = y.flatMap((_, i) => (held.has(i) ? [] : [i]));
      try {
        total += deviance(fitLogistic(x, y, { lambda, rows: train }).beta, x, y, test);
      } catch (error) {
        if (!(error instanceof FitFailed)) throw error;
        total = Number.POSITIVE_INFINITY;
      }
      onStep();
    }
    return { lambda, deviance: total };
  });
  const best = deviances.reduce((a, b) => (b.deviance < a.deviance ? b : a));
  if (!Number.isFinite(best.deviance)) throw new FitFailed('no penalty gave a model that converges');
  return { lambda: best.lambda, deviances };
}
