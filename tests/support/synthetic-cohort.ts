/**
 * Seeded synthetic cohorts for the model tool: patients drawn from known coefficients, so a test can
 * check what the fit recovers. Each factor's covariate is drawn from its level probabilities (a
 * present factor: [P(0), P(1)]; a banded one: one probability per level), the outcome from
 * logit p = intercept + Σ coefficient × covariate (+ offset(row), for recalibration tests).
 */
import seedrandom from 'seedrandom';

export interface SyntheticFactor {
  id: string;
  /** Probability of each level, level 0 first; they add up to 1. */
  levels: number[];
  coefficient: number;
}

export interface SyntheticOptions {
  patients: number;
  intercept: number;
  factors: SyntheticFactor[];
  outcomeColumn: string;
  seed: string;
  /** Added to the linear predictor of each row, from its covariates. */
  offset?: (covariates: Record<string, number>) => number;
}

export interface SyntheticCohort {
  csv: string;
  rows: Array<Record<string, number>>;
}

function draw(levels: number[], u: number): number {
  let cumulative = 0;
  for (let level = 0; level < levels.length; level++) {
    cumulative += levels[level] ?? 0;
    if (u < cumulative) return level;
  }
  return levels.length - 1;
}

export function syntheticCohort(options: SyntheticOptions): SyntheticCohort {
  const random = seedrandom(options.seed);
  const rows: Array<Record<string, number>> = [];
  for (let i = 0; i < options.patients; i++) {
    const row: Record<string, number> = {};
    let predictor = options.intercept;
    for (const factor of options.factors) {
      const level = draw(factor.levels, random());
      row[factor.id] = level;
      predictor += factor.coefficient * level;
    }
    predictor += options.offset?.(row) ?? 0;
    row[options.outcomeColumn] = random() < 1 / (1 + Math.exp(-predictor)) ? 1 : 0;
    rows.push(row);
  }
  const header = [...options.factors.map((f) => f.id), options.outcomeColumn];
  const csv = [header.join(','), ...rows.map((r) => header.map((h) => r[h]).join(','))].join('\n');
  return { csv: `${csv}\n`, rows };
}

/** rbp-v1's factors with plausible prevalences and the given coefficients. */
export function rbpFactors(coefficients: Record<string, number>): SyntheticFactor[] {
  const levels: Record<string, number[]> = {
    depression: [0.75, 0.25],
    bmd: [0.3, 0.45, 0.25],
    'multiple-levels': [0.6, 0.4],
    diabetes: [0.75, 0.25],
    'no-anti-osteoporosis-drug': [0.5, 0.5],
    'intravertebral-cleft': [0.8, 0.2],
    'fascia-injury': [0.7, 0.3],
    'cement-maldistribution': [0.7, 0.3],
    'cement-leakage': [0.75, 0.25],
  };
  return Object.entries(levels).map(([id, p]) => ({ id, levels: p, coefficient: coefficients[id] ?? 0 }));
}
