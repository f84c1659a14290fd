/**
 * The two risk cards (residual back pain, re-fracture): tier and top factors in the summary; a
 * markdown table of the factors found with points, odds ratio and source; what could not be
 * assessed; what the data held; the advice; the model version and the statement that tiers are relative.
 */
import type { Card, Suggestion } from '../cds-hooks/schemas.ts';
import { levelOf, type Probability } from '../clinical/calibration.ts';
import {
  type Assessment,
  assessmentProbability,
  type Model,
  type ScoredFactor,
  tierPosition,
} from '../clinical/model.ts';
import type { PatientFacts } from '../clinical/patient-facts.ts';
import { type CardContext, frameCard, summaryFits } from './card-frame.ts';
import { calibrationValues, probabilityValues } from './probability-text.ts';
import { provenanceLines } from './provenance.ts';
import { fill, type Wording, word } from './wording.ts';

const topFactorCount = 3;

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

/** "3.5 (2.06–5.93)", with what the ratio is per and any note, in the card's language. */
export function oddsRatioText(oddsRatio: ScoredFactor['oddsRatio'], wording: Wording): string {
  const { value, ci, per, note } = oddsRatio;
  const qualifiers = [
    per && word(wording.oddsRatio.per, per),
    note && word(wording.oddsRatio.notes, note),
  ].filter((q): q is string => Boolean(q));
  if (value === undefined) return qualifiers.join(wording.values.listSeparator);
  const interval = ci ? ` (${ci[0]}–${ci[1]})` : '';
  return [`${value}${interval}`, ...qualifiers].join(wording.values.listSeparator);
}

function citationText(factor: ScoredFactor, wording: Wording): string {
  const { short, design, doi, pmid, reference } = factor.citation;
  const name = design
    ? `${short}${fill(wording.values.aside, { value: word(wording.oddsRatio.designs, design) })}`
    : short;
  if (doi) return `${name}, [doi:${doi}](https://doi.org/${doi})`;
  if (pmid) return `${name}, [PMID ${pmid}](https://pubmed.ncbi.nlm.nih.gov/${pmid}/)`;
  return reference ? `${name}, ${reference}` : name;
}

/** Markdown table cells must not break the table. */
function cell(text: string): string {
  return text.replace(/\|/g, '\\|').replace(/\n/g, ' ');
}

/**
 * A fitted model's odds ratio for the factor at the patient's level: e^(β × level), with its interval;
 * a dash for a factor the hospital's fit left out.
 */
function localOddsRatio(model: Model, factor: ScoredFactor): string {
  const local = model.local;
  const coefficient =
    local?.method === 'fitted' ? local.coefficients.find((c) => c.factor === factor.id) : undefined;
  const modelFactor = model.factors.find((f) => f.id === factor.id);
  if (!coefficient || !modelFactor) return '—';
  const level = levelOf(modelFactor, factor.points);
  const odds = (beta: number) => Math.exp(beta * level).toFixed(2);
  return `${odds(coefficient.estimate)} (${odds(coefficient.ci[0])}–${odds(coefficient.ci[1])})`;
}

/**
 * What the model and the wording alone say: the tier scale, and each odds ratio's and source's cell
 * (a band of a factor may have its own, so they are keyed by the model's own objects). Made once per
 * model and wording, both loaded when the service starts.
 */
interface ModelTexts {
  tierScale: string;
  oddsRatios: WeakMap<ScoredFactor['oddsRatio'], string>;
  citations: WeakMap<ScoredFactor['citation'], string>;
  /** Each factor's name as a table cell, and as the summary names it (without its parenthesis). */
  nameCells: Map<string, string>;
  shortNames: Map<string, string>;
}
const modelTexts = new WeakMap<Model, WeakMap<Wording, ModelTexts>>();

function textsOf(model: Model, wording: Wording): ModelTexts {
  let byWording = modelTexts.get(model);
  if (!byWording) {
    byWording = new WeakMap();
    modelTexts.set(model, byWording);
  }
  let texts = byWording.get(wording);
  if (!texts) {
    texts = {
      tierScale: tierScale(model, wording),
      oddsRatios: new WeakMap(),
      citations: new WeakMap(),
      nameCells: new Map(),
      shortNames: new Map(),
    };
    byWording.set(wording, texts);
  }
  return texts;
}

function once<K>(
  cache: { get(key: K): string | undefined; set(key: K, text: string): unknown },
  key: K,
  make: () => string,
): string {
  let text = cache.get(key);
  if (text === undefined) {
    text = make();
    cache.set(key, text);
  }
  return text;
}

