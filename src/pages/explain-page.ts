/**
 * The picture of one risk card (`/explain/{cardUuid}`), in the card's language: the tier on the model's
 * scale, a bar per factor with its points and share of the total, what could change the risk, what
 * could not be assessed, the sources, the model and its limits. Built from the ledger's record of the
 * card and the model file: it holds no patient identifier and no patient value.
 */

import { calibrationValues, probabilityValues } from '../cards/probability-text.ts';
import { tierRanges } from '../cards/risk-card.ts';
import { fill, type Wording, word } from '../cards/wording.ts';
import { assessmentProbability, type Model, type ModifiableAction } from '../clinical/model.ts';
import type { Locale } from '../config.ts';
import type { RecordedAssessment } from '../store/card-assessments.ts';
import { citationHtml, sourceOf } from './model-text.ts';
import { at, escapeHtml, htmlDocument, notFoundDocument, pageStyle } from './page-frame.ts';

export const explainStyle = pageStyle(`
:root {
  --tier-lowest: #2f7d4f;
  --tier-middle: #c07a00;
  --tier-highest: #b3261e;
  --modifiable: var(--link);
  --fixed: #6b7686;
}
.tier { display: inline-block; padding: 4px 14px; border-radius: 4px; color: #fff; font-size: 1.2rem; font-weight: 700; margin: 0 0 12px; }
.tier.lowest { background: var(--tier-lowest); }
.tier.middle { background: var(--tier-middle); }
.tier.highest { background: var(--tier-highest); }
.scale rect.lowest { fill: var(--tier-lowest); }
.scale rect.middle { fill: var(--tier-middle); }
.scale rect.highest { fill: var(--tier-highest); }
.scale .segment-label { font-size: 13px; fill: #fff; font-weight: 600; }
.scale .marker { fill: var(--ink); }
.scale .marker-label { font-size: 13px; fill: var(--ink); font-weight: 600; }
table.factors th[scope="row"] { font-weight: 400; }
table.factors td.bar { width: 45%; min-width: 180px; }
svg.bar { display: block; width: 100%; height: 18px; }
svg.bar rect.modifiable { fill: var(--modifiable); }
svg.bar rect.fixed { fill: var(--fixed); }
svg.bar rect.track { fill: var(--band); }
ul.actions li, ul.not-assessed li, ol.sources li { margin-bottom: 6px; max-width: 90ch; }
.calibration { color: var(--muted); max-width: 90ch; }
.probability { font-size: 1.1rem; font-weight: 600; margin: 0 0 12px; }
`);

type TierPosition = 'lowest' | 'middle' | 'highest';

function positionOf(model: Model, tier: string): TierPosition {
  const index = model.tiers.findIndex((t) => t.id === tier);
  if (index <= 0) return 'lowest';
  return index === model.tiers.length - 1 ? 'highest' : 'middle';
}

interface Page {
  wording: Wording;
  text: Wording['explain'];
  model: Model;
  percent(share: number): string;
}

/** The model's tiers as coloured segments over one cell per point, and a marker at the card's points. */
function tierScale(recorded: RecordedAssessment, page: Page): string {
  const { model, text, wording } = page;
  const last = model.tiers.at(-1)?.minPoints ?? 0;
  const gap = last - (model.tiers.at(-2)?.minPoints ?? 0) || 2;
  const cells = Math.max(recorded.points + 1, last + gap);
  const [width, left, right, barTop, barHeight] = [760, 8, 8, 38, 30];
  const x = (points: number) => left + ((width - left - right) * points) / cells;
  const ranges = tierRanges(model);
  const segments = model.tiers.map((tier, i) => {
    const end = model.tiers[i + 1]?.minPoints ?? cells;
    const label = fill(text.scaleRange, {
      tier: word(wording.tiers, tier.id),
      range: ranges[i]?.range ?? '',
    });
    const middle = (x(tier.minPoints) + x(end)) / 2;
    return `<rect class="${positionOf(model, tier.id)}" x="${at(x(tier.minPoints))}" y="${barTop}" width="${at(x(end) - x(tier.minPoints))}" height="${barHeight}"></rect>
<text class="segment-label" x="${at(middle)}" y="${barTop + 20}" text-anchor="middle">${escapeHtml(label)}</text>`;
  });
  const ticks = Array.from({ length: cells + 1 }, (_, points) => points).map(
    (points) =>
      `<text x="${at(x(points))}" y="${barTop + barHeight + 16}" text-anchor="middle">${points}</text>`,
  );
  const markerX = x(recorded.points + 0.5);
  const scale = ranges
    .map(({ id, range }) => `${word(wording.tiers, id)} ${range}`)
    .join(wording.values.listSeparator);
  return `<svg class="chart scale" id="tier-scale" viewBox="0 0 ${width} ${barTop + barHeight + 22}" role="img" aria-label="${escapeHtml(fill(text.scaleLabel, { scale, points: recorded.points }))}">
${segments.join('\n')}
${ticks.join('\n')}
<path class="marker" d="M ${at(markerX - 7)} ${barTop - 18} L ${at(markerX + 7)} ${barTop - 18} L ${at(markerX)} ${barTop - 2} Z"></path>
<text class="marker-label" x="${at(markerX)}" y="${barTop - 22}" text-anchor="middle">${escapeHtml(text.you)}</text>
</svg>`;
}

