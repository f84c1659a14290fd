/**
 * A model as clinicians read it (`/models/{id}` in a browser): how points are counted, the tiers, each
 * factor with its points, odds ratio and source and whether it can be acted on, what is shown without
 * points, and the limits. Machines get the model file itself as JSON.
 */

import { calibrationValues } from '../cards/probability-text.ts';
import { oddsRatioText, tierRanges } from '../cards/risk-card.ts';
import { fill, type Wording, word } from '../cards/wording.ts';
import type { Model } from '../clinical/model.ts';
import type { Locale } from '../config.ts';
import { bandBound, citationHtml } from './model-text.ts';
import { escapeHtml, htmlDocument, notFoundDocument, pageStyle } from './page-frame.ts';

export const modelStyle = pageStyle(`
table.model th[scope="row"] { font-weight: 600; }
ul.bands { list-style: none; margin: 0; padding: 0; }
td.rule { white-space: nowrap; }
table.tiers { width: auto; min-width: 40%; }
ul.limits li { margin-bottom: 6px; max-width: 90ch; }
`);

type Factor = Model['factors'][number];

/** Two decimals with a true minus sign; −0.00 reads as 0.00. */
const twoPlaces = (value: number) => (Math.abs(value) < 0.005 ? 0 : value).toFixed(2).replace('-', '−');

/** `0.77 (0.75–0.79)`; with a negative bound the dash gets spaces: `−2.96 (−3.22 – −2.71)`. */
function withInterval(e: { estimate: number; ci: [number, number] }, wording: Wording): string {
  const dash = e.ci[0] < 0 || e.ci[1] < 0 ? ' – ' : '–';
  const interval = `${twoPlaces(e.ci[0])}${dash}${twoPlaces(e.ci[1])}`;
  return `${twoPlaces(e.estimate)}${fill(wording.values.aside, { value: interval })}`;
}

function rowsHtml(rows: Array<[string, ...string[]]>): string {
  return rows
    .map(
      ([label, ...cells]) =>
        `<tr><th scope="row">${escapeHtml(label)}</th>${cells.map((c) => `<td class="num">${escapeHtml(c)}</td>`).join('')}</tr>`,
    )
    .join('');
}

/** How the model was made the hospital's own: its cohort, validation and parameters. */
function calibratedSection(model: Model, wording: Wording): string {
  const local = model.local;
  if (!local) return '';
  const { figures } = wording.local;
  const values = calibrationValues(model, local, wording);
  const rows: Array<[string, string]> = [
    [figures.auc, withInterval(local.validation.auc, wording)],
    [fill(figures.aucCorrected, values), twoPlaces(local.validation.optimismCorrectedAuc)],
    [figures.calibrationIntercept, twoPlaces(local.validation.calibrationIntercept)],
    [figures.calibrationSlope, twoPlaces(local.validation.calibrationSlope)],
    [figures.brier, local.validation.brier.toFixed(3)],
    [figures.intercept, withInterval(local.intercept, wording)],
    local.method === 'recalibrated'
      ? [figures.slope, withInterval(local.slope, wording)]
      : [figures.penalty, String(local.penalty.lambda)],
  ];
  const columns = wording.modelPage.columns;
  const coefficients =
    local.method === 'fitted'
      ? `
<table class="model coefficients" id="coefficients"><thead><tr><th scope="col">${escapeHtml(columns.factor)}</th><th scope="col" class="num">${escapeHtml(figures.coefficient)}</th><th scope="col" class="num">${escapeHtml(figures.importance)}</th></tr></thead>
<tbody>${rowsHtml(local.coefficients.map((c) => [word(wording.factors, c.factor), withInterval(c, wording), `${Math.round(c.importance * 100)}%`]))}</tbody></table>`
      : '';
  return `<section aria-labelledby="calibrated-title" id="calibrated">
<h2 id="calibrated-title">${escapeHtml(wording.local.modelHeading)}</h2>
<p class="intro">${escapeHtml(fill(wording.local.modelIntro, values))}</p>
<table class="model figures"><tbody>${rowsHtml(rows)}</tbody></table>${coefficients}
</section>`;
}

function ruleHtml(factor: Pick<Factor, 'rule'>, text: Wording['modelPage']): string {
  const { rule } = factor;
  if (rule.type === 'present') return escapeHtml(fill(text.present, { points: rule.points }));
  const items = rule.bands.map(
    (band) => `<li>${escapeHtml(fill(text.band, { bound: bandBound(band), points: band.points }))}</li>`,
  );
  return `<ul class="bands">${items.join('')}</ul>`;
}

