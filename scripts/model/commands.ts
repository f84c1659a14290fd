/**
 * `npm run model` commands: fit (ridge logistic regression on the cohort), recalibrate (the published
 * points kept, intercept and slope fitted), evaluate (any model file on any cohort). Each returns the
 * figures, and fit and recalibrate the model file to write (validated with the service's own schema).
 */
import {
  type Calibration,
  type Outcome,
  outcomeOfKind,
  probability,
  publishedPoints,
} from '../../src/clinical/calibration.ts';
import { type Model, modelSchema } from '../../src/clinical/model.ts';
import { type Cohort, checkFittable, InputError } from './cohort.ts';
import { FitFailed, fitLogistic, linearPredictor, logistic } from './logistic.ts';
import {
  auc,
  brier,
  calibration,
  calibrationSlope,
  choosePenalty,
  penaltyGrid,
  percentile,
  type Random,
  resample,
  stratifiedFolds,
} from './validation.ts';

export interface Progress {
  start(label: string, total: number): void;
  tick(): void;
  stop(): void;
}

export interface RunOptions {
  random: Random;
  bootstrap: number;
  folds: number;
  minEventsPerFactor: number;
  progress: Progress;
  now: Date;
}

export interface Figures {
  patients: number;
  events: number;
  auc: { estimate: number; ci: [number, number] };
  optimismCorrectedAuc?: number;
  optimismCorrectedSlope?: number;
  bootstrapResamples: number;
  calibrationIntercept: number;
  calibrationSlope: number;
  /** Undefined for a model that gives no probabilities (relative tiers only). */
  brier?: number;
}

const z95 = 1.959964;

function interval(estimate: number, variance: number): [number, number] {
  const half = z95 * Math.sqrt(Math.max(variance, 0));
  return [estimate - half, estimate + half];
}

/** The published linear predictor of each row: its points × ln 2 (one point is a doubling of the odds). */
export function publishedPredictor(model: Model, cohort: Cohort): number[] {
  return cohort.x.map(
    (row) =>
      Math.LN2 * publishedPoints(model.factors, new Map(cohort.factors.map((id, j) => [id, row[j] ?? 0]))),
  );
}

/** A fitting procedure: the linear predictor of every row of the cohort from a fit on `rows`. */
type Refit = (rows: readonly number[] | undefined) => number[];

interface Validation {
  figures: Figures;
  /** The apparent figures' probabilities, for reports. */
  probabilities: number[];
}

/**
 * Apparent AUC (bootstrap percentile CI of the fixed predictions), Harrell's optimism correction of
 * the AUC and of the calibration slope (each resample refits; a figure's optimism is its value on the
 * resample minus its value on the cohort, for the resample's model), the apparent calibration
 * intercept and slope, and the Brier score.
 */
function validate(cohort: Cohort, refit: Refit, options: RunOptions): Validation {
  const { y } = cohort;
  const predictor = refit(undefined);
  const probabilities = predictor.map(logistic);
  const apparent = auc(predictor, y);
  const boots: number[] = [];
  const optimism: number[] = [];
  const slopeOptimism: number[] = [];
  options.progress.start('bootstrap', options.bootstrap);
  for (let b = 0; b < options.bootstrap; b++) {
    const rows = resample(y.length, options.random);
    boots.push(auc(predictor, y, rows));
    try {
      const resampled = refit(rows);
      optimism.push(auc(resampled, y, rows) - auc(resampled, y));
      slopeOptimism.push(calibrationSlope(resampled, y, rows) - calibrationSlope(resampled, y));
    } catch (error) {
      if (!(error instanceof FitFailed)) throw error;
    }
    options.progress.tick();
  }
  options.progress.stop();
  if (optimism.length < options.bootstrap / 2) {
    throw new InputError('the model could not be refitted on most bootstrap resamples (separation?)');
  }
  const finite = boots.filter(Number.isFinite);
  const mean = (values: number[]) => values.reduce((s, v) => s + v, 0) / values.length;
  const apparentCalibration = calibration(predictor, y);
  return {
    probabilities,
    figures: {
      patients: y.length,
      events: cohort.events,
      auc: { estimate: apparent, ci: [percentile(finite, 0.025), percentile(finite, 0.975)] },
      optimismCorrectedAuc: apparent - mean(optimism),
      optimismCorrectedSlope: apparentCalibration.slope - mean(slopeOptimism),
      bootstrapResamples: options.bootstrap,
      calibrationIntercept: apparentCalibration.intercept,
      calibrationSlope: apparentCalibration.slope,
      brier: brier(probabilities, y),
    },
  };
}

