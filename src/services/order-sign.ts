/**
 * pvp-risk-order-sign: when a vertebroplasty/kyphoplasty is being ordered, the residual back pain
 * risk with pre-procedure advice and the re-fracture risk; when a systemic glucocorticoid is being
 * ordered for a patient with spine disease, a warning. Nothing for other orders.
 */

import type { Resource } from 'fhir/r4';
import { glucocorticoidOrderCard } from '../cards/care-gap-cards.ts';
import { renderRiskCard } from '../cards/risk-card.ts';
import { serviceSuggestion } from '../cards/suggested-orders.ts';
import type { Wordings } from '../cards/wording.ts';
import { type Card, type OrderSignContext, orderSignContextSchema } from '../cds-hooks/schemas.ts';
import { type BaseContext, type CdsService, defineService } from '../cds-hooks/service.ts';
import { extractFacts } from '../clinical/facts.ts';
import { assess } from '../clinical/model.ts';
import type { Models } from '../clinical/model-files.ts';
import type { PatientFacts } from '../clinical/patient-facts.ts';
import {
  cardContext,
  patientRecord,
  prefetchTemplates,
  requiredPrefetch,
  usageRequirements,
} from './patient-data.ts';
import { byUrgency, spineCareCards } from './spine-care-cards.ts';

/** PHQ-9 before the procedure: depression coded, or no PHQ-9 in 12 months, and none ordered yet. */
function needsPhq9(facts: PatientFacts): boolean {
  return (facts.features.depression === true || facts.phq9 === undefined) && !facts.phq9Ordered;
}

export function orderSignService(models: Models, wordings: Wordings): CdsService<BaseContext> {
  return defineService<OrderSignContext>({
    definition: {
      hook: 'order-sign',
      id: 'pvp-risk-order-sign',
      title: 'Vertebroplasty/kyphoplasty order: residual back pain and re-fracture risk',
      description:
        'When a vertebroplasty or kyphoplasty is being signed: the relative risk of residual back pain (model rbp-v1) with pre-procedure advice, and of a new or repeat vertebral fracture (model refracture-v1). When a systemic glucocorticoid is being signed for a patient with a vertebral fracture or prior PVP/PKP: a warning and a check of bone protection.',
      prefetch: prefetchTemplates,
      usageRequirements,
    },
    requiredPrefetch,
    contextSchema: orderSignContextSchema,
    handle(input) {
      const drafts = input.context.draftOrders.entry.flatMap((e) =>
        e.resource ? [e.resource as Resource] : [],
      );
      const facts = extractFacts(patientRecord(input.data, drafts), input.now);
      const context = cardContext(input, wordings);
      const refractureModel = models['refracture-risk'];
      const refracture = assess(refractureModel, facts);
      const cards: Card[] = [];
      if (facts.draft.augmentation) {
        const rbpModel = models['residual-pain-risk'];
        const rbp = assess(rbpModel, facts);
        const suggestions =
          rbp.tier !== 'low' && needsPhq9(facts) ? [serviceSuggestion('phq9', context)] : [];
        cards.push(
          renderRiskCard({ model: rbpModel, assessment: rbp, suggestions, provenance: facts }, context),
          renderRiskCard(
            { model: refractureModel, assessment: refracture, suggestions: [], provenance: facts },
            context,
          ),
          ...spineCareCards(facts, context),
        );
      }
      if (facts.draft.glucocorticoids.length > 0 && (facts.hasSpineDisease || facts.draft.augmentation)) {
        cards.push(glucocorticoidOrderCard(facts, refracture, context));
      }
      return byUrgency(cards);
    },
  });
}