/** The factor's odds ratio and those of its bands, with their sources. */
function evidence(factor: Factor, wording: Wording): { oddsRatios: string; sources: string } {
  const own = factor.rule.type === 'bands' ? factor.rule.bands : [];
  const entries = [
    { oddsRatio: factor.oddsRatio, citation: factor.citation, bound: undefined as string | undefined },
    ...own
      .filter((band) => band.oddsRatio || band.citation)
      .map((band) => ({
        oddsRatio: band.oddsRatio ?? factor.oddsRatio,
        citation: band.citation ?? factor.citation,
        bound: bandBound(band),
      })),
  ];
  const label = (bound: string | undefined) =>
    bound ? `${escapeHtml(bound)}${escapeHtml(wording.values.listIntro)}` : '';
  return {
    oddsRatios: entries
      .map((e) => `${label(e.bound)}${escapeHtml(oddsRatioText(e.oddsRatio, wording))}`)
      .join('<br>'),
    sources: entries.map((e) => `${label(e.bound)}${citationHtml(e.citation, wording)}`).join('<br>'),
  };
}

function factorsTable(model: Model, wording: Wording): string {
  const text = wording.modelPage;
  const rows = model.factors.map((factor) => {
    const { oddsRatios, sources } = evidence(factor, wording);
    const provisional = factor.provisional
      ? ` <span class="provisional">(${escapeHtml(text.provisional)})</span>`
      : '';
    const tag = factor.modifiable
      ? `<span class="tag">${escapeHtml(wording.explain.tags[factor.modifiable])}</span>`
      : '';
    return `<tr data-factor="${escapeHtml(factor.id)}"><th scope="row">${escapeHtml(word(wording.factors, factor.id))}${provisional}</th><td class="rule">${ruleHtml(factor, text)}</td><td>${oddsRatios}</td><td>${sources}</td><td>${tag}</td></tr>`;
  });
  const { columns } = text;
  const headers = [columns.factor, columns.rule, columns.oddsRatio, columns.source, columns.modifiable]
    .map((label) => `<th scope="col">${escapeHtml(label)}</th>`)
    .join('');
  return `<div class="scroll"><table class="model" id="factors"><thead><tr>${headers}</tr></thead><tbody>
${rows.join('\n')}
</tbody></table></div>`;
}

export function renderModelPage(
  model: Model,
  wording: Wording,
  options: { locale: Locale; jsonUrl: string },
): string {
  const text = wording.modelPage;
  const title = fill(text.title, { kind: wording.analytics.kinds[model.kind], model: model.id });
  const tiers = tierRanges(model).map(
    ({ id, range }) =>
      `<tr><th scope="row">${escapeHtml(word(wording.tiers, id))}</th><td>${escapeHtml(fill(text.tierRange, { range }))}</td></tr>`,
  );
  const shown =
    model.shownNotScored.length > 0
      ? `<section aria-labelledby="shown-title">
<h2 id="shown-title">${escapeHtml(text.shownHeading)}</h2>
<p class="intro">${escapeHtml(text.shownIntro)}</p>
<ul>${model.shownNotScored.map((f) => `<li>${escapeHtml(word(wording.factors, f.id))}</li>`).join('')}</ul>
</section>`
      : '';
  const limits = model.local ? text.limits : [text.relativeTiers, ...text.limits];
  const body = `<header>
<h1>${escapeHtml(title)}</h1>
<p class="intro">${escapeHtml(fill(text.version, { version: model.version }))} ${escapeHtml(text.pointsRule)}</p>
</header>
<main>
<section aria-labelledby="tiers-title">
<h2 id="tiers-title">${escapeHtml(text.tiersHeading)}</h2>
<table class="tiers" id="tiers"><tbody>${tiers.join('')}</tbody></table>
</section>
<section aria-labelledby="factors-title">
<h2 id="factors-title">${escapeHtml(text.factorsHeading)}</h2>
${factorsTable(model, wording)}
</section>
${shown}
${calibratedSection(model, wording)}
<section aria-labelledby="limits-title">
<h2 id="limits-title">${escapeHtml(text.limitsHeading)}</h2>
<ul class="limits">${limits.map((limit) => `<li>${escapeHtml(limit)}</li>`).join('')}</ul>
</section>
</main>
<footer><p><a href="${escapeHtml(options.jsonUrl)}" type="application/json">${escapeHtml(text.json)}</a></p></footer>`;
  return htmlDocument({ locale: options.locale, title, style: modelStyle, body });
}

/** The page for a model id that is not loaded. */
export function renderModelNotFound(wording: Wording, options: { locale: Locale; id: string }): string {
  const { notFound } = wording.modelPage;
  const text = fill(notFound.text, { id: options.id });
  return notFoundDocument({ locale: options.locale, title: notFound.title, text, style: modelStyle });
}
