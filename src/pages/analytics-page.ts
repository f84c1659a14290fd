/**
 * The governance analytics page for a hospital's CDS committee: how our cards fared in a window, as one
 * server-rendered HTML document without any script (see page-frame.ts); every string from the report
 * or the wording is escaped.
 */
import type { CardKind } from '../cards/card-frame.ts';
import { fill, type Wording, word } from '../cards/wording.ts';
import { type Locale, locales } from '../config.ts';
import type {
  AnalyticsReport,
  CardGroup,
  OutcomeCounts,
  SuggestionCount,
  WeekCounts,
} from '../store/analytics-report.ts';
import { at, escapeHtml, htmlDocument, pageStyle } from './page-frame.ts';

/** The analytics page's one style: the shared rules and its own. */
export const analyticsStyle = pageStyle(`
:root {
  --accepted: #1e7b45;
  --overridden: #d4760a;
  --no-feedback: #aab1ba;
}
form.window { display: flex; flex-wrap: wrap; gap: 12px 20px; align-items: flex-end; margin-top: 12px; }
form.window label, form.login label { display: flex; flex-direction: column; gap: 4px; font-size: 0.85rem; color: var(--muted); }
input, select, button { font: inherit; color: var(--ink); }
input, select { padding: 5px 8px; border: 1px solid #8a94a3; border-radius: 4px; background: #fff; min-height: 34px; }
button {
  padding: 6px 18px; min-height: 34px; border: 1px solid var(--link); border-radius: 4px;
  background: var(--link); color: #fff; font-weight: 600; cursor: pointer;
}
button:hover { background: #094a8c; }
.totals { font-size: 1.05rem; font-weight: 600; margin-bottom: 20px; }
.empty { padding: 24px; text-align: center; }
tbody th { font-weight: 400; font-variant-numeric: tabular-nums; white-space: nowrap; }
table.compact { width: auto; min-width: 60%; font-size: 0.85rem; margin-top: 12px; }
table.compact th, table.compact td { padding: 3px 10px; }
.chart .axis-title { font-weight: 600; }
.chart .reason { font-size: 13px; fill: var(--ink); }
.chart .count { font-size: 12px; fill: var(--ink); font-weight: 600; }
.chart rect { stroke: #fff; stroke-width: 1; }
.accepted { fill: var(--accepted); background: var(--accepted); }
.overridden { fill: var(--overridden); background: var(--overridden); }
.no-feedback { fill: var(--no-feedback); background: var(--no-feedback); }
.legend { display: flex; flex-wrap: wrap; gap: 6px 20px; list-style: none; padding: 0; margin: 0 0 8px; font-size: 0.9rem; }
.legend li { display: flex; align-items: center; gap: 6px; }
.swatch { display: inline-block; width: 14px; height: 14px; border-radius: 2px; }
.error { color: var(--error); font-weight: 600; }
form.login { display: flex; flex-direction: column; gap: 14px; max-width: 360px; margin-top: 20px; }
form.login button { align-self: flex-start; }
@media print {
  form.window { display: none; }
}
`);

const dash = '—';

interface Page {
  locale: Locale;
  wording: Wording;
  text: Wording['analytics'];
  count(n: number): string;
  /** `part / whole` as a percentage with one decimal; a dash when `whole` is 0. */
  share(part: number, whole: number): string;
  /** A week's Monday, short, for the axis. */
  weekLabel(week: string): string;
}

function pageOf(wording: Wording, locale: Locale): Page {
  const counts = new Intl.NumberFormat(locale);
  const percent = new Intl.NumberFormat(locale, {
    style: 'percent',
    minimumFractionDigits: 1,
    maximumFractionDigits: 1,
  });
  const day = new Intl.DateTimeFormat(locale, { month: 'short', day: 'numeric', timeZone: 'UTC' });
  return {
    locale,
    wording,
    text: wording.analytics,
    count: (n) => counts.format(n),
    share: (part, whole) => (whole > 0 ? percent.format(part / whole) : dash),
    weekLabel: (week) => day.format(new Date(`${week}T00:00:00Z`)),
  };
}

