/**
 * Suggestions as draft FHIR orders the clinician can accept in one click. Codes: RxNorm ingredients
 * and CPT/LOINC as listed in CLINICAL.md or checked in src/clinical/terminology/README.md; the order
 * text is the card wording's.
 */
import type { MedicationRequest, ServiceRequest } from 'fhir/r4';
import type { Suggestion } from '../cds-hooks/schemas.ts';
import { SYSTEMS } from '../clinical/terminology/code-systems.ts';
import type { CardContext } from './card-frame.ts';
import { timeOrderedUuid } from './card-uuid.ts';
import { fill, word } from './wording.ts';

export type SuggestedDrug = 'alendronate' | 'risedronate' | 'zoledronic-acid' | 'denosumab';

/** RxNorm ingredient codes (CLINICAL.md). */
const rxnormIngredient: Record<SuggestedDrug, string> = {
  alendronate: '46041',
  risedronate: '73056',
  'zoledronic-acid': '77655',
  denosumab: '993449',
};

function references(context: CardContext) {
  return {
    subject: { reference: `Patient/${context.patientId}` },
    requester: { reference: context.userId },
    ...(context.encounterId ? { encounter: { reference: `Encounter/${context.encounterId}` } } : {}),
  };
}

type Order = MedicationRequest | ServiceRequest;

function suggestion(
  label: string,
  orders: Array<{ description: string; resource: Order }>,
  recommended: boolean,
): Suggestion {
  return {
    label,
    uuid: timeOrderedUuid(),
    isRecommended: recommended,
    actions: orders.map(({ description, resource }) => ({
      type: 'create' as const,
      description,
      resource: resource as unknown as { resourceType: string },
    })),
  };
}

export function drugSuggestion(drug: SuggestedDrug, context: CardContext, recommended = false): Suggestion {
  const { wording } = context;
  const text = word(wording.orderText, drug);
  const resource: MedicationRequest = {
    resourceType: 'MedicationRequest',
    status: 'draft',
    intent: 'order',
    medicationCodeableConcept: {
      coding: [{ system: SYSTEMS.rxnorm, code: rxnormIngredient[drug], display: drug.replace('-', ' ') }],
      text,
    },
    ...references(context),
    dosageInstruction: [{ text: word(wording.orderText, `${drug}Dose`) }],
  };
  return suggestion(
    word(wording.suggestions, drug),
    [{ description: fill(wording.actions.create, { order: text }), resource }],
    recommended,
  );
}

type ServiceOrder = 'dxa' | 'phq9' | 'esr' | 'crp' | 'procalcitonin';

/**
 * CPT 77080 and LOINC 44249-1 (CLINICAL.md); LOINC 4537-7 ESR (Westergren), 1988-5 CRP and 33959-8
 * procalcitonin (Synthea and public LOINC extracts, see the terminology README).
 */
const serviceCodes: Record<ServiceOrder, { system: string; code: string; display: string }> = {
  dxa: { system: SYSTEMS.cpt, code: '77080', display: 'DXA bone density study, axial skeleton' },
  phq9: { system: SYSTEMS.loinc, code: '44249-1', display: 'PHQ-9 quick depression assessment panel' },
  esr: {
    system: SYSTEMS.loinc,
    code: '4537-7',
    display: 'Erythrocyte sedimentation rate by Westergren method',
  },
  crp: {
    system: SYSTEMS.loinc,
    code: '1988-5',
    display: 'C reactive protein [Mass/volume] in Serum or Plasma',
  },
  procalcitonin: {
    system: SYSTEMS.loinc,
    code: '33959-8',
    display: 'Procalcitonin [Mass/volume] in Serum or Plasma',
  },
};

function serviceRequest(
  coding: { system: string; code: string; display: string },
  text: string,
  context: CardContext,
): ServiceRequest {
  return {
    resourceType: 'ServiceRequest',
    status: 'draft',
    intent: 'order',
    code: { coding: [coding], text },
    ...references(context),
  };
}

function serviceOrder(order: ServiceOrder, context: CardContext) {
  const text = word(context.wording.orderText, order);
  return {
    description: fill(context.wording.actions.create, { order: text }),
    resource: serviceRequest(serviceCodes[order], text, context),
  };
}

export function serviceSuggestion(order: 'dxa' | 'phq9', context: CardContext): Suggestion {
  return suggestion(word(context.wording.suggestions, order), [serviceOrder(order, context)], true);
}

/** Infection work-up before augmenting a cemented vertebra again: ESR, CRP and procalcitonin together. */
export function infectionWorkUpSuggestion(context: CardContext): Suggestion {
  return suggestion(
    word(context.wording.suggestions, 'infectionWorkUp'),
    (['esr', 'crp', 'procalcitonin'] as const).map((order) => serviceOrder(order, context)),
    true,
  );
}

/** CPT 72128 (CT thoracic spine without contrast) and 72131 (CT lumbar spine without contrast). */
const spineCtCpt = { thoracic: '72128', lumbar: '72131' } as const;

export function spineCtSuggestion(region: 'thoracic' | 'lumbar', context: CardContext): Suggestion {
  const { wording } = context;
  const values = { region: wording.regions[region] };
  const text = fill(word(wording.orderText, 'spineCt'), values);
  const coding = {
    system: SYSTEMS.cpt,
    code: spineCtCpt[region],
    display: `CT ${region} spine without contrast`,
  };
  return suggestion(
    fill(word(wording.suggestions, 'spineCt'), values),
    [
      {
        description: fill(wording.actions.create, { order: text }),
        resource: serviceRequest(coding, text, context),
      },
    ],
    true,
  );
}
