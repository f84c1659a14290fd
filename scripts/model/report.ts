/**
 * `model report`: one self-contained HTML file (no script, no external URL) with the figures, a
 * calibration plot (observed against predicted risk by deciles of predicted risk, a LOWESS curve over
 * every patient, the diagonal) and a ROC curve. The charts are Vega-Lite specifications rendered to
 * SVG here by Vega, so the page needs nothing but a browser.
 */
import lowess from '@stdlib/stats-lowess';
import * as vega from 'vega';
import * as vegaLite from 'vega-lite';
import type { Model } from '../../src/clinical/model.ts';
import type { Cohort } from './cohort.ts';
import type { Evaluation, Figures } from './commands.ts';

const escapeText = (text: string) =>
  text.replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] ?? c,
  );

async function svg(spec: vegaLite.TopLevelSpec): Promise<string> {
  const view = new vega.View(vega.parse(vegaLite.compile(spec).spec), { renderer: 'none' });
  const rendered = await view.toSVG();
  view.finalize();
  return rendered;
}

/** Patients sorted by predicted risk, cut into ten groups of (nearly) equal size. */
export function deciles(predicted: readonly number[], outcomes: readonly number[]) {
  const order = predicted.map((_, i) => i).sort((a, b) => (predicted[a] ?? 0) - (predicted[b] ?? 0));
  return Array.from({ length: 10 }, (_, d) => {
    const group = order.slice(Math.floor((d * order.length) / 10), Math.floor(((d + 1) * order.length) / 10));
    const mean = (values: number[]) => values.reduce((s, v) => s + v, 0) / (values.length || 1);
    return {
      decile: d + 1,
      predicted: mean(group.map((i) => predicted[i] ?? 0)),
      observed: mean(group.map((i) => outcomes[i] ?? 0)),
      patients: group.length,
    };
  });
}

/** The ROC curve's points, from the highest score down (ties taken together). */
export function rocPoints(scores: readonly number[], outcomes: readonly number[]) {
  const events = outcomes.filter((y) => y === 1).length;
  const nonEvents = outcomes.length - events;
  const order = scores.map((_, i) => i).sort((a, b) => (scores[b] ?? 0) - (scores[a] ?? 0));
  const points = [{ fpr: 0, tpr: 0 }];
  let tp = 0;
  let fp = 0;
  for (let k = 0; k < order.length; k++) {
    const i = order[k] as number;
    if (outcomes[i] === 1) tp++;
    else fp++;
    const next = order[k + 1];
    if (next === undefined || scores[next] !== scores[i])
      points.push({ fpr: fp / nonEvents, tpr: tp / events });
  }
  return points;
}

const axis = { scale: { domain: [0, 1] }, type: 'quantitative' as const };

/** The dashed diagonal of a unit square, which also titles the axes. */
type Layer = Extract<vegaLite.TopLevelSpec, { layer: unknown[] }>['layer'][number];

function diagonal(x: string, y: string): Layer {
  return {
    data: {
      values: [
        { x: 0, y: 0 },
        { x: 1, y: 1 },
      ],
    },
    mark: { type: 'line', strokeDash: [4, 4], color: '#888' },
    encoding: { x: { field: 'x', ...axis, title: x }, y: { field: 'y', ...axis, title: y } },
  };
}

/**
 * The smoothed calibration curve: LOWESS of the outcome on the predicted risk over every patient, span
 * 2/3 and no robustness iterations, as Harrell's val.prob draws it (robustness weights, which Vega's
 * loess transform always applies, would treat the minority outcome of 0/1 data as outliers and pull
 * the curve towards the majority). One point per 1% of the range of predicted risk.
 */
export function smoothedCalibration(predicted: readonly number[], outcomes: readonly number[]) {
  const range = Math.max(...predicted) - Math.min(...predicted);
  const curve = lowess([...predicted], [...outcomes], { f: 2 / 3, nsteps: 0, delta: 0.01 * range });
  return curve.x.map((p, i) => ({ predicted: p, observed: curve.y[i] ?? 0 }));
}