function windowForm(from: string, to: string, basePath: string, page: Page): string {
  const { form, languages } = page.text;
  const options = locales
    .map(
      (locale) =>
        `<option value="${escapeHtml(locale)}"${locale === page.locale ? ' selected' : ''}>${escapeHtml(languages[locale])}</option>`,
    )
    .join('');
  return `<form class="window" method="get" action="${escapeHtml(basePath)}">
<label>${escapeHtml(form.from)} <input type="date" name="from" value="${escapeHtml(from)}" required></label>
<label>${escapeHtml(form.to)} <input type="date" name="to" value="${escapeHtml(to)}" required></label>
<label>${escapeHtml(form.language)} <select name="lang">${options}</select></label>
<button type="submit">${escapeHtml(form.show)}</button>
</form>`;
}

function headerRow(headers: Array<{ label: string; numeric?: boolean }>): string {
  const cells = headers.map(
    ({ label, numeric }) => `<th scope="col"${numeric ? ' class="num"' : ''}>${escapeHtml(label)}</th>`,
  );
  return `<thead><tr>${cells.join('')}</tr></thead>`;
}

function outcomeCells(counts: OutcomeCounts, page: Page): string {
  return [counts.issued, counts.accepted, counts.overridden, counts.noFeedback]
    .map((n) => page.count(n))
    .concat(page.share(counts.accepted, counts.issued))
    .map((value) => `<td class="num">${escapeHtml(value)}</td>`)
    .join('');
}

function outcomeHeaders(page: Page): Array<{ label: string; numeric: boolean }> {
  const { columns } = page.text;
  return [columns.issued, columns.accepted, columns.overridden, columns.noFeedback, columns.acceptance].map(
    (label) => ({ label, numeric: true }),
  );
}

function kindLabel(kind: string, kinds: Record<CardKind, string>): string {
  return Object.hasOwn(kinds, kind) ? kinds[kind as CardKind] : kind;
}

function groupsTable(groups: CardGroup[], page: Page): string {
  const { columns } = page.text;
  const rows = groups.map((group) => {
    const model = group.model
      ? group.modelVersion
        ? fill(page.text.modelVersion, { model: group.model, version: group.modelVersion })
        : group.model
      : dash;
    const labels = [
      `<td class="id">${escapeHtml(group.service)}</td>`,
      `<td>${escapeHtml(kindLabel(group.kind, page.text.kinds))}</td>`,
      `<td>${escapeHtml(group.tier ? word(page.wording.tiers, group.tier) : dash)}</td>`,
      `<td class="id">${escapeHtml(model)}</td>`,
    ];
    return `<tr>${labels.join('')}${outcomeCells(group, page)}</tr>`;
  });
  const headers = [columns.service, columns.kind, columns.tier, columns.model].map((label) => ({ label }));
  return `<div class="scroll"><table id="groups">${headerRow([...headers, ...outcomeHeaders(page)])}<tbody>
${rows.join('\n')}
</tbody></table></div>`;
}

const addDays = (date: string, days: number) =>
  new Date(Date.parse(`${date}T00:00:00Z`) + days * 86_400_000).toISOString().slice(0, 10);

/** Every group's weeks summed, sorted; weeks without any card between the first and last are zeros. */
function weeksOf(groups: CardGroup[]): WeekCounts[] {
  const byWeek = new Map<string, WeekCounts>();
  const zero = (week: string): WeekCounts => ({ week, issued: 0, accepted: 0, overridden: 0, noFeedback: 0 });
  for (const { weeks } of groups) {
    for (const counts of weeks) {
      const sum = byWeek.get(counts.week) ?? zero(counts.week);
      sum.issued += counts.issued;
      sum.accepted += counts.accepted;
      sum.overridden += counts.overridden;
      sum.noFeedback += counts.noFeedback;
      byWeek.set(counts.week, sum);
    }
  }
  const known = [...byWeek.keys()].sort();
  const [first, last] = [known[0], known.at(-1)];
  if (first !== undefined && last !== undefined) {
    for (let week = addDays(first, 7); week < last; week = addDays(week, 7))
      if (!byWeek.has(week)) byWeek.set(week, zero(week));
  }
  return [...byWeek.values()].sort((a, b) => a.week.localeCompare(b.week));
}

