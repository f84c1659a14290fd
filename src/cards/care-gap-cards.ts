/**
 * Cards that are not a score: the treatment gap, the missing DXA, the denosumab gap, and a systemic
 * glucocorticoid being ordered for a patient with spine disease. Each cites its guideline (CLINICAL.md 1.1).
 */
import type { Card } from '../cds-hooks/schemas.ts';
import type { Assessment } from '../clinical/model.ts';
import type { AntiOsteoporosisDrug, PatientFacts, TreatmentUse } from '../clinical/patient-facts.ts';
import { type CardContext, frameCard } from './card-frame.ts';
import { drugSuggestion, serviceSuggestion } from './suggested-orders.ts';
import { fill, word } from './wording.ts';

/** Drugs given at intervals: a lapsed one is an overdue dose rather than a question of adherence. */
const INTERVAL_DRUGS: readonly AntiOsteoporosisDrug[] = ['zoledronic-acid', 'denosumab', 'romosozumab'];

function evidenceLine(use: TreatmentUse, context: CardContext): string {
  const texts = context.wording.cards['treatment-gap'];
  const values = {
    drug: word(context.wording.drugs, use.drug),
    date: use.last.date,
    source: context.wording.evidence[use.last.source],
  };
  const line = use.last.stopped
    ? fill(texts.stopped, values)
    : fill(INTERVAL_DRUGS.includes(use.drug) ? texts.overdue : texts.stale, values);
  return sentence(line);
}

/** A line that starts with a drug name starts with a capital ("Alendronate: stopped"); Chinese is unchanged. */
function sentence(line: string): string {
  return line.charAt(0).toLocaleUpperCase('en') + line.slice(1);
}

export function treatmentGapCard(facts: PatientFacts, context: CardContext): Card {
  const { wording } = context;
  const texts = wording.cards['treatment-gap'];
  const lapsed = facts.antiOsteoporosis
    .filter((use) => !use.covered)
    .map((use) => evidenceLine(use, context));
  const notPreventing = facts.nonPreventing.map((use) =>
    fill(texts.notPreventing, {
      drug: word(wording.drugs, use.drug),
      date: use.last.date,
      reason: word(texts.notPreventingReasons, use.drug),
    }),
  );
  const detail = [
    texts.detail,
    [...lapsed, ...notPreventing].map((line) => `- ${line}`).join('\n'),
    texts.choice,
    texts.caveats,
  ]
    .filter(Boolean)
    .join('\n\n');
  return frameCard(
    {
      kind: 'treatment-gap',
      summary: texts.summary,
      detail,
      indicator: 'warning',
      source: { guideline: 'conley-2020' },
      suggestions:
        facts.draft.antiOsteoporosis.length > 0
          ? []
          : [
              drugSuggestion('alendronate', context, true),
              drugSuggestion('risedronate', context),
              drugSuggestion('zoledronic-acid', context),
            ],
    },
    context,
  );
}

export function missingDxaCard(context: CardContext): Card {
  const texts = context.wording.cards['missing-dxa'];
  return frameCard(
    {
      kind: 'missing-dxa',
      summary: texts.summary,
      detail: texts.detail,
      indicator: 'info',
      source: { guideline: 'conley-2020' },
      suggestions: [serviceSuggestion('dxa', context)],
    },
    context,
  );
}

export function denosumabGapCard(gap: NonNullable<PatientFacts['denosumabGap']>, context: CardContext): Card {
  const texts = context.wording.cards['denosumab-gap'];
  const values = { months: gap.monthsSince, date: gap.lastDose };
  return frameCard(
    {
      kind: 'denosumab-gap',
      summary: fill(texts.summary, values),
      detail: fill(texts.detail, values),
      indicator: 'critical',
      source: { guideline: 'tsourdi-2017' },
      suggestions: [drugSuggestion('denosumab', context, true), drugSuggestion('zoledronic-acid', context)],
    },
    context,
  );
}

/**
 * A drafted systemic glucocorticoid that warns (not a single dose, not a course of 14 days or less). The
 * re-fracture score is shown only where the model applies (a prior PVP/PKP, or one in the same draft);
 * it counts the draft "if continued for 3 months or more" unless the planned course is shorter.
 */
export function glucocorticoidOrderCard(
  facts: PatientFacts,
  refracture: Assessment | undefined,
  context: CardContext,
): Card {
  const { wording } = context;
  const texts = wording.cards['glucocorticoid-order'];
  const drafts = facts.draft.glucocorticoids.filter((draft) => draft.warns);
  const covering = facts.antiOsteoporosis.filter((use) => use.covered).map((use) => use.drug);
  const cover = [...new Set([...covering, ...facts.draft.antiOsteoporosis])];
  const planned = drafts
    .map((draft) => draft.plannedDays)
    .filter((days): days is number => days !== undefined);
  const counted = drafts.some((draft) => draft.longTermIfContinued);
  const scoreLine =
    refracture &&
    fill(counted ? texts.ifContinued : texts.notCounted, {
      tier: word(wording.tiers, refracture.tier),
      points: refracture.points,
      model: refracture.model,
    });
  const detail = [
    fill(texts.detail, {
      drugs: drafts.map((draft) => word(wording.drugs, draft.drug)).join(wording.values.listSeparator),
    }),
    planned.length > 0 ? fill(texts.planned, { days: Math.max(...planned) }) : '',
    cover.length > 0
      ? fill(texts.covered, {
          list: cover.map((drug) => word(wording.drugs, drug)).join(wording.values.listSeparator),
        })
      : texts.uncovered,
    cover.length > 0 ? '' : wording.cards['treatment-gap'].caveats,
    scoreLine ?? '',
  ]
    .filter(Boolean)
    .join('\n\n');
  return frameCard(
    {
      kind: 'glucocorticoid-order',
      summary: texts.summary,
      detail,
      indicator: 'warning',
      source: { guideline: 'humphrey-2023' },
      suggestions:
        cover.length > 0
          ? []
          : [drugSuggestion('alendronate', context, true), drugSuggestion('zoledronic-acid', context)],
      ...(refracture ? { assessment: refracture } : {}),
    },
    context,
  );
}
