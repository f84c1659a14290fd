/**
 * Logistic regression by Newton–Raphson (iteratively reweighted least squares), optionally with a
 * ridge penalty on every coefficient but the intercept, and an offset. The linear algebra (the
 * Cholesky factorisation of the information matrix, its solves and its inverse) is ml-matrix's; the
 * Newton loop is the few lines below, since no maintained npm package fits a penalised logistic
 * regression with its covariance.
 *
 * Maximises  Σ [yᵢ ηᵢ − log(1 + e^ηᵢ)] − (λ/2) Σⱼ≥₁ βⱼ²,  ηᵢ = offsetᵢ + β₀ + Σⱼ βⱼ xᵢⱼ.
 * The covariance returned is the inverse of the penalised information matrix X'WX + λP at the
 * solution (P = diag(0, 1, …, 1)): the usual one when λ = 0.
 */
import { CholeskyDecomposition, Matrix } from 'ml-matrix';

export interface LogisticFit {
  /** Intercept first, then one coefficient per column. */
  beta: number[];
  covariance: number[][];
  iterations: number;
}

export class FitFailed extends Error {
  override name = 'FitFailed';
}

export interface FitOptions {
  lambda?: number;
  offset?: readonly number[];
  /** Rows to use (with repeats, for a bootstrap resample); all rows by default. */
  rows?: readonly number[];
  /** Where the Newton steps start (a fit on similar rows, to converge in fewer); zeros by default. */
  start?: readonly number[];
  maxIterations?: number;
}

const logistic = (x: number): number => (x >= 0 ? 1 / (1 + Math.exp(-x)) : Math.exp(x) / (1 + Math.exp(x)));

export function linearPredictor(beta: readonly number[], x: readonly number[], offset = 0): number {
  let eta = offset + (beta[0] ?? 0);
  for (let j = 0; j < x.length; j++) eta += (beta[j + 1] ?? 0) * (x[j] ?? 0);
  return eta;
}

function penalisedLogLikelihood(
  beta: number[],
  x: readonly (readonly number[])[],
  y: readonly number[],
  rows: readonly number[],
  offset: readonly number[] | undefined,
  lambda: number,
): number {
  let sum = 0;
  for (const i of rows) {
    const eta = linearPredictor(beta, x[i] ?? [], offset?.[i]);
    // log(1 + e^η) without overflow
    const softplus = eta > 0 ? eta + Math.log1p(Math.exp(-eta)) : Math.log1p(Math.exp(eta));
    sum += (y[i] ?? 0) * eta - softplus;
  }
  let penalty = 0;
  for (let j = 1; j < beta.length; j++) penalty += (beta[j] ?? 0) ** 2;
  return sum - (lambda / 2) * penalty;
}

/**
 * A positive definite matrix that is singular but for rounding: its Cholesky factor's smallest
 * diagonal entry, squared, is below 1e-12 of its largest (a crude bound on the reciprocal condition).
 */
function illConditioned(cholesky: CholeskyDecomposition): boolean {
  const factor = cholesky.lowerTriangularMatrix;
  const diagonal = factor.diag().map(Math.abs);
  return Math.min(...diagonal) ** 2 < 1e-12 * Math.max(...diagonal) ** 2;
}

/** Fits the model; throws FitFailed when it does not converge (separation, a singular design). */
export function fitLogistic(
  x: readonly (readonly number[])[],
  y: readonly number[],
  options: FitOptions = {},
): LogisticFit {
  const lambda = options.lambda ?? 0;
  const rows = options.rows ?? y.map((_, i) => i);
  const p = (x[0]?.length ?? 0) + 1;
  const maxIterations = options.maxIterations ?? 60;
  let beta = options.start?.length === p ? [...options.start] : new Array<number>(p).fill(0);
  let current = penalisedLogLikelihood(beta, x, y, rows, options.offset, lambda);
  const xi = new Float64Array(p);
  xi[0] = 1;
  for (let iteration = 1; iteration <= maxIterations; iteration++) {
    const gradient = new Float64Array(p);
    // The lower triangle of X'WX, row-major; mirrored and penalised below.
    const lower = new Float64Array(p * p);
    for (const i of rows) {
      const row = x[i] ?? [];
      for (let a = 1; a < p; a++) xi[a] = row[a - 1] ?? 0;
      const mu = logistic(linearPredictor(beta, row, options.offset?.[i]));
      const w = mu * (1 - mu);
      const residual = (y[i] ?? 0) - mu;
      for (let a = 0; a < p; a++) {
        const wa = w * (xi[a] ?? 0);
        gradient[a] = (gradient[a] ?? 0) + (xi[a] ?? 0) * residual;
        for (let b = 0; b <= a; b++) lower[a * p + b] = (lower[a * p + b] ?? 0) + wa * (xi[b] ?? 0);
      }
    }
    const information = new Matrix(p, p);
    for (let a = 0; a < p; a++) {
      for (let b = 0; b <= a; b++) {
        const value = (lower[a * p + b] ?? 0) + (a === b && a > 0 ? lambda : 0);
        information.set(a, b, value);
        information.set(b, a, value);
      }
      if (a > 0) gradient[a] = (gradient[a] ?? 0) - lambda * (beta[a] ?? 0);
    }
    const cholesky = new CholeskyDecomposition(information);
    if (!cholesky.isPositiveDefinite() || illConditioned(cholesky)) {
      throw new FitFailed('the information matrix is singular (collinear columns, or too few patients)');
    }
    const step = cholesky.solve(Matrix.columnVector([...gradient])).to1DArray();
    let scale = 1;
    let next = beta.map((b, j) => b + (step[j] ?? 0));
    let value = penalisedLogLikelihood(next, x, y, rows, options.offset, lambda);
    while (value < current - 1e-12 && scale > 1e-6) {
      scale /= 2;
      next = beta.map((b, j) => b + scale * (step[j] ?? 0));
      value = penalisedLogLikelihood(next, x, y, rows, options.offset, lambda);
    }
    const change = Math.max(...next.map((b, j) => Math.abs(b - (beta[j] ?? 0))));
    beta = next;
    current = value;
    if (!beta.every(Number.isFinite) || Math.max(...beta.map(Math.abs)) > 50) {
      throw new FitFailed('the coefficients diverge (complete or quasi-complete separation)');
    }
    if (change < 1e-9) {
      return { beta, covariance: cholesky.solve(Matrix.eye(p)).to2DArray(), iterations: iteration };
    }
  }
  throw new FitFailed(`no convergence in ${maxIterations} iterations`);
}

export function predict(beta: readonly number[], x: readonly (readonly number[])[]): number[] {
  return x.map((xi) => logistic(linearPredictor(beta, xi)));
}

export { logistic };