/** A round top for the count axis and its tick step: steps of 1, 2 or 5 times a power of ten. */
function countAxis(max: number): { top: number; step: number } {
  const rough = Math.max(1, max) / 4;
  const power = 10 ** Math.floor(Math.log10(rough));
  const step = Math.max(1, ([1, 2, 5, 10].find((m) => m * power >= rough) ?? 10) * power);
  return { top: Math.max(step, Math.ceil(max / step) * step), step };
}

const outcomes = ['accepted', 'overridden', 'noFeedback'] as const;
const outcomeClass = { accepted: 'accepted', overridden: 'overridden', noFeedback: 'no-feedback' } as const;

function legend(page: Page): string {
  const items = outcomes.map(
    (outcome) =>
      `<li><span class="swatch ${outcomeClass[outcome]}" aria-hidden="true"></span>${escapeHtml(page.text.columns[outcome])}</li>`,
  );
  return `<ul class="legend">${items.join('')}</ul>`;
}

function acceptanceChart(weeks: WeekCounts[], page: Page): string {
  if (weeks.length === 0) return '';
  const chart = page.text.acceptanceChart;
  const [width, height, left, right, top, bottom] = [760, 300, 52, 12, 20, 40];
  const plotWidth = width - left - right;
  const plotHeight = height - top - bottom;
  const totals = weeks.map((w) => w.accepted + w.overridden + w.noFeedback);
  const axis = countAxis(Math.max(...totals));
  const y = (value: number) => top + plotHeight - (value / axis.top) * plotHeight;
  const band = plotWidth / weeks.length;
  const barWidth = Math.min(band * 0.7, 56);
  const labelEvery = Math.ceil(weeks.length / Math.floor(plotWidth / 60));
  const parts: string[] = [];
  for (let tick = 0; tick <= axis.top; tick += axis.step) {
    parts.push(
      `<line class="grid" x1="${left}" x2="${width - right}" y1="${at(y(tick))}" y2="${at(y(tick))}"/>`,
      `<text x="${left - 8}" y="${at(y(tick) + 4)}" text-anchor="end">${escapeHtml(page.count(tick))}</text>`,
    );
  }
  weeks.forEach((week, index) => {
    const x = left + band * index + (band - barWidth) / 2;
    let base = 0;
    for (const outcome of outcomes) {
      const value = week[outcome];
      if (value === 0) continue;
      const title = fill(chart.barTitle, {
        week: week.week,
        outcome: page.text.columns[outcome],
        count: page.count(value),
        issued: page.count(week.issued),
      });
      parts.push(
        `<rect class="${outcomeClass[outcome]}" x="${at(x)}" y="${at(y(base + value))}" width="${at(barWidth)}" height="${at(y(base) - y(base + value))}"><title>${escapeHtml(title)}</title></rect>`,
      );
      base += value;
    }
    const middle = at(x + barWidth / 2);
    if (band >= 24 && base > 0)
      parts.push(
        `<text class="count" x="${middle}" y="${at(y(base) - 5)}" text-anchor="middle">${escapeHtml(page.count(base))}</text>`,
      );
    if (index % labelEvery === 0)
      parts.push(
        `<text x="${middle}" y="${height - bottom + 18}" text-anchor="middle">${escapeHtml(page.weekLabel(week.week))}</text>`,
      );
  });
  parts.push(
    `<line class="baseline" x1="${left}" x2="${width - right}" y1="${at(y(0))}" y2="${at(y(0))}"/>`,
    `<text class="axis-title" x="${-(top + plotHeight / 2)}" y="14" transform="rotate(-90)" text-anchor="middle">${escapeHtml(chart.axis)}</text>`,
  );
  const label = fill(chart.label, { first: weeks[0]?.week ?? '', last: weeks.at(-1)?.week ?? '' });
  const rows = weeks.map(
    (week) => `<tr><th scope="row">${escapeHtml(week.week)}</th>${outcomeCells(week, page)}</tr>`,
  );
  return `<section aria-labelledby="acceptance-title">
<h2 id="acceptance-title">${escapeHtml(chart.title)}</h2>
${legend(page)}
<svg class="chart" viewBox="0 0 ${width} ${height}" role="img" aria-label="${escapeHtml(label)}">
${parts.join('\n')}
</svg>
<div class="scroll"><table id="weeks" class="compact"><caption>${escapeHtml(chart.title)}</caption>${headerRow([{ label: page.text.columns.week }, ...outcomeHeaders(page)])}<tbody>
${rows.join('\n')}
</tbody></table></div>
</section>`;
}

