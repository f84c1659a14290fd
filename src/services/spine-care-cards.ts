/**
 * The care-gap cards both services show for a patient with spine disease: the denosumab gap
 * (critical; it replaces the treatment gap, since its suggestions resume cover), the treatment gap,
 * and the missing DXA. Nothing is suggested that is already ordered.
 */
import type { CardContext } from '../cards/card-frame.ts';
import { denosumabGapCard, missingDxaCard, treatmentGapCard } from '../cards/care-gap-cards.ts';
import type { Card } from '../cds-hooks/schemas.ts';
import type { PatientFacts } from '../clinical/patient-facts.ts';

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
