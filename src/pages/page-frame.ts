/**
 * What the service's HTML pages share: one server-rendered document without any script, whose only
 * style is one `<style>` element allowed by the Content-Security-Policy through its hash, and text
 * escaping for every string that comes from data or wording.
 */
import { createHash } from 'node:crypto';
import type { Locale } from '../config.ts';

const baseStyle = `
:root {
  color-scheme: light;
  --ink: #1c2430;
  --muted: #5a6472;
  --rule: #d5dae1;
  --band: #f3f5f8;
  --link: #0b5cad;
  --error: #a4161a;
}
* { box-sizing: border-box; }
html {
  font-family: system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, "Noto Sans",
    "Noto Sans CJK SC", "PingFang SC", "Hiragino Sans GB", "Microsoft YaHei", sans-serif;
  font-size: 15px;
  line-height: 1.5;
  color: var(--ink);
  background: #fff;
}
body { margin: 0 auto; max-width: 1120px; padding: 24px 32px 40px; }
h1 { font-size: 1.6rem; line-height: 1.25; margin: 0 0 6px; }
h2 { font-size: 1.15rem; margin: 0 0 10px; }
p { margin: 0 0 10px; }
a { color: var(--link); }
header { border-bottom: 2px solid var(--ink); padding-bottom: 14px; margin-bottom: 20px; }
.intro { color: var(--muted); max-width: 72ch; }
section { margin: 0 0 32px; }
:focus-visible { outline: 3px solid #f0b400; outline-offset: 2px; }
.none { color: var(--muted); }
.visually-hidden { position: absolute; width: 1px; height: 1px; overflow: hidden; clip-path: inset(50%); white-space: nowrap; }
.empty { padding: 16px; border: 1px dashed var(--rule); background: var(--band); color: var(--muted); }
.tag { display: inline-block; padding: 0 8px; border-radius: 10px; border: 1px solid var(--link); color: var(--link); font-size: 0.82rem; white-space: nowrap; }
.provisional { color: var(--muted); font-size: 0.85rem; }
.scroll { overflow-x: auto; }
table { border-collapse: collapse; width: 100%; font-size: 0.92rem; }
caption { text-align: left; font-size: 0.85rem; color: var(--muted); padding-bottom: 4px; }
th, td { padding: 6px 10px; border-bottom: 1px solid var(--rule); text-align: left; vertical-align: top; }
thead th { border-bottom: 2px solid var(--ink); font-weight: 600; white-space: nowrap; }
tbody tr:nth-child(even) { background: var(--band); }
.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
.id { white-space: nowrap; }
.chart { display: block; width: 100%; max-width: 760px; height: auto; }
.chart text { font-size: 12px; fill: var(--muted); }
.chart .grid { stroke: var(--rule); stroke-width: 1; }
.chart .baseline { stroke: var(--ink); stroke-width: 1; }
footer { border-top: 1px solid var(--rule); padding-top: 12px; font-size: 0.85rem; color: var(--muted); }
footer p { max-width: 90ch; }
* { -webkit-print-color-adjust: exact; print-color-adjust: exact; }
@media print {
  @page { margin: 14mm; }
  html { font-size: 10pt; }
  body { max-width: none; padding: 0; }
  section { break-inside: avoid; }
  tr { break-inside: avoid; }
  tbody tr:nth-child(even) { background: none; }
}
`;

export interface PageStyle {
  /** The text of the page's one style element. */
  css: string;
  /** Its hash for the CSP `style-src`, to be put in single quotes there. */
  hash: string;
}

/** The shared rules followed by a page's own. */
export function pageStyle(rules: string): PageStyle {
  const css = `${baseStyle}${rules}`;
  return { css, hash: `sha256-${createHash('sha256').update(css, 'utf8').digest('base64')}` };
}

/** The Content-Security-Policy of a page with that style: nothing else loads, nothing frames it. */
export function pagePolicy(style: PageStyle, extra = ''): string {
  return `default-src 'none'; style-src '${style.hash}'; ${extra}frame-ancestors 'none'; base-uri 'none'`;
}

const entities: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
};

/** Safe as element text and as a quoted attribute value. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (char) => entities[char] ?? char);
}

/** Coordinates for SVG attributes: one decimal is plenty. */
export function at(value: number): string {
  return String(Math.round(value * 10) / 10);
}

export function htmlDocument(page: {
  locale: Locale;
  title: string;
  style: PageStyle;
  body: string;
}): string {
  return `<!doctype html>
<html lang="${escapeHtml(page.locale)}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(page.title)}</title>
<style>${page.style.css}</style>
</head>
<body>
${page.body}
</body>
</html>
`;
}

/** A page that says what was not found, and why. */
export function notFoundDocument(page: {
  locale: Locale;
  title: string;
  text: string;
  style: PageStyle;
}): string {
  const body = `<main>
<h1>${escapeHtml(page.title)}</h1>
<p>${escapeHtml(page.text)}</p>
</main>`;
  return htmlDocument({ locale: page.locale, title: page.title, style: page.style, body });
}
