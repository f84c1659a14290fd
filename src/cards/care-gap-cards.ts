/**
 * Cards that are not a score: the treatment gap, the missing DXA, the denosumab gap, and a systemic
 * glucocorticoid being ordered for a patient with spine disease.
 */
import type { Card } from '../cds-hooks/schemas.ts';
import type { Assessment } from '../clinical/model.ts';
import type { AntiOsteoporosisDrug, PatientFacts } from '../clinical/patient-facts.ts';
import { type CardContext, frameCard } from './card-frame.ts';
import { drugSuggestion, serviceSuggestion } from './suggested-orders.ts';
import { fill, word } from './wording.ts';

function drugList(drugs: Array<{ drug: string; lastDate?: string }>, context: CardContext): string {
  return drugs
    .map((d) => `${word(context.wording.drugs, d.drug)}${d.lastDate ? ` (${d.lastDate})` : ''}`)
    .join(', ');
}

/** Whether an anti-osteoporosis drug is already being ordered in this order-sign session. */
function drugBeingOrdered(facts: PatientFacts): boolean {
  return facts.draft.antiOsteoporosis.length > 0;
}

export function treatmentGapCard(facts: PatientFacts, context: CardContext): Card {
  const texts = context.wording.cards['treatment-gap'];
  const stopped = facts.antiOsteoporosis.filter((d) => d.status === 'stopped');
  const detail = [
    texts.detail,
    stopped.length > 0 ? fill(texts.stopped, { list: drugList(stopped, context) }) : '',
  ]
    .filter(Boolean)
    .join('\n\n');
  return frameCard(
    {
      kind: 'treatment-gap',
      summary: texts.summary,
      detail,
      indicator: 'warning',
      suggestions: drugBeingOrdered(facts)
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
      suggestions: [drugSuggestion('denosumab', context, true), drugSuggestion('zoledronic-acid', context)],
    },
    context,
  );
}

export function glucocorticoidOrderCard(
  facts: PatientFacts,
  refracture: Assessment,
  context: CardContext,
): Card {
  const texts = context.wording.cards['glucocorticoid-order'];
  const active = facts.antiOsteoporosis.filter((d) => d.status === 'active');
  const drafted: Array<{ drug: AntiOsteoporosisDrug }> = facts.draft.antiOsteoporosis.map((drug) => ({
    drug,
  }));
  const cover = [...active, ...drafted];
  const covered = cover.length > 0;
  const detail = [
    fill(texts.detail, {
      drugs: facts.draft.glucocorticoids.map((g) => word(context.wording.drugs, g)).join(', '),
    }),
    covered ? fill(texts.covered, { list: drugList(cover, context) }) : texts.uncovered,
    fill(texts.withOrder, {
      tier: word(context.wording.tiers, refracture.tier),
      points: refracture.points,
      model: refracture.model,
    }),
  ].join('\n\n');
  return frameCard(
    {
      kind: 'glucocorticoid-order',
      summary: texts.summary,
      detail,
      indicator: 'warning',
      suggestions: covered
        ? []
        : [drugSuggestion('alendronate', context, true), drugSuggestion('zoledronic-acid', context)],
      assessment: refracture,
    },
    context,
  );
}
