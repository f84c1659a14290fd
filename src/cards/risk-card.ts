/**
 * The two risk cards (residual back pain, re-fracture): tier and top factors in the summary; a
 * markdown table of the factors found with points, odds ratio and source; what could not be
 * assessed; the model version and the statement that tiers are relative.
 */
import type { Card, Suggestion } from '../cds-hooks/schemas.ts';
import type { Assessment, Model, ScoredFactor } from '../clinical/model.ts';
import type { PatientFacts } from '../clinical/patient-facts.ts';
import { type CardContext, frameCard } from './card-frame.ts';
import { fill, type Wording, word } from './wording.ts';

const topFactorCount = 3;
const maxSummaryLength = 139;

function formatNumber(value: number): string {
  return (Number.isInteger(value) ? String(value) : value.toFixed(1)).replace('-', '−');
}

/** The patient's value, as the clinician should read it in the table. */
function patientValue(factor: { id: string; value: number | boolean }, wording: Wording): string {
  if (typeof factor.value === 'boolean') return wording.values.yes;
  const value = formatNumber(factor.value);
  switch (factor.id) {
    case 'bmd':
      return fill(wording.values.tScore, { value });
    case 'age':
      return fill(wording.values.years, { value });
    case 'multiple-levels':
      return fill(wording.values.levels, { value });
    case 'bmi':
      return fill(wording.values.bmi, { value });
    default:
      return value;
  }
}

function oddsRatioText(factor: ScoredFactor, wording: Wording): string {
  const { value, ci, per, note } = factor.oddsRatio;
  if (value === undefined) return wording.detail.orNotPublished;
  const interval = ci ? ` (${ci[0]}–${ci[1]})` : '';
  const qualifiers = [per && `per ${per}`, note].filter(Boolean).join('; ');
  return `${value}${interval}${qualifiers ? `, ${qualifiers}` : ''}`;
}

function citationText(factor: ScoredFactor): string {
  const { short, doi, pmid, reference } = factor.citation;
  if (doi) return `${short}, [doi:${doi}](https://doi.org/${doi})`;
  if (pmid) return `${short}, [PMID ${pmid}](https://pubmed.ncbi.nlm.nih.gov/${pmid}/)`;
  return reference ? `${short}, ${reference}` : short;
}

/** Markdown table cells must not break the table. */
function cell(text: string): string {
  return text.replace(/\|/g, '\\|').replace(/\n/g, ' ');
}

function factorTable(assessment: Assessment, wording: Wording): string {
  if (assessment.factors.length === 0) return wording.detail.noFactors;
  const rows = [...assessment.factors]
    .sort((a, b) => b.points - a.points)
    .map((f) => {
      const points = f.provisional ? `${f.points} (${wording.detail.provisional})` : String(f.points);
      const cells = [
        word(wording.factors, f.id),
        patientValue(f, wording),
        points,
        oddsRatioText(f, wording),
        citationText(f),
      ];
      return `| ${cells.map(cell).join(' | ')} |`;
    });
  return [wording.detail.tableHeader, '|---|---|---|---|---|', ...rows].join('\n');
}

function tierScale(model: Model, wording: Wording): string {
  return model.tiers
    .map((tier, i) => {
      const next = model.tiers[i + 1];
      const range = next ? `${tier.minPoints}–${next.minPoints - 1}` : `≥ ${tier.minPoints}`;
      return `${word(wording.tiers, tier.id)} ${range}`;
    })
    .join(', ');
}

/** Tier and points, then as many of the top factors as fit whole in a summary (under 140 characters). */
function summary(assessment: Assessment, template: string, wording: Wording): string {
  const names = [...assessment.factors]
    .sort((a, b) => b.points - a.points)
    .slice(0, topFactorCount)
    .map((f) =>
      word(wording.factors, f.id)
        .replace(/\s*\(.*\)$/, '')
        .replace(/（.*）$/, ''),
    );
  const render = (top: string[]) =>
    fill(template, {
      tier: word(wording.tiers, assessment.tier),
      points: assessment.points,
      top: top.length > 0 ? `${wording.values.listIntro}${top.join(wording.values.listSeparator)}` : '',
    });
  let count = names.length;
  while (count > 0 && [...render(names.slice(0, count))].length > maxSummaryLength) count--;
  return render(names.slice(0, count));
}

export interface RiskCardInput {
  model: Model;
  assessment: Assessment;
  suggestions: Suggestion[];
  /** What the facts layer read from text alone, and what it did not count: shown so the clinician can check. */
  provenance: Pick<PatientFacts, 'ignored' | 'textMatches'>;
}

/** Distinct entries with their counts, e.g. `Observation: status entered-in-error (2)`. */
function tally(entries: string[]): string {
  const counts = new Map<string, number>();
  for (const entry of entries) counts.set(entry, (counts.get(entry) ?? 0) + 1);
  return [...counts].map(([entry, n]) => (n > 1 ? `${entry} (${n})` : entry)).join('; ');
}

function provenanceLines(provenance: RiskCardInput['provenance'], wording: Wording): string[] {
  const matches = (provenance.textMatches ?? []).map((m) => `${m.concept} (${m.resourceType})`);
  const ignored = provenance.ignored.map((i) => `${i.resourceType}: ${i.reason}`);
  return [
    matches.length > 0 ? fill(wording.detail.textMatches, { list: tally(matches) }) : '',
    ignored.length > 0
      ? fill(wording.detail.ignoredData, { count: ignored.length, list: tally(ignored) })
      : '',
  ];
}

export function renderRiskCard(
  { model, assessment, suggestions, provenance }: RiskCardInput,
  context: CardContext,
): Card {
  const { wording } = context;
  const texts = wording.cards[assessment.kind];
  const advice = texts.advice[assessment.tier] ?? [];
  const notAssessed = assessment.notAssessed.map((id) => word(wording.factors, id));
  const shown = assessment.shown.map((s) => `${word(wording.factors, s.id)} (${patientValue(s, wording)})`);
  const unreadable = context.unreadable;
  const detail = [
    fill(wording.detail.tierLine, {
      tier: word(wording.tiers, assessment.tier),
      points: assessment.points,
      tierScale: tierScale(model, wording),
    }),
    factorTable(assessment, wording),
    notAssessed.length > 0 ? fill(wording.detail.notAssessed, { list: notAssessed.join('; ') }) : '',
    shown.length > 0 ? fill(wording.detail.shown, { list: shown.join('; ') }) : '',
    unreadable.length > 0 ? fill(wording.detail.unreadable, { list: unreadable.join(', ') }) : '',
    ...provenanceLines(provenance, wording),
    advice.length > 0 ? [wording.detail.adviceHeading, ...advice.map((a) => `- ${a}`)].join('\n') : '',
    fill(wording.detail.calibration, { model: model.id, version: model.version }),
  ]
    .filter((part) => part !== '')
    .join('\n\n');
  return frameCard(
    {
      kind: assessment.kind,
      summary: summary(assessment, texts.summary, wording),
      detail,
      indicator: assessment.tier === 'low' ? 'info' : 'warning',
      suggestions,
      assessment,
    },
    context,
  );
}
