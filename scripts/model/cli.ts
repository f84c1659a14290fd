/**
 * `npm run model -- <command>`: make the risk models the hospital's own (see scripts/model/README.md).
 *
 *   fit          --data cohort.csv --outcome residual-pain|refracture --out FILE [--factors a,b] [--force]
 *   recalibrate  --model rbp-v1|FILE --data cohort.csv --out FILE [--force]
 *   evaluate     --model ID|FILE --data cohort.csv
 *   report       --model ID|FILE --data cohort.csv --out report.html [--force]
 * Common: --outcome-column NAME, --seed S (default 20261203), --bootstrap N (default 200, at least 200
 * for fit and recalibrate), --folds K (10), --min-events-per-factor N (10), --json.
 * Exit codes: 0 done, 2 bad input (the message names the file, line, column or rule), 1 anything else.
 */
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { parseArgs } from 'node:util';
import { SingleBar } from 'cli-progress';
import { type Outcome, outcomeOfKind, outcomes } from '../../src/clinical/calibration.ts';
import type { Model } from '../../src/clinical/model.ts';
import { loadModel, ModelFileError } from '../../src/clinical/model-files.ts';
import { InputError, readCohort } from './cohort.ts';
import { evaluate, type Figures, fitModel, type Progress, type RunOptions, recalibrate } from './commands.ts';
import { FitFailed } from './logistic.ts';
import { figureRows, renderReport } from './report.ts';
import { randomSource } from './validation.ts';

const published: Record<Outcome, string> = {
  'residual-pain': 'rbp-v1.json',
  refracture: 'refracture-v1.json',
};

const usage = `usage: npm run model -- <command> [options]
  fit          --data cohort.csv --outcome residual-pain|refracture --out models/rbp-local.json
  recalibrate  --model rbp-v1|refracture-v1|FILE --data cohort.csv --out models/rbp-recalibrated.json
  evaluate     --model ID|FILE --data cohort.csv
  report       --model ID|FILE --data cohort.csv --out report.html
options: --factors a,b,c  --outcome-column NAME  --seed S  --bootstrap N  --folds K
         --min-events-per-factor N  --force  --json`;

function progressBars(): Progress {
  if (!process.stderr.isTTY) {
    let label = '';
    return {
      start(name, total) {
        label = name;
        process.stderr.write(`${name}: ${total} steps…\n`);
      },
      tick() {},
      stop() {
        process.stderr.write(`${label}: done\n`);
      },
    };
  }
  const bar = new SingleBar({
    stream: process.stderr,
    format: '{label} [{bar}] {percentage}% | {value}/{total} | ETA {eta}s',
    hideCursor: true,
  });
  return {
    start: (label, total) => bar.start(total, 0, { label }),
    tick: () => bar.increment(),
    stop: () => bar.stop(),
  };
}

function modelOf(ref: string): Model {
  const id = ref.replace(/\.json$/, '');
  if (!ref.includes('/') && ['rbp-v1', 'refracture-v1'].includes(id)) return loadModel(`${id}.json`);
  if (!existsSync(ref))
    throw new InputError(`--model ${ref}: neither a published model (rbp-v1, refracture-v1) nor a file`);
  return loadModel(ref.includes('/') ? ref : `./${ref}`);
}

function integer(value: string | undefined, name: string, fallback: number, min: number): number {
  if (value === undefined) return fallback;
  const parsed = Number(value);
  if (!Number.isInteger(parsed) || parsed < min)
    throw new InputError(`--${name} must be an integer ≥ ${min}`);
  return parsed;
}

/** Refused before any work is done, so a long fit is not lost to an existing file. */
function checkOut(path: string, force: boolean): void {
  if (existsSync(path) && !force) throw new InputError(`--out ${path} exists; add --force to replace it`);
}

function writeOut(path: string, text: string): void {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, text);
}

const f3 = (v: number) => (Math.abs(v) < 5e-4 ? 0 : v).toFixed(3);

function printFigures(model: Model, figures: Figures, parameters: boolean): void {
  const lines = [
    `${model.id} ${model.version}`,
    ...figureRows(figures).map(([l, v]) => `  ${l.padEnd(38)} ${v}`),
  ];
  if (!model.local) {
    lines.push('  (published model, relative tiers: the calibration figures are those of points × ln 2,');
    lines.push('   what `model recalibrate` would correct)');
  }
  const local = parameters ? model.local : undefined;
  if (local?.method === 'fitted') {
    lines.push(`  ${'Ridge penalty λ'.padEnd(38)} ${local.penalty.lambda} (${local.penalty.chosenBy})`);
    lines.push(
      `  ${'Intercept (95% CI)'.padEnd(38)} ${f3(local.intercept.estimate)} (${f3(local.intercept.ci[0])} to ${f3(local.intercept.ci[1])})`,
    );
    lines.push(`  ${'factor'.padEnd(28)} ${'coefficient (95% CI)'.padEnd(28)} odds ratio  importance`);
    for (const c of local.coefficients) {
      const ci = `${f3(c.estimate)} (${f3(c.ci[0])} to ${f3(c.ci[1])})`;
      lines.push(
        `  ${c.factor.padEnd(28)} ${ci.padEnd(28)} ${Math.exp(c.estimate).toFixed(2).padStart(10)}  ${(c.importance * 100).toFixed(1)}%`,
      );
    }
  } else if (local?.method === 'recalibrated') {
    lines.push(
      `  ${'Intercept (95% CI)'.padEnd(38)} ${f3(local.intercept.estimate)} (${f3(local.intercept.ci[0])} to ${f3(local.intercept.ci[1])})`,
    );
    lines.push(
      `  ${'Slope on points × ln 2 (95% CI)'.padEnd(38)} ${f3(local.slope.estimate)} (${f3(local.slope.ci[0])} to ${f3(local.slope.ci[1])})`,
    );
  }
  process.stdout.write(`${lines.join('\n')}\n`);
}

