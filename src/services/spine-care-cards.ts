/**
 * The cards both services show: the care gaps for a patient with spine disease (the denosumab gap,
 * critical, replaces the treatment gap since its suggestions resume cover; the treatment gap; the missing
 * DXA; nothing suggested that is already ordered), and the re-fracture risk card after or at augmentation.
 */
import type { CardContext } from '../cards/card-frame.ts';
import { denosumabGapCard, missingDxaCard, treatmentGapCard } from '../cards/care-gap-cards.ts';
import { refractureAdvice } from '../cards/risk-advice.ts';
import { renderRiskCard } from '../cards/risk-card.ts';
import type { Card } from '../cds-hooks/schemas.ts';
import type { Assessment, Model } from '../clinical/model.ts';
import type { PatientFacts } from '../clinical/patient-facts.ts';

/** The re-fracture risk card, with the advice of its tier. */
export function refractureCard(
  model: Model,
  assessment: Assessment,
  facts: PatientFacts,
  context: CardContext,
): Card {
  return renderRiskCard(
    {
      model,
      assessment,
      suggestions: [],
      provenance: facts,
      advice: refractureAdvice(model, assessment, context.wording),
    },
    context,
  );
}

export function spineCareCards(facts: PatientFacts, context: CardContext): Card[] {
  const cards: Card[] = [];
  if (facts.denosumabGap) {
    cards.push(denosumabGapCard(facts.denosumabGap, context));
  } else if (facts.features.noAntiOsteoporosisDrug && facts.draft.antiOsteoporosis.length === 0) {
    cards.push(treatmentGapCard(facts, context));
  }
  if (facts.features.lowestTScore === undefined && !facts.dxaOrdered) cards.push(missingDxaCard(context));
  return cards;
}

const severity: Record<Card['indicator'], number> = { critical: 0, warning: 1, info: 2 };

/** Most urgent first, as the CDS Hooks sandbox shows them; stable within a level. */
export function byUrgency(cards: Card[]): Card[] {
  return [...cards].sort((a, b) => severity[a.indicator] - severity[b.indicator]);
}
