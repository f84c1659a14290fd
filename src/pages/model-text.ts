/** How the pages name a model's parts: a factor's source as a link, a scoring band as a bound. */
import { fill, type Wording, word } from '../cards/wording.ts';
import type { Model } from '../clinical/model.ts';
import { escapeHtml } from './page-frame.ts';

type Factor = Model['factors'][number];
type Citation = Factor['citation'];
type Band = Extract<Factor['rule'], { type: 'bands' }>['bands'][number];

/** The citation with its design, linked to its DOI or PubMed record when it has one. */
export function citationHtml(citation: Citation, wording: Wording): string {
  const { short, design, doi, pmid, reference } = citation;
  const name = escapeHtml(
    design
      ? `${short}${fill(wording.values.aside, { value: word(wording.oddsRatio.designs, design) })}`
      : short,
  );
  const link = (href: string, text: string) =>
    `<a href="${escapeHtml(href)}" rel="noreferrer">${escapeHtml(text)}</a>`;
  if (doi) return `${name}, ${link(`https://doi.org/${doi}`, `doi:${doi}`)}`;
  if (pmid) return `${name}, ${link(`https://pubmed.ncbi.nlm.nih.gov/${pmid}/`, `PMID ${pmid}`)}`;
  return reference ? `${name}, ${escapeHtml(reference)}` : name;
}

/**
 * The odds ratio and citation behind a factor's points, as the scoring engine chose them: a band's own
 * when the band that gives those points has one, the factor's otherwise.
 */
export function sourceOf(factor: Factor, points: number): Pick<Factor, 'oddsRatio' | 'citation'> {
  const band = factor.rule.type === 'bands' ? factor.rule.bands.find((b) => b.points === points) : undefined;
  return { oddsRatio: band?.oddsRatio ?? factor.oddsRatio, citation: band?.citation ?? factor.citation };
}

function formatBound(value: number): string {
  return String(value).replace('-', '−');
}

/** `≤ −3.5`, `≥ 2`, `< 18.5`, or several joined. */
export function bandBound(band: Band): string {
  return [
    band.min === undefined ? undefined : `≥ ${formatBound(band.min)}`,
    band.max === undefined ? undefined : `≤ ${formatBound(band.max)}`,
    band.below === undefined ? undefined : `< ${formatBound(band.below)}`,
  ]
    .filter((part): part is string => part !== undefined)
    .join(' ');
}