function validationBlock(figures: Figures): Calibration['validation'] {
  return {
    auc: figures.auc,
    optimismCorrectedAuc: Math.min(Math.max(figures.optimismCorrectedAuc ?? figures.auc.estimate, 0), 1),
    bootstrapResamples: figures.bootstrapResamples,
    calibrationIntercept: figures.calibrationIntercept,
    calibrationSlope: figures.calibrationSlope,
    brier: figures.brier ?? 0,
  };
}

function baseVersion(model: Model): string {
  return model.version.split('+')[0] ?? model.version;
}

function modelFile(base: Model, local: Calibration, cohort: Cohort, method: string): Model {
  const date = local.fittedAt.slice(0, 10);
  const file = {
    ...base,
    version: `${baseVersion(base)}+${method}.${date}`,
    calibration: `${method} on ${cohort.y.length} patients with ${cohort.events} events on ${date} (npm run model); the tiers and points are the published ones`,
    local,
  };
  const parsed = modelSchema.safeParse(file);
  if (!parsed.success) throw new Error(`the model file made is invalid: ${parsed.error.message}`);
  return parsed.data;
}

export interface FitResult {
  model: Model;
  figures: Figures;
  lambda: number;
  probabilities: number[];
}

export function fitModel(base: Model, outcome: Outcome, cohort: Cohort, options: RunOptions): FitResult {
  checkFittable(cohort, options.minEventsPerFactor, cohort.factors.length);
  const { x, y } = cohort;
  const folds = stratifiedFolds(y, options.folds, options.random);
  options.progress.start('cross-validation', penaltyGrid.length * folds.length);
  const { lambda } = choosePenalty(x, y, folds, () => options.progress.tick());
  options.progress.stop();
  const fitted = fitLogistic(x, y, { lambda });
  const refit: Refit = (rows) => {
    const beta = rows ? fitLogistic(x, y, { lambda, rows, start: fitted.beta }).beta : fitted.beta;
    return x.map((row) => linearPredictor(beta, row));
  };
  const { figures, probabilities } = validate(cohort, refit, options);
  const variance = (j: number) => fitted.covariance[j]?.[j] ?? 0;
  const wald = cohort.factors.map((_, j) => (fitted.beta[j + 1] ?? 0) ** 2 / variance(j + 1));
  const totalWald = wald.reduce((s, v) => s + v, 0) || 1;
  const local: Calibration = {
    method: 'fitted',
    outcome,
    fittedAt: options.now.toISOString(),
    cohort: { patients: y.length, events: cohort.events, sha256: cohort.sha256 },
    penalty: { lambda, chosenBy: `${options.folds}-fold stratified cross-validation, least deviance` },
    intercept: { estimate: fitted.beta[0] ?? 0, ci: interval(fitted.beta[0] ?? 0, variance(0)) },
    coefficients: cohort.factors.map((factor, j) => ({
      factor,
      estimate: fitted.beta[j + 1] ?? 0,
      ci: interval(fitted.beta[j + 1] ?? 0, variance(j + 1)),
      importance: (wald[j] ?? 0) / totalWald,
    })),
    covariance: fitted.covariance,
    validation: validationBlock(figures),
  };
  return { model: modelFile(base, local, cohort, 'fitted'), figures, lambda, probabilities };
}

function requireAllFactors(model: Model, cohort: Cohort): void {
  const absent = model.factors.filter((f) => !cohort.factors.includes(f.id)).map((f) => f.id);
  if (absent.length > 0) {
    throw new InputError(
      `${cohort.file}: the points of ${model.id} need every factor's column; missing ${absent.join(', ')}`,
    );
  }
}