/** Overrides per reason code over all groups, most frequent first; `undefined` (last of a tie) for none. */
function reasonsOf(groups: CardGroup[]): Array<{ code: string | undefined; count: number }> {
  const byCode = new Map<string | undefined, number>();
  for (const { overrideReasons } of groups)
    for (const { code, count } of overrideReasons) byCode.set(code, (byCode.get(code) ?? 0) + count);
  return [...byCode]
    .map(([code, count]) => ({ code, count }))
    .filter(({ count }) => count > 0)
    .sort(
      (a, b) =>
        b.count - a.count ||
        Number(a.code === undefined) - Number(b.code === undefined) ||
        (a.code ?? '').localeCompare(b.code ?? ''),
    );
}

function reasonsChart(groups: CardGroup[], page: Page): string {
  const chart = page.text.reasonsChart;
  const reasons = reasonsOf(groups).map(({ code, count }) => ({
    label: code === undefined ? chart.noReason : word(page.wording.overrideReasons, code),
    count,
  }));
  const heading = `<h2 id="reasons-title">${escapeHtml(chart.title)}</h2>`;
  if (reasons.length === 0)
    return `<section aria-labelledby="reasons-title">${heading}<p class="none">${escapeHtml(chart.none)}</p></section>`;
  const overridden = groups.reduce((sum, group) => sum + group.overridden, 0);
  const [width, rowHeight, barHeight, countRoom] = [760, 46, 18, 64];
  const max = Math.max(...reasons.map(({ count }) => count));
  const rows = reasons.map(({ label, count }, index) => {
    const top = index * rowHeight;
    const barWidth = Math.max(2, (count / max) * (width - countRoom));
    const title = fill(chart.barTitle, {
      reason: label,
      count: page.count(count),
      share: page.share(count, overridden),
    });
    return [
      `<text class="reason" x="0" y="${top + 15}">${escapeHtml(label)}</text>`,
      `<rect class="overridden" x="0" y="${top + 21}" width="${at(barWidth)}" height="${barHeight}"><title>${escapeHtml(title)}</title></rect>`,
      `<text class="count" x="${at(barWidth + 8)}" y="${top + 35}">${escapeHtml(page.count(count))}</text>`,
    ].join('\n');
  });
  const list = reasons
    .map(({ label, count }) => `${label}${page.wording.values.listIntro}${page.count(count)}`)
    .join(page.wording.values.listSeparator);
  const height = reasons.length * rowHeight;
  return `<section aria-labelledby="reasons-title">
${heading}
<svg class="chart" viewBox="0 0 ${width} ${height}" role="img" aria-label="${escapeHtml(fill(chart.label, { list }))}">
${rows.join('\n')}
</svg>
</section>`;
}

