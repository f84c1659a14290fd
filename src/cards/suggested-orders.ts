/**
 * Suggestions as draft FHIR orders the clinician can accept in one click. Codes: RxNorm ingredients
 * and CPT/LOINC as listed in CLINICAL.md (terminology module); the dose text is the card wording's.
 */
import { randomUUID } from 'node:crypto';
import type { MedicationRequest, ServiceRequest } from 'fhir/r4';
import type { Suggestion } from '../cds-hooks/schemas.ts';
import { SYSTEMS } from '../fhir/terminology.ts';
import type { CardContext } from './card-frame.ts';
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

function suggestion(
  label: string,
  description: string,
  resource: MedicationRequest | ServiceRequest,
  recommended: boolean,
): Suggestion {
  return {
    label,
    uuid: randomUUID(),
    isRecommended: recommended,
    actions: [{ type: 'create', description, resource: resource as unknown as { resourceType: string } }],
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
    fill(wording.actions.create, { order: text }),
    resource,
    recommended,
  );
}

type ServiceOrder = 'dxa' | 'phq9';

const serviceCodes: Record<ServiceOrder, { system: string; code: string; display: string }> = {
  dxa: { system: SYSTEMS.cpt, code: '77080', display: 'DXA bone density study, axial skeleton' },
  phq9: { system: SYSTEMS.loinc, code: '44249-1', display: 'PHQ-9 quick depression assessment panel' },
};

export function serviceSuggestion(order: ServiceOrder, context: CardContext): Suggestion {
  const { wording } = context;
  const text = word(wording.orderText, order);
  const resource: ServiceRequest = {
    resourceType: 'ServiceRequest',
    status: 'draft',
    intent: 'order',
    code: { coding: [serviceCodes[order]], text },
    ...references(context),
  };
  return suggestion(
    word(wording.suggestions, order),
    fill(wording.actions.create, { order: text }),
    resource,
    true,
  );
}
