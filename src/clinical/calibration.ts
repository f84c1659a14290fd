/**
 * A model made a hospital's own (`npm run model`): fitted or recalibrated on its cohort, it gives the
 * absolute probability of the outcome, with a 95% interval, from the factors the engine scored. Pure.
 *
 * Each factor is one covariate, the column of the cohort that bears its id: a `present` factor is 1
 * when it counts and 0 otherwise; a `bands` factor is its level, 0 when no band gives it points, 1 for
 * its band with the fewest points, up to the number of bands that give points (rbp-v1's `bmd`: 1 for a
 * T-score ≤ −2.5, 2 for ≤ −3.5). A factor that could not be assessed counts as 0.
 * - `fitted`: logit p = intercept + Σ coefficient × covariate (ridge logistic regression);
 * - `recalibrated`: the published weights kept, logit p = intercept + slope × points × ln 2 (one point
 *   is a doubling of the odds, the model's `pointsRule`).
 * `covariance` is the parameters' covariance, in the order intercept, then the coefficients as listed
 * (fitted) or the slope (recalibrated); the interval is the linear predictor's ± 1.96 standard errors.
 */
import { z } from 'zod';

export const outcomes = ['residual-pain', 'refracture'] as const;
export type Outcome = (typeof outcomes)[number];

const estimateSchema = z.object({
  estimate: z.number(),
  ci: z.tuple([z.number(), z.number()]),
});

const commonSchema = {
  outcome: z.enum(outcomes),
  fittedAt: z.iso.datetime(),
  cohort: z.object({
    patients: z.number().int().positive(),
    events: z.number().int().positive(),
    sha256: z.string().regex(/^[0-9a-f]{64}$/),
  }),
  intercept: estimateSchema,
  covariance: z.array(z.array(z.number())),
  validation: z.object({
    auc: estimateSchema,
    optimismCorrectedAuc: z.number().min(0).max(1),
    bootstrapResamples: z.number().int().positive(),
    calibrationIntercept: z.number(),
    calibrationSlope: z.number(),
    brier: z.number().min(0).max(1),
  }),
};

export const calibrationSchema = z.discriminatedUnion('method', [
  z.object({
    method: z.literal('fitted'),
    ...commonSchema,
    penalty: z.object({ lambda: z.number().nonnegative(), chosenBy: z.string() }),
    coefficients: z
      .array(
        z.object({
          factor: z.string(),
          estimate: z.number(),
          ci: z.tuple([z.number(), z.number()]),
          /** Its share of the model's explained variation (the shares add up to 1). */
          importance: z.number().min(0).max(1),
        }),
      )
      .min(1),
  }),
  z.object({ method: z.literal('recalibrated'), ...commonSchema, slope: estimateSchema }),
]);

export type Calibration = z.infer<typeof calibrationSchema>;

/** The parameters `covariance` is about, in its order. */
export function parameterCount(calibration: Calibration): number {
  return calibration.method === 'fitted' ? 1 + calibration.coefficients.length : 2;
}

interface BandedRule {
  type: 'bands';
  bands: Array<{ points: number }>;
}
interface PresentRule {
  type: 'present';
  points: number;
}
export interface CovariateFactor {
  id: string;
  rule: BandedRule | PresentRule;
}

/** The points of each level of a factor, level 0 first (0 points). */
export function levelPoints(factor: CovariateFactor): number[] {
  if (factor.rule.type === 'present') return [0, factor.rule.points];
  const scoring = [...new Set(factor.rule.bands.map((b) => b.points).filter((p) => p > 0))];
  return [0, ...scoring.sort((a, b) => a - b)];
}

/** A factor's covariate from the points it earned (0 when it did not count or was not assessed). */
export function levelOf(factor: CovariateFactor, points: number): number {
  const level = levelPoints(factor).indexOf(points);
  return level < 0 ? 0 : level;
}

/** The published points of a patient whose covariates are `levels` (absent ids are level 0). */
export function publishedPoints(
  factors: readonly CovariateFactor[],
  levels: ReadonlyMap<string, number>,
): number {
  return factors.reduce((sum, f) => sum + (levelPoints(f)[levels.get(f.id) ?? 0] ?? 0), 0);
}

export function outcomeOfKind(kind: 'residual-pain-risk' | 'refracture-risk'): Outcome {
  return kind === 'residual-pain-risk' ? 'residual-pain' : 'refracture';
}

const logistic = (x: number): number => 1 / (1 + Math.exp(-x));

/**
 * The gradient of the linear predictor in the parameters, for a patient whose covariates are
 * `levels` (factor id → level; absent ids are 0).
 */
export function predictorGradient(
  calibration: Calibration,
  factors: readonly CovariateFactor[],
  levels: ReadonlyMap<string, number>,
): number[] {
  if (calibration.method === 'fitted') {
    return [1, ...calibration.coefficients.map((c) => levels.get(c.factor) ?? 0)];
  }
  return [1, publishedPoints(factors, levels) * Math.LN2];
}

function parameters(calibration: Calibration): number[] {
  return calibration.method === 'fitted'
    ? [calibration.intercept.estimate, ...calibration.coefficients.map((c) => c.estimate)]
    : [calibration.intercept.estimate, calibration.slope.estimate];
}

export interface Probability {
  estimate: number;
  ci: [number, number];
}

export function probability(
  calibration: Calibration,
  factors: readonly CovariateFactor[],
  levels: ReadonlyMap<string, number>,
): Probability {
  const gradient = predictorGradient(calibration, factors, levels);
  const beta = parameters(calibration);
  const predictor = gradient.reduce((sum, g, i) => sum + g * (beta[i] ?? 0), 0);
  let variance = 0;
  for (let i = 0; i < gradient.length; i++) {
    for (let j = 0; j < gradient.length; j++) {
      variance += (gradient[i] ?? 0) * (calibration.covariance[i]?.[j] ?? 0) * (gradient[j] ?? 0);
    }
  }
  const half = 1.959964 * Math.sqrt(Math.max(variance, 0));
  return { estimate: logistic(predictor), ci: [logistic(predictor - half), logistic(predictor + half)] };
}
