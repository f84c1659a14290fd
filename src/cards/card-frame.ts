/**
 * What every card of ours shares: a uuid, the source (the model behind a risk card, the guideline
 * behind a care-gap card), a risk card's link to the picture of its assessment, override reasons on
 * warnings, and the machine-readable assessment extension.
 */
import type { Card, Suggestion } from '../cds-hooks/schemas.ts';
import type { Probability } from '../clinical/calibration.ts';
import type { Assessment } from '../clinical/model.ts';
import { timeOrderedUuid } from './card-uuid.ts';
import { fill, type Wording, word } from './wording.ts';

export type CardKind =
  | 'residual-pain-risk'
  | 'refracture-risk'
  | 'treatment-gap'
  | 'missing-dxa'
  | 'denosumab-gap'
  | 'glucocorticoid-order'
  | 'repeat-augmentation';

export const extensionKey = 'pvp-cds.assessment';

export interface AssessmentExtension {
  kind: CardKind;
  model?: string;
  points?: number;
  tier?: string;
  factors: Array<{ id: string; points: number }>;
  notAssessed: string[];
  /** With a model calibrated on the hospital's cohort: the outcome's probability and its 95% interval. */
  probability?: Probability;
}

/** Where the rendered cards point to and whom their draft orders are for. */
export interface CardContext {
  wording: Wording;
  patientId: string;
  userId: string;
  encounterId?: string;
  /** Absolute URL of the description of a model, or of the service when no model applies. */
  modelUrl(modelId?: string): string;
  /** Absolute URL of the page that pictures a risk card's assessment. */
  explainUrl(cardUuid: string): string;
  /** Optional prefetch keys that could not be read: the score may understate the risk. */
  unreadable: string[];
  /** Records naming another patient, left out before scoring. */
  foreignRecords: number;
  /** Entries of a prefetch key that were not resources of its types, left out. */
  misfiledRecords: number;
}

/** The published sources the guideline cards cite (CLINICAL.md 1.1); each label is in the card wording. */
const GUIDELINES = {
  'conley-2020': 'https://doi.org/10.1002/jbmr.3877',
  'tsourdi-2017': 'https://doi.org/10.1016/j.bone.2017.08.003',
  'humphrey-2023': 'https://doi.org/10.1002/art.42646',
  'case-report-003': undefined,
} as const;

export type GuidelineSource = keyof typeof GUIDELINES;

export type CardSource =
  | { guideline: GuidelineSource }
  | { model: { id: string; version: string; kind: 'residual-pain-risk' | 'refracture-risk' } };

function sourceOf(source: CardSource, context: CardContext): Card['source'] {
  const { sources } = context.wording;
  if ('model' in source) {
    const { id, version, kind } = source.model;
    return { label: fill(word(sources, kind), { model: id, version }), url: context.modelUrl(id) };
  }
  const url = GUIDELINES[source.guideline];
  return { label: word(sources, source.guideline), url: url ?? context.modelUrl() };
}

export const overrideReasonSystem = 'urn:pvp-cds:override-reason';

function overrideReasons(wording: Wording): NonNullable<Card['overrideReasons']> {
  return Object.entries(wording.overrideReasons).map(([code, display]) => ({
    system: overrideReasonSystem,
    code,
    display,
  }));
}

export function assessmentExtension(
  kind: CardKind,
  assessment?: Assessment,
  probability?: Probability,
): AssessmentExtension {
  if (!assessment) return { kind, factors: [], notAssessed: [] };
  return {
    kind,
    model: assessment.model,
    points: assessment.points,
    tier: assessment.tier,
    factors: assessment.factors.map((f) => ({ id: f.id, points: f.points })),
    notAssessed: assessment.notAssessed,
    ...(probability ? { probability } : {}),
  };
}

export interface CardContent {
  kind: CardKind;
  summary: string;
  detail: string;
  indicator: Card['indicator'];
  source: CardSource;
  suggestions: Suggestion[];
  /** `at-most-one` unless the suggestions are meant to be taken together. */
  selectionBehavior?: 'at-most-one' | 'any';
  assessment?: Assessment;
  probability?: Probability;
}

/** CDS Hooks: a card's summary is under 140 characters. */
const maxSummary = 139;

/**
 * Whether a summary is within the limit, in characters, not UTF-16 units: counted only when the units are
 * over it (a text no longer in units has no more characters either).
 */
export function summaryFits(summary: string): boolean {
  return summary.length <= maxSummary || [...summary].length <= maxSummary;
}

/** Cut at a character, not inside one. */
function clip(summary: string): string {
  return summaryFits(summary) ? summary : `${[...summary].slice(0, maxSummary - 1).join('')}…`;
}

export function frameCard(content: CardContent, context: CardContext): Card {
  const uuid = timeOrderedUuid();
  return {
    uuid,
    summary: clip(content.summary),
    detail: content.detail,
    indicator: content.indicator,
    source: sourceOf(content.source, context),
    ...('model' in content.source
      ? {
          links: [
            { label: context.wording.explain.link, url: context.explainUrl(uuid), type: 'absolute' as const },
          ],
        }
      : {}),
    ...(content.suggestions.length > 0
      ? { suggestions: content.suggestions, selectionBehavior: content.selectionBehavior ?? 'at-most-one' }
      : {}),
    ...(content.indicator === 'info' ? {} : { overrideReasons: overrideReasons(context.wording) }),
    extension: { [extensionKey]: assessmentExtension(content.kind, content.assessment, content.probability) },
  };
}