function factorTable(assessment: Assessment, model: Model, wording: Wording): string {
  if (assessment.factors.length === 0) return wording.detail.noFactors;
  const fitted = model.local?.method === 'fitted';
  const texts = textsOf(model, wording);
  const rows = [...assessment.factors]
    .sort((a, b) => b.points - a.points)
    .map((f) => {
      const points = f.provisional ? `${f.points} (${wording.detail.provisional})` : String(f.points);
      const cells = [
        once(texts.nameCells, f.id, () => cell(word(wording.factors, f.id))),
        cell(patientValue(f, wording)),
        cell(points),
        once(texts.oddsRatios, f.oddsRatio, () => cell(oddsRatioText(f.oddsRatio, wording))),
        once(texts.citations, f.citation, () => cell(citationText(f, wording))),
        ...(fitted ? [cell(localOddsRatio(model, f))] : []),
      ];
      return `| ${cells.join(' | ')} |`;
    });
  const header = fitted ? wording.local.tableHeader : wording.detail.tableHeader;
  return [header, `|${'---|'.repeat(fitted ? 6 : 5)}`, ...rows].join('\n');
}

/** Each tier with its range of points, `0–1` or `≥ 4`. */
export function tierRanges(model: Model): Array<{ id: string; range: string }> {
  return model.tiers.map((tier, i) => {
    const next = model.tiers[i + 1];
    return { id: tier.id, range: next ? `${tier.minPoints}–${next.minPoints - 1}` : `≥ ${tier.minPoints}` };
  });
}

function tierScale(model: Model, wording: Wording): string {
  return tierRanges(model)
    .map(({ id, range }) => `${word(wording.tiers, id)} ${range}`)
    .join(wording.values.listSeparator);
}

/** Tier and points, then as many of the top factors as fit whole in a summary (under 140 characters). */
function summary(
  model: Model,
  assessment: Assessment,
  probability: Probability | undefined,
  template: string,
  wording: Wording,
): string {
  const { shortNames } = textsOf(model, wording);
  const names = [...assessment.factors]
    .sort((a, b) => b.points - a.points)
    .slice(0, topFactorCount)
    .map((f) =>
      once(shortNames, f.id, () =>
        word(wording.factors, f.id)
          .replace(/\s*\(.*\)$/, '')
          .replace(/（.*）$/, ''),
      ),
    );
  const render = (top: string[]) =>
    fill(template, {
      tier: word(wording.tiers, assessment.tier),
      points: assessment.points,
      probability: probability ? fill(wording.local.summary, probabilityValues(probability)) : '',
      top: top.length > 0 ? `${wording.values.listIntro}${top.join(wording.values.listSeparator)}` : '',
    });
  let count = names.length;
  while (count > 0 && !summaryFits(render(names.slice(0, count)))) count--;
  return render(names.slice(0, count));
}

export interface RiskCardInput {
  model: Model;
  assessment: Assessment;
  suggestions: Suggestion[];
  /** What the facts layer read from text alone, and what it did not count: shown so the clinician can check. */
  provenance: Pick<PatientFacts, 'ignored' | 'textMatches'>;
  /** What to consider, most important first. */
  advice: string[];
  /** Shown before the tier line (the imaging advice of a spine MRI or CT order). */
  lead?: string;
  /** The summary template; the card kind's own by default. */
  summaryTemplate?: string;
  /** The indicator; by default info at the lowest tier, warning above. */
  indicator?: Card['indicator'];
}

export function renderRiskCard(input: RiskCardInput, context: CardContext): Card {
  const { model, assessment, suggestions, provenance, advice } = input;
  const { wording } = context;
  const probability = assessmentProbability(model, assessment.factors);
  const notAssessed = assessment.notAssessed.map((id) => word(wording.factors, id));
  const shown = assessment.shown.map(
    (s) => `${word(wording.factors, s.id)}${fill(wording.values.aside, { value: patientValue(s, wording) })}`,
  );
  const detail = [
    input.lead ?? '',
    fill(wording.detail.tierLine, {
      tier: word(wording.tiers, assessment.tier),
      points: assessment.points,
      tierScale: textsOf(model, wording).tierScale,
    }),
    probability ? fill(wording.local.probabilityLine, probabilityValues(probability)) : '',
    factorTable(assessment, model, wording),
    notAssessed.length > 0
      ? fill(wording.detail.notAssessed, { list: notAssessed.join(wording.values.listSeparator) })
      : '',
    shown.length > 0 ? fill(wording.detail.shown, { list: shown.join(wording.values.listSeparator) }) : '',
    ...provenanceLines(provenance, context),
    advice.length > 0 ? [wording.detail.adviceHeading, ...advice.map((a) => `- ${a}`)].join('\n') : '',
    model.local
      ? fill(wording.local.calibration, calibrationValues(model, model.local, wording))
      : fill(wording.detail.calibration, { model: model.id, version: model.version }),
  ]
    .filter((part) => part !== '')
    .join('\n\n');
  return frameCard(
    {
      kind: assessment.kind,
      summary: summary(
        model,
        assessment,
        probability,
        input.summaryTemplate ?? wording.cards[assessment.kind].summary,
        wording,
      ),
      detail,
      indicator: input.indicator ?? (tierPosition(model, assessment) === 'lowest' ? 'info' : 'warning'),
      source: { model: { id: model.id, version: model.version, kind: assessment.kind } },
      suggestions,
      assessment,
      ...(probability ? { probability } : {}),
    },
    context,
  );
}
