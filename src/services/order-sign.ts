/**
 * pvp-risk-order-sign: when a vertebroplasty/kyphoplasty is being ordered, the residual back pain risk
 * with pre-procedure advice, the re-fracture risk and the gaps in care; when a spine MRI or CT is being
 * ordered for a patient with spine disease (the work-up before augmentation), the residual back pain risk
 * with the imaging advice first; augmentation again at a cemented vertebra; and when a systemic
 * glucocorticoid course is being ordered for a patient with spine disease, a warning. Nothing for other orders.
 */
import type { Resource } from 'fhir/r4';
import type { CardContext } from '../cards/card-frame.ts';
import { glucocorticoidOrderCard } from '../cards/care-gap-cards.ts';
import { repeatAugmentationCard } from '../cards/repeat-augmentation-card.ts';
import { residualPainAdvice } from '../cards/risk-advice.ts';
import { renderRiskCard } from '../cards/risk-card.ts';
import { serviceSuggestion } from '../cards/suggested-orders.ts';
import type { Wordings } from '../cards/wording.ts';
import { type Card, type OrderSignContext, orderSignContextSchema } from '../cds-hooks/schemas.ts';
import { type BaseContext, type CdsService, defineService, type HookInput } from '../cds-hooks/service.ts';
import { extractFacts } from '../clinical/facts.ts';
import { assess, tierPosition } from '../clinical/model.ts';
import type { Models } from '../clinical/model-files.ts';
import type { PatientFacts } from '../clinical/patient-facts.ts';
import {
  cardContext,
  patientRecord,
  prefetchResourceTypes,
  prefetchTemplates,
  requiredPrefetch,
  usageRequirements,
} from './patient-data.ts';
import { byUrgency, refractureCard, spineCareCards } from './spine-care-cards.ts';

/** PHQ-9 before the procedure: depression coded, or no PHQ-9 in 12 months, and none ordered yet. */
function needsPhq9(facts: PatientFacts): boolean {
  return (facts.features.depression === true || facts.phq9 === undefined) && !facts.phq9Ordered;
}

/** The residual back pain card before a PVP/PKP, or before the spine MRI or CT that precedes one. */
function residualPainCard(models: Models, facts: PatientFacts, context: CardContext): Card {
  const model = models['residual-pain-risk'];
  const assessment = assess(model, facts);
  const position = tierPosition(model, assessment);
  const imaging = facts.draft.augmentation ? undefined : facts.draft.spineImaging;
  const texts = context.wording.cards['residual-pain-risk'];
  return renderRiskCard(
    {
      model,
      assessment,
      suggestions: position !== 'lowest' && needsPhq9(facts) ? [serviceSuggestion('phq9', context)] : [],
      provenance: facts,
      advice: residualPainAdvice(model, assessment, facts, context.wording),
      ...(imaging
        ? {
            lead: texts.imagingAdvice[imaging.modality],
            summaryTemplate: texts.imagingSummary,
            indicator: position === 'highest' ? ('warning' as const) : ('info' as const),
          }
        : {}),
    },
    context,
  );
}

/**
 * The cards for draft orders being signed or selected: what order-sign says and order-select says
 * before signing. Pure given its input; nothing for orders that are not ours.
 */
export function orderCards(
  models: Models,
  wordings: Wordings,
  input: HookInput<BaseContext>,
  drafts: Resource[],
): Card[] {
  const facts = extractFacts(patientRecord(input.data, drafts), input.now, input.timeZone);
  const context = cardContext(input, wordings);
  const refractureModel = models['refracture-risk'];
  const refracture = assess(refractureModel, facts);
  const augmenting = facts.draft.augmentation !== undefined;
  const imaging = !augmenting && facts.draft.spineImaging !== undefined && facts.hasSpineDisease;
  const cards: Card[] = [];
  if (augmenting || imaging) cards.push(residualPainCard(models, facts, context));
  if (augmenting) cards.push(refractureCard(refractureModel, refracture, facts, context));
  if ((augmenting || imaging) && facts.repeatAugmentation) {
    cards.push(repeatAugmentationCard(facts.repeatAugmentation, context));
  }
  if (augmenting || imaging) cards.push(...spineCareCards(facts, context));
  const warning = facts.draft.glucocorticoids.some((draft) => draft.warns);
  if (warning && (facts.hasSpineDisease || augmenting)) {
    const scored = facts.hasPriorAugmentation || augmenting ? refracture : undefined;
    cards.push(glucocorticoidOrderCard(facts, scored, context));
  }
  return byUrgency(cards);
}

/** The resources of a draftOrders Bundle. */
export function draftResources(draftOrders: OrderSignContext['draftOrders']): Resource[] {
  return draftOrders.entry.flatMap((e) => (e.resource ? [e.resource as Resource] : []));
}

export function orderSignService(models: Models, wordings: Wordings): CdsService<BaseContext> {
  return defineService<OrderSignContext>({
    definition: {
      hook: 'order-sign',
      id: 'pvp-risk-order-sign',
      title:
        'Vertebroplasty/kyphoplasty, spine imaging or glucocorticoid order: residual back pain and re-fracture risk',
      description:
        'When a vertebroplasty or kyphoplasty is being signed: the relative risk of residual back pain (model rbp-v1) with pre-procedure advice, of a new or repeat vertebral fracture (model refracture-v1), and the gaps in osteoporosis care. When a spine MRI or CT is being signed for a patient with a vertebral fracture: the residual back pain risk with what to ask of the imaging. Augmentation again at a cemented vertebra: a work-up warning. A systemic glucocorticoid course for a patient with a vertebral fracture or prior PVP/PKP: a warning and a check of bone protection.',
      prefetch: prefetchTemplates,
      usageRequirements,
    },
    requiredPrefetch,
    prefetchResourceTypes,
    contextSchema: orderSignContextSchema,
    handle: (input) => orderCards(models, wordings, input, draftResources(input.context.draftOrders)),
  });
}