export function recalibrate(base: Model, cohort: Cohort, options: RunOptions): FitResult {
  requireAllFactors(base, cohort);
  checkFittable({ ...cohort, factors: [], x: cohort.x.map(() => []) }, options.minEventsPerFactor, 1);
  const points = publishedPredictor(base, cohort).map((lp) => [lp]);
  const { y } = cohort;
  if (points.every((row) => row[0] === points[0]?.[0])) {
    throw new InputError(`${cohort.file}: every patient has the same points: the slope cannot be fitted`);
  }
  const fitted = fitLogistic(points, y);
  const refit: Refit = (rows) => {
    const beta = rows ? fitLogistic(points, y, { rows, start: fitted.beta }).beta : fitted.beta;
    return points.map((row) => linearPredictor(beta, row));
  };
  const { figures, probabilities } = validate(cohort, refit, options);
  const [a = 0, b = 0] = fitted.beta;
  const local: Calibration = {
    method: 'recalibrated',
    outcome: outcomeOfKind(base.kind),
    fittedAt: options.now.toISOString(),
    cohort: { patients: y.length, events: cohort.events, sha256: cohort.sha256 },
    intercept: { estimate: a, ci: interval(a, fitted.covariance[0]?.[0] ?? 0) },
    slope: { estimate: b, ci: interval(b, fitted.covariance[1]?.[1] ?? 0) },
    covariance: fitted.covariance,
    validation: validationBlock(figures),
  };
  const { local: _, ...published } = base;
  return {
    model: modelFile(published as Model, local, cohort, 'recalibrated'),
    figures,
    lambda: 0,
    probabilities,
  };
}

export interface Evaluation {
  figures: Figures;
  /** Each row's probability, or undefined for a model with relative tiers only. */
  probabilities: number[] | undefined;
  /** The score ranked for the ROC curve: the linear predictor. */
  scores: number[];
}

/** Any model file on a cohort: the figures of its predictions, none of them refitted. */
export function evaluate(model: Model, cohort: Cohort, options: RunOptions): Evaluation {
  const local = model.local;
  const needed =
    local?.method === 'fitted' ? local.coefficients.map((c) => c.factor) : model.factors.map((f) => f.id);
  const absent = needed.filter((id) => !cohort.factors.includes(id));
  if (absent.length > 0)
    throw new InputError(`${cohort.file}: missing column(s) ${absent.join(', ')} that ${model.id} uses`);
  const { y } = cohort;
  if (cohort.events === 0 || cohort.events === y.length) {
    throw new InputError(`${cohort.file}: the outcome needs both events and non-events to be evaluated`);
  }
  let probabilities: number[] | undefined;
  let scores: number[];
  if (local) {
    probabilities = cohort.x.map((row) => {
      const levels = new Map(cohort.factors.map((id, j) => [id, row[j] ?? 0]));
      return probability(local, model.factors, levels).estimate;
    });
    scores = probabilities.map((p) => Math.log(p / (1 - p)));
  } else {
    scores = publishedPredictor(model, cohort);
  }
  const boots: number[] = [];
  options.progress.start('bootstrap', options.bootstrap);
  for (let b = 0; b < options.bootstrap; b++) {
    boots.push(auc(scores, y, resample(y.length, options.random)));
    options.progress.tick();
  }
  options.progress.stop();
  const finite = boots.filter(Number.isFinite);
  const fitted = calibration(scores, y);
  return {
    probabilities,
    scores,
    figures: {
      patients: y.length,
      events: cohort.events,
      auc: { estimate: auc(scores, y), ci: [percentile(finite, 0.025), percentile(finite, 0.975)] },
      bootstrapResamples: options.bootstrap,
      calibrationIntercept: fitted.intercept,
      calibrationSlope: fitted.slope,
      ...(probabilities ? { brier: brier(probabilities, y) } : {}),
    },
  };
}