function pointsText(points: number, page: Page): string {
  return fill(page.text.points, { points });
}

function factorRows(recorded: RecordedAssessment, page: Page): string {
  const { text, wording, model } = page;
  const factors = [...recorded.factors].sort((a, b) => b.points - a.points);
  const most = Math.max(...factors.map((f) => f.points), 1);
  const total = recorded.points || factors.reduce((sum, f) => sum + f.points, 0) || 1;
  return factors
    .map((factor) => {
      const modelFactor = model.factors.find((f) => f.id === factor.id);
      const action = modelFactor?.modifiable;
      const name = word(wording.factors, factor.id);
      const share = page.percent(factor.points / total);
      const provisional = modelFactor?.provisional
        ? ` <span class="provisional">(${escapeHtml(text.provisional)})</span>`
        : '';
      const barWidth = (200 * factor.points) / most;
      const title = fill(text.barTitle, { factor: name, points: pointsText(factor.points, page), share });
      return `<tr data-factor="${escapeHtml(factor.id)}">
<th scope="row">${escapeHtml(name)}${provisional}</th>
<td class="bar"><svg class="bar" viewBox="0 0 200 18" preserveAspectRatio="none" aria-hidden="true"><rect class="track" x="0" y="2" width="200" height="14"></rect><rect class="${action ? 'modifiable' : 'fixed'}" x="0" y="2" width="${at(barWidth)}" height="14" data-points="${factor.points}"><title>${escapeHtml(title)}</title></rect></svg></td>
<td class="num">${escapeHtml(pointsText(factor.points, page))}</td>
<td class="num">${escapeHtml(share)}</td>
<td>${action ? `<span class="tag">${escapeHtml(text.tags[action])}</span>` : ''}</td>
</tr>`;
    })
    .join('\n');
}

function factorsSection(recorded: RecordedAssessment, page: Page): string {
  const { text, wording } = page;
  if (recorded.factors.length === 0)
    return `<section aria-labelledby="factors-title">
<h2 id="factors-title">${escapeHtml(text.factorsHeading)}</h2>
<p class="empty">${escapeHtml(text.noFactors)}</p>
</section>`;
  const list = [...recorded.factors]
    .sort((a, b) => b.points - a.points)
    .map((f) => `${word(wording.factors, f.id)} ${pointsText(f.points, page)}`)
    .join(wording.values.listSeparator);
  const { columns } = text;
  return `<section aria-labelledby="factors-title">
<h2 id="factors-title">${escapeHtml(text.factorsHeading)}</h2>
<p class="intro">${escapeHtml(text.factorsIntro)}</p>
<div class="scroll"><table class="factors" id="factors">
<caption id="factors-chart-label" class="visually-hidden">${escapeHtml(fill(text.chartLabel, { list }))}</caption>
<thead><tr><th scope="col">${escapeHtml(columns.factor)}</th><th scope="col">${escapeHtml(columns.bar)}</th><th scope="col" class="num">${escapeHtml(columns.points)}</th><th scope="col" class="num">${escapeHtml(columns.share)}</th><th scope="col">${escapeHtml(columns.change)}</th></tr></thead>
<tbody>
${factorRows(recorded, page)}
</tbody></table></div>
</section>`;
}

function changeSection(recorded: RecordedAssessment, page: Page): string {
  const { text, wording, model } = page;
  const byAction = new Map<ModifiableAction, string[]>();
  for (const factor of recorded.factors) {
    const action = model.factors.find((f) => f.id === factor.id)?.modifiable;
    if (action) byAction.set(action, [...(byAction.get(action) ?? []), word(wording.factors, factor.id)]);
  }
  const items = [...byAction].map(
    ([action, factors]) =>
      `<li data-action="${action}"><span class="tag">${escapeHtml(text.tags[action])}</span> ${escapeHtml(factors.join(wording.values.listSeparator))}${escapeHtml(wording.values.listIntro)}${escapeHtml(text.actions[action])}</li>`,
  );
  const content =
    items.length > 0
      ? `<p>${escapeHtml(text.changeIntro)}</p>\n<ul class="actions">\n${items.join('\n')}\n</ul>`
      : `<p class="none">${escapeHtml(text.noChange)}</p>`;
  return `<section aria-labelledby="change-title" id="change">
<h2 id="change-title">${escapeHtml(text.changeHeading)}</h2>
${content}
</section>`;
}

