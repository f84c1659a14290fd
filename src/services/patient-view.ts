/**
 * pvp-risk-patient-view: when the chart of a patient with an osteoporotic vertebral fracture or a
 * prior PVP/PKP opens, the re-fracture risk and the gaps in care. Nothing for anyone else.
 */

import { renderRiskCard } from '../cards/risk-card.ts';
import type { Wordings } from '../cards/wording.ts';
import { type PatientViewContext, patientViewContextSchema } from '../cds-hooks/schemas.ts';
import { type BaseContext, type CdsService, defineService } from '../cds-hooks/service.ts';
import { extractFacts } from '../clinical/facts.ts';
import { assess } from '../clinical/model.ts';
import type { Models } from '../clinical/model-files.ts';
import {
  cardContext,
  patientRecord,
  prefetchTemplates,
  requiredPrefetch,
  usageRequirements,
} from './patient-data.ts';
import { byUrgency, spineCareCards } from './spine-care-cards.ts';

export function patientViewService(models: Models, wordings: Wordings): CdsService<BaseContext> {
  return defineService<PatientViewContext>({
    definition: {
      hook: 'patient-view',
      id: 'pvp-risk-patient-view',
      title: 'Vertebral fracture: re-fracture risk and osteoporosis care gaps',
      description:
        'For a patient with an osteoporotic vertebral compression fracture or a prior vertebroplasty/kyphoplasty: the relative risk of a new or repeat vertebral fracture (model refracture-v1, cited), untreated osteoporosis, a missing DXA scan, and an overdue denosumab dose.',
      prefetch: prefetchTemplates,
      usageRequirements,
    },
    requiredPrefetch,
    contextSchema: patientViewContextSchema,
    handle(input) {
      const facts = extractFacts(patientRecord(input.data), input.now);
      if (!facts.hasSpineDisease) return [];
      const context = cardContext(input, wordings);
      const model = models['refracture-risk'];
      const refracture = renderRiskCard(
        { model, assessment: assess(model, facts), suggestions: [], provenance: facts },
        context,
      );
      return byUrgency([refracture, ...spineCareCards(facts, context)]);
    },
  });
}