async function main(argv: string[]): Promise<void> {
  const { positionals, values } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      data: { type: 'string' },
      outcome: { type: 'string' },
      'outcome-column': { type: 'string' },
      model: { type: 'string' },
      out: { type: 'string' },
      factors: { type: 'string' },
      seed: { type: 'string' },
      bootstrap: { type: 'string' },
      folds: { type: 'string' },
      'min-events-per-factor': { type: 'string' },
      force: { type: 'boolean', default: false },
      json: { type: 'boolean', default: false },
      help: { type: 'boolean', default: false },
    },
  });
  const [command] = positionals;
  if (values.help || !command) {
    process.stdout.write(`${usage}\n`);
    return;
  }
  if (!['fit', 'recalibrate', 'evaluate', 'report'].includes(command))
    throw new InputError(`unknown command ${command}\n${usage}`);
  if (!values.data) throw new InputError(`--data is required\n${usage}`);
  const refitting = command === 'fit' || command === 'recalibrate';
  const options: RunOptions = {
    random: randomSource(values.seed ?? '20261203'),
    bootstrap: integer(values.bootstrap, 'bootstrap', 200, refitting ? 200 : 1),
    folds: integer(values.folds, 'folds', 10, 2),
    minEventsPerFactor: integer(values['min-events-per-factor'], 'min-events-per-factor', 10, 1),
    progress: progressBars(),
    now: new Date(),
  };
  if (refitting || command === 'report') {
    if (!values.out) throw new InputError(`--out is required for ${command}\n${usage}`);
    checkOut(values.out, values.force ?? false);
  }
  let model: Model;
  if (command === 'fit') {
    const outcome = values.outcome as Outcome;
    if (!outcomes.includes(outcome)) throw new InputError(`--outcome must be one of ${outcomes.join(', ')}`);
    model = loadModel(published[outcome]);
  } else {
    if (!values.model) throw new InputError(`--model is required for ${command}\n${usage}`);
    model = modelOf(values.model);
  }
  const outcome = outcomeOfKind(model.kind);
  const local = model.local;
  const factors =
    values.factors
      ?.split(',')
      .map((f) => f.trim())
      .filter(Boolean) ??
    (command !== 'fit' && local?.method === 'fitted' ? local.coefficients.map((c) => c.factor) : undefined);
  const cohort = readCohort(values.data, {
    model,
    outcomeColumn: values['outcome-column'] ?? outcome,
    ...(factors ? { factors } : {}),
  });
  if (cohort.ignored.length > 0) process.stderr.write(`ignored column(s): ${cohort.ignored.join(', ')}\n`);
  if (command === 'fit' || command === 'recalibrate') {
    const result =
      command === 'fit' ? fitModel(model, outcome, cohort, options) : recalibrate(model, cohort, options);
    writeOut(values.out as string, `${JSON.stringify(result.model, null, 2)}\n`);
    if (values.json)
      process.stdout.write(`${JSON.stringify({ model: result.model, figures: result.figures })}\n`);
    else printFigures(result.model, result.figures, true);
    process.stderr.write(`wrote ${values.out}\n`);
    return;
  }
  const evaluation = evaluate(model, cohort, options);
  if (command === 'report') {
    writeOut(values.out as string, await renderReport(model, cohort, evaluation, options.now));
    process.stderr.write(`wrote ${values.out}\n`);
  }
  if (values.json)
    process.stdout.write(
      `${JSON.stringify({ model: { id: model.id, version: model.version }, figures: evaluation.figures })}\n`,
    );
  else printFigures(model, evaluation.figures, false);
}

try {
  await main(process.argv.slice(2));
} catch (error) {
  const known = error instanceof InputError || error instanceof ModelFileError || error instanceof FitFailed;
  const parseProblem =
    error instanceof TypeError && 'code' in error && String(error.code).startsWith('ERR_PARSE_ARGS');
  if (known || parseProblem) {
    process.stderr.write(`model: ${(error as Error).message}\n`);
    process.exit(2);
  }
  process.stderr.write(
    `model: unexpected failure: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
  );
  process.exit(1);
}