function notAssessedSection(recorded: RecordedAssessment, page: Page): string {
  const { text, wording } = page;
  const content =
    recorded.notAssessed.length > 0
      ? `<p>${escapeHtml(text.notAssessedIntro)}</p>
<ul class="not-assessed">
${recorded.notAssessed.map((id) => `<li data-factor="${escapeHtml(id)}">${escapeHtml(word(wording.factors, id))}</li>`).join('\n')}
</ul>`
      : `<p class="none">${escapeHtml(text.allAssessed)}</p>`;
  return `<section aria-labelledby="not-assessed-title" id="not-assessed">
<h2 id="not-assessed-title">${escapeHtml(text.notAssessedHeading)}</h2>
${content}
</section>`;
}

function sourcesSection(recorded: RecordedAssessment, page: Page, modelUrl: string): string {
  const { text, wording, model } = page;
  const cited = new Map<string, string>();
  for (const factor of [...recorded.factors].sort((a, b) => b.points - a.points)) {
    const modelFactor = model.factors.find((f) => f.id === factor.id);
    if (!modelFactor) continue;
    const html = citationHtml(sourceOf(modelFactor, factor.points).citation, wording);
    cited.set(
      html,
      [cited.get(html), word(wording.factors, factor.id)].filter(Boolean).join(wording.values.listSeparator),
    );
  }
  const items = [...cited].map(
    ([html, factors]) => `<li>${html}${escapeHtml(fill(wording.values.aside, { value: factors }))}</li>`,
  );
  return `<section aria-labelledby="sources-title" id="sources">
<h2 id="sources-title">${escapeHtml(text.sourcesHeading)}</h2>
${items.length > 0 ? `<ol class="sources">\n${items.join('\n')}\n</ol>` : ''}
<p><a href="${escapeHtml(modelUrl)}" id="model-link">${escapeHtml(fill(text.modelLink, { model: model.id }))}</a></p>
<p class="calibration">${escapeHtml(model.local ? fill(wording.local.explainCalibration, calibrationValues(model, model.local, wording)) : text.calibration)}</p>
</section>`;
}

/** The probability, when the card was scored by the calibrated model now running. */
function probabilityLine(recorded: RecordedAssessment, page: Page): string {
  const { model, wording } = page;
  if (!model.local || recorded.modelVersion !== model.version) return '';
  const probability = assessmentProbability(model, recorded.factors);
  if (!probability) return '';
  return `\n<p class="probability" id="probability">${escapeHtml(fill(wording.local.explainLine, probabilityValues(probability)))}</p>`;
}

export interface ExplainOptions {
  locale: Locale;
  /** Where the model's own page is. */
  modelUrl: string;
  retentionDays: number;
}

export function renderExplainPage(
  recorded: RecordedAssessment,
  model: Model,
  wording: Wording,
  options: ExplainOptions,
): string {
  const percent = new Intl.NumberFormat(options.locale, { style: 'percent', maximumFractionDigits: 0 });
  const page: Page = { wording, text: wording.explain, model, percent: (share) => percent.format(share) };
  const { text } = page;
  const title = fill(text.title, { kind: wording.analytics.kinds[recorded.kind] });
  const issued = `${recorded.issuedAt.toISOString().slice(0, 16).replace('T', ' ')}`;
  const older =
    recorded.modelVersion && recorded.modelVersion !== model.version
      ? `\n<p class="intro">${escapeHtml(fill(text.olderModel, { version: recorded.modelVersion }))}</p>`
      : '';
  const position = positionOf(model, recorded.tier);
  const body = `<header>
<h1>${escapeHtml(title)}</h1>
<p class="intro">${escapeHtml(fill(text.issued, { date: issued, model: model.id, version: model.version }))}</p>${older}
</header>
<main>
<section aria-labelledby="tier-title">
<h2 id="tier-title">${escapeHtml(text.tierHeading)}</h2>
<p class="tier ${position}" id="tier">${escapeHtml(fill(text.tierLine, { tier: word(wording.tiers, recorded.tier), points: recorded.points }))}</p>${probabilityLine(recorded, page)}
${tierScale(recorded, page)}
</section>
${factorsSection(recorded, page)}
${changeSection(recorded, page)}
${notAssessedSection(recorded, page)}
${sourcesSection(recorded, page, options.modelUrl)}
</main>
<footer><p>${escapeHtml(fill(text.footnote, { days: options.retentionDays }))}</p></footer>`;
  return htmlDocument({ locale: options.locale, title, style: explainStyle, body });
}

/** The page for an unknown, expired or unrecorded card. */
export function renderExplainNotFound(
  wording: Wording,
  options: { locale: Locale; retentionDays: number },
): string {
  const { notFound } = wording.explain;
  const text = fill(notFound.text, { days: options.retentionDays });
  return notFoundDocument({ locale: options.locale, title: notFound.title, text, style: explainStyle });
}