function calibrationSpec(evaluation: Evaluation, cohort: Cohort): vegaLite.TopLevelSpec {
  const predicted = evaluation.probabilities ?? [];
  return {
    width: 420,
    height: 420,
    title: 'Calibration: observed against predicted risk, by deciles',
    layer: [
      diagonal('Predicted risk', 'Observed risk'),
      {
        data: { values: smoothedCalibration(predicted, cohort.y) },
        mark: { type: 'line', color: '#c07a00', strokeWidth: 2 },
        encoding: { x: { field: 'predicted', ...axis }, y: { field: 'observed', ...axis } },
      },
      {
        data: { values: deciles(predicted, cohort.y) },
        mark: { type: 'point', filled: true, size: 70, color: '#1f5fa8' },
        encoding: {
          x: { field: 'predicted', ...axis },
          y: { field: 'observed', ...axis },
          tooltip: [{ field: 'decile' }, { field: 'patients' }],
        },
      },
    ],
  };
}

function rocSpec(evaluation: Evaluation, cohort: Cohort): vegaLite.TopLevelSpec {
  return {
    width: 420,
    height: 420,
    title: `ROC curve, AUC ${evaluation.figures.auc.estimate.toFixed(3)}`,
    layer: [
      diagonal('1 − specificity', 'Sensitivity'),
      {
        data: { values: rocPoints(evaluation.scores, cohort.y) },
        mark: { type: 'line', interpolate: 'step-after', color: '#1f5fa8', strokeWidth: 2 },
        encoding: { x: { field: 'fpr', ...axis }, y: { field: 'tpr', ...axis } },
      },
    ],
  };
}

export function figureRows(figures: Figures): Array<[string, string]> {
  const f3 = (v: number) => (Math.abs(v) < 5e-4 ? 0 : v).toFixed(3);
  return [
    ['Patients', String(figures.patients)],
    ['Events', String(figures.events)],
    ['AUC (95% CI)', `${f3(figures.auc.estimate)} (${f3(figures.auc.ci[0])}–${f3(figures.auc.ci[1])})`],
    ...(figures.optimismCorrectedAuc === undefined
      ? []
      : [['Optimism-corrected AUC', f3(figures.optimismCorrectedAuc)] as [string, string]]),
    ['Bootstrap resamples', String(figures.bootstrapResamples)],
    ['Calibration intercept', f3(figures.calibrationIntercept)],
    ['Calibration slope', f3(figures.calibrationSlope)],
    ...(figures.optimismCorrectedSlope === undefined
      ? []
      : [['Optimism-corrected calibration slope', f3(figures.optimismCorrectedSlope)] as [string, string]]),
    [
      'Brier score',
      figures.brier === undefined ? 'not available: the model gives no probabilities' : f3(figures.brier),
    ],
  ];
}

export async function renderReport(
  model: Model,
  cohort: Cohort,
  evaluation: Evaluation,
  now: Date,
): Promise<string> {
  const rows = figureRows(evaluation.figures)
    .map(
      ([label, value]) => `<tr><th scope="row">${escapeText(label)}</th><td>${escapeText(value)}</td></tr>`,
    )
    .join('\n');
  const calibrationChart = evaluation.probabilities
    ? await svg(calibrationSpec(evaluation, cohort))
    : '<p>No calibration plot: this model has relative tiers only and gives no probabilities (recalibrate or fit it first).</p>';
  const title = `${model.id} ${model.version} on ${cohort.file.split('/').at(-1)}`;
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeText(title)}</title>
<style>
body { font-family: system-ui, sans-serif; margin: 24px; color: #1c2430; }
table { border-collapse: collapse; margin: 12px 0 24px; }
th, td { text-align: left; padding: 4px 12px; border-bottom: 1px solid #dde3ea; }
.charts { display: flex; flex-wrap: wrap; gap: 24px; }
figure { margin: 0; }
figcaption { font-size: 0.9em; color: #4a5563; max-width: 460px; }
</style>
</head>
<body>
<h1>${escapeText(title)}</h1>
<p>${escapeText(model.title)}; ${escapeText(model.local ? `${model.local.method} model` : 'published model (relative tiers)')}; cohort ${cohort.y.length} patients, ${cohort.events} events, SHA-256 ${cohort.sha256.slice(0, 16)}…; report made ${now.toISOString().slice(0, 16).replace('T', ' ')} UTC.</p>
<table id="figures"><tbody>
${rows}
</tbody></table>
<div class="charts">
<figure id="calibration">${calibrationChart}${evaluation.probabilities ? '<figcaption>Blue points: the ten deciles of predicted risk (mean predicted, observed proportion). Orange: LOWESS of the outcome on the predicted risk. Dashed: perfect calibration.</figcaption>' : ''}</figure>
<figure id="roc">${await svg(rocSpec(evaluation, cohort))}<figcaption>Sensitivity against 1 − specificity at every cut-off of the score; dashed: no discrimination.</figcaption></figure>
</div>
</body>
</html>
`;
}
