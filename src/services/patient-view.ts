/**
 * pvp-risk-patient-view: when the chart of a patient with an osteoporotic vertebral fracture or a
 * prior PVP/PKP opens, the gaps in care, and after augmentation the re-fracture risk (its evidence comes
 * from augmented cohorts) and a new fracture at a cemented vertebra. Nothing for anyone else.
 */
import { repeatAugmentationCard } from '../cards/repeat-augmentation-card.ts';
import type { Wordings } from '../cards/wording.ts';
import type { Card } from '../cds-hooks/schemas.ts';
import { type PatientViewContext, patientViewContextSchema } from '../cds-hooks/schemas.ts';
import { type BaseContext, type CdsService, defineService } from '../cds-hooks/service.ts';
import { extractFacts } from '../clinical/facts.ts';
import { assess } from '../clinical/model.ts';
import type { Models } from '../clinical/model-files.ts';
import {
  cardContext,
  patientRecord,
  prefetchResourceTypes,
  prefetchTemplates,
  requiredPrefetch,
  usageRequirements,
} from './patient-data.ts';
import { byUrgency, refractureCard, spineCareCards } from './spine-care-cards.ts';

export function patientViewService(models: Models, wordings: Wordings): CdsService<BaseContext> {
  return defineService<PatientViewContext>({
    definition: {
      hook: 'patient-view',
      id: 'pvp-risk-patient-view',
      title: 'Vertebral fracture: osteoporosis care gaps and re-fracture risk after augmentation',
      description:
        'For a patient with an osteoporotic vertebral compression fracture or a prior vertebroplasty/kyphoplasty: untreated osteoporosis, a missing DXA scan, an overdue denosumab dose; after augmentation, the relative risk of a new or repeat vertebral fracture (model refracture-v1, cited) and a new fracture at a cemented vertebra.',
      prefetch: prefetchTemplates,
      usageRequirements,
    },
    requiredPrefetch,
    prefetchResourceTypes,
    contextSchema: patientViewContextSchema,
    handle(input) {
      const facts = extractFacts(patientRecord(input.data), input.now, input.timeZone);
      if (!facts.hasSpineDisease) return [];
      const context = cardContext(input, wordings);
      const cards: Card[] = [];
      if (facts.hasPriorAugmentation) {
        const model = models['refracture-risk'];
        const assessment = assess(model, facts);
        cards.push(refractureCard(model, assessment, facts, context));
      }
      if (facts.repeatAugmentation) cards.push(repeatAugmentationCard(facts.repeatAugmentation, context));
      return byUrgency([...cards, ...spineCareCards(facts, context)]);
    },
  });
}
