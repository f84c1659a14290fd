/**
 * A de-identified cohort: a CSV file with a header (parsed by csv-parse), one row per patient, one
 * column per factor id of the model, and the outcome (0/1). Each cell is checked: a `present` factor
 * is 0 or 1; a banded factor is its level, 0 to its number of scoring bands (src/clinical/calibration.ts).
 * Every problem stops the command with a message naming the file, the line and the column.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { CsvError, parse } from 'csv-parse/sync';
import { Matrix, solve } from 'ml-matrix';
import { levelPoints } from '../../src/clinical/calibration.ts';
import type { Model } from '../../src/clinical/model.ts';

/** Bad input: the message is for the user, the command exits 2. */
export class InputError extends Error {
  override name = 'InputError';
}

export interface Cohort {
  file: string;
  sha256: string;
  /** The factor ids, in the order of the columns of `x`. */
  factors: string[];
  /** One row per patient: the covariate of each factor. */
  x: number[][];
  y: number[];
  events: number;
  /** Header columns that are neither a factor nor the outcome. */
  ignored: string[];
}

export interface CohortOptions {
  model: Model;
  outcomeColumn: string;
  /** The factors to read (default: all the model's factors). */
  factors?: readonly string[];
}

function numberCell(text: string, where: string): number {
  if (text === '') throw new InputError(`${where}: empty cell (no value; missing values are not imputed)`);
  const value = Number(text);
  if (!/^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(text) || !Number.isFinite(value)) {
    throw new InputError(`${where}: "${text.slice(0, 40)}" is not a number`);
  }
  return value;
}

export function readCohort(file: string, options: CohortOptions): Cohort {
  let bytes: Buffer;
  try {
    bytes = readFileSync(file);
  } catch {
    throw new InputError(`${file}: no such file, or it cannot be read`);
  }
  let records: Array<{ record: string[]; info: { lines: number } }>;
  try {
    records = parse(bytes, {
      bom: true,
      trim: true,
      skip_empty_lines: true,
      info: true,
      relax_column_count: false,
    }) as unknown as typeof records;
  } catch (error) {
    if (error instanceof CsvError) throw new InputError(`${file}: not readable as CSV: ${error.message}`);
    throw error;
  }
  const [header, ...rows] = records;
  if (!header) throw new InputError(`${file}: empty file (a header row is required)`);
  const columns = header.record;
  const modelFactors = options.model.factors;
  const wanted = options.factors ?? modelFactors.map((f) => f.id);
  for (const id of wanted) {
    if (!modelFactors.some((f) => f.id === id)) {
      throw new InputError(
        `--factors: ${id} is not a factor of ${options.model.id} (its factors: ${modelFactors.map((f) => f.id).join(', ')})`,
      );
    }
  }
  const missing = [...wanted, options.outcomeColumn].filter((id) => !columns.includes(id));
  if (missing.length > 0) {
    throw new InputError(
      `${file}: missing column(s) ${missing.join(', ')} (the header has: ${columns.join(', ')}); ` +
        'use --factors to fit fewer factors, or --outcome-column to name the outcome column',
    );
  }
  for (const id of [...wanted, options.outcomeColumn]) {
    if (columns.indexOf(id) !== columns.lastIndexOf(id)) {
      throw new InputError(`${file}: column ${id} appears more than once in the header`);
    }
  }
  if (rows.length === 0) throw new InputError(`${file}: no patient rows under the header`);
  const outcomeAt = columns.indexOf(options.outcomeColumn);
  const factorAt = wanted.map((id) => columns.indexOf(id));
  const maxLevel = wanted.map((id) => {
    const factor = modelFactors.find((f) => f.id === id);
    return factor ? levelPoints(factor).length - 1 : 1;
  });
  const x: number[][] = [];
  const y: number[] = [];
  for (const { record, info } of rows) {
    const line = `${file} line ${info.lines}`;
    const outcome = numberCell(record[outcomeAt] ?? '', `${line}, column ${options.outcomeColumn}`);
    if (outcome !== 0 && outcome !== 1) {
      throw new InputError(
        `${line}, column ${options.outcomeColumn}: the outcome must be 0 or 1, not ${outcome}`,
      );
    }
    y.push(outcome);
    x.push(
      factorAt.map((at, j) => {
        const id = wanted[j] as string;
        const value = numberCell(record[at] ?? '', `${line}, column ${id}`);
        const max = maxLevel[j] ?? 1;
        if (!Number.isInteger(value) || value < 0 || value > max) {
          const allowed = max === 1 ? '0 or 1' : `a level from 0 to ${max}`;
          throw new InputError(`${line}, column ${id}: must be ${allowed}, not ${value}`);
        }
        return value;
      }),
    );
  }
  return {
    file,
    sha256: createHash('sha256').update(bytes).digest('hex'),
    factors: [...wanted],
    x,
    y,
    events: y.filter((v) => v === 1).length,
    ignored: columns.filter((c) => c !== options.outcomeColumn && !wanted.includes(c)),
  };
}