/** Suggestions over all groups by key, most offered first. */
function suggestionsOf(groups: CardGroup[]): SuggestionCount[] {
  const byKey = new Map<string, SuggestionCount>();
  for (const { suggestions } of groups) {
    for (const { key, label, offered, accepted } of suggestions) {
      const sum = byKey.get(key) ?? { key, label, offered: 0, accepted: 0 };
      sum.offered += offered;
      sum.accepted += accepted;
      byKey.set(key, sum);
    }
  }
  return [...byKey.values()].sort((a, b) => b.offered - a.offered || a.label.localeCompare(b.label));
}

function suggestionsTable(groups: CardGroup[], page: Page): string {
  const text = page.text.suggestions;
  const suggestions = suggestionsOf(groups);
  const heading = `<h2 id="suggestions-title">${escapeHtml(text.title)}</h2>`;
  if (suggestions.length === 0)
    return `<section aria-labelledby="suggestions-title">${heading}<p class="none">${escapeHtml(text.none)}</p></section>`;
  const rows = suggestions.map(({ label, offered, accepted }) => {
    const numbers = [page.count(offered), page.count(accepted), page.share(accepted, offered)];
    return `<tr><td>${escapeHtml(label)}</td>${numbers.map((n) => `<td class="num">${escapeHtml(n)}</td>`).join('')}</tr>`;
  });
  const headers = [
    { label: text.order },
    { label: text.offered, numeric: true },
    { label: text.accepted, numeric: true },
    { label: page.text.columns.acceptance, numeric: true },
  ];
  return `<section aria-labelledby="suggestions-title">
${heading}
<div class="scroll"><table id="suggestions">${headerRow(headers)}<tbody>
${rows.join('\n')}
</tbody></table></div>
</section>`;
}

/** The whole analytics page for one report; `basePath` is where its window form sends the next query. */
export function renderAnalyticsPage(
  report: AnalyticsReport,
  wording: Wording,
  options: { locale: Locale; basePath: string },
): string {
  const page = pageOf(wording, options.locale);
  const { text } = page;
  const { from, to } = report;
  const { totals } = report;
  const content =
    report.groups.length === 0
      ? `<p class="empty">${escapeHtml(text.empty)}</p>`
      : `<p class="totals">${escapeHtml(
          fill(text.totals, {
            issued: page.count(totals.issued),
            accepted: page.count(totals.accepted),
            overridden: page.count(totals.overridden),
            noFeedback: page.count(totals.noFeedback),
            acceptance: page.share(totals.accepted, totals.issued),
          }),
        )}</p>
<section aria-labelledby="groups-title">
<h2 id="groups-title">${escapeHtml(text.groupsTitle)}</h2>
${groupsTable(report.groups, page)}
</section>
${acceptanceChart(weeksOf(report.groups), page)}
${reasonsChart(report.groups, page)}
${suggestionsTable(report.groups, page)}`;
  const body = `<header>
<h1>${escapeHtml(text.title)}</h1>
<p class="intro">${escapeHtml(fill(text.intro, { from, to }))}</p>
${windowForm(from, to, options.basePath, page)}
</header>
<main>
${content}
</main>
<footer><p>${escapeHtml(fill(text.footnote, { timeZone: report.timeZone }))}</p></footer>`;
  return htmlDocument({ locale: options.locale, title: text.title, style: analyticsStyle, body });
}

/** The token form in front of the analytics page; `refused` after a token that was not accepted. */
export function renderAnalyticsLogin(
  wording: Wording,
  options: { locale: Locale; action: string; refused: boolean },
): string {
  const { login } = wording.analytics;
  const body = `<main>
<h1>${escapeHtml(login.title)}</h1>
${options.refused ? `<p class="error" role="alert">${escapeHtml(login.refused)}</p>\n` : ''}<form class="login" method="post" action="${escapeHtml(options.action)}" enctype="application/x-www-form-urlencoded">
<label for="token">${escapeHtml(login.token)}</label>
<input id="token" name="token" type="password" autocomplete="off" required autofocus>
<button type="submit">${escapeHtml(login.submit)}</button>
</form>
</main>`;
  return htmlDocument({ locale: options.locale, title: login.title, style: analyticsStyle, body });
}