/** A column explained this well by the columns before it is (nearly) collinear with them. */
const maxRSquared = 0.99;

/**
 * Refuses a cohort the fit cannot learn from: too few events (or non-events) per fitted parameter, a
 * constant column, or columns that are (nearly) linear combinations of others: each column regressed
 * on the columns before it, an R² of 0.99 or more (a variance inflation factor of 100 or more) stops.
 */
export function checkFittable(cohort: Cohort, minEventsPerFactor: number, parameters: number): void {
  const { events, y, factors, x } = cohort;
  const nonEvents = y.length - events;
  const need = minEventsPerFactor * parameters;
  if (Math.min(events, nonEvents) < need) {
    throw new InputError(
      `${cohort.file}: too few events per factor: ${events} events and ${nonEvents} non-events for ${parameters} ` +
        `parameter(s); the rule is at least ${minEventsPerFactor} of each per parameter (${need}); ` +
        'fit fewer factors (--factors), use `model recalibrate`, or change --min-events-per-factor',
    );
  }
  factors.forEach((id, j) => {
    const first = x[0]?.[j];
    if (x.every((row) => row[j] === first)) {
      throw new InputError(
        `${cohort.file}: column ${id} is constant (${first} for every patient): it cannot be fitted`,
      );
    }
  });
  const sd = factors.map((_, j) => standardDeviation(x.map((row) => row[j] ?? 0)));
  for (let j = 1; j < factors.length; j++) {
    const others = new Matrix(x.map((row) => [1, ...row.slice(0, j)]));
    const target = Matrix.columnVector(x.map((row) => row[j] ?? 0));
    const coefficients = solve(others, target, true).to1DArray();
    const fitted = others.mmul(Matrix.columnVector(coefficients)).to1DArray();
    const column = target.to1DArray();
    const total = (sd[j] ?? 0) ** 2 * column.length;
    const residual = column.reduce((s, v, i) => s + (v - (fitted[i] ?? 0)) ** 2, 0);
    if (residual <= (1 - maxRSquared) * total) {
      // The columns that carry the combination: a standardised coefficient of at least 0.1.
      const involved = factors
        .slice(0, j)
        .filter((_, k) => Math.abs(coefficients[k + 1] ?? 0) * (sd[k] ?? 0) >= 0.1 * (sd[j] ?? 0));
      throw new InputError(
        `${cohort.file}: collinear columns: ${factors[j]} is (nearly) a linear combination of ${involved.join(', ')} ` +
          `(R² ${(1 - residual / total).toFixed(4)}, variance inflation ≥ ${residual > 0 ? Math.round(total / residual) : '∞'}; ` +
          `the rule is R² < ${maxRSquared}): drop one of them with --factors`,
      );
    }
  }
}

function standardDeviation(values: readonly number[]): number {
  const mean = values.reduce((s, v) => s + v, 0) / values.length;
  return Math.sqrt(values.reduce((s, v) => s + (v - mean) ** 2, 0) / values.length);
}
