/**
 * The prefetch both services ask for, and how its keys become a PatientRecord for the facts layer.
 * Observations are searched by LOINC code list, newest first; the rest by patient.
 */
import type {
  Condition,
  Medication,
  MedicationAdministration,
  MedicationDispense,
  MedicationRequest,
  MedicationStatement,
  Observation,
  Patient,
  Procedure,
  Resource,
  ServiceRequest,
} from 'fhir/r4';
import type { CardContext } from '../cards/card-frame.ts';
import type { Wordings } from '../cards/wording.ts';
import type { BaseContext, HookInput } from '../cds-hooks/service.ts';
import type { PatientRecord } from '../clinical/patient-facts.ts';
import { SYSTEMS } from '../clinical/terminology/code-systems.ts';
import { DXA_PANEL_CODES, DXA_TSCORE_SITES, LOINC } from '../clinical/terminology/observation-codes.ts';

/**
 * DXA T-scores and the DXA panels that report them as components, BMI, weight, height, PHQ-9 total and
 * panel, tobacco smoking status (terminology module).
 */
const observationCodes = [...Object.keys(DXA_TSCORE_SITES), ...DXA_PANEL_CODES, ...Object.values(LOINC)]
  .map((code) => `${SYSTEMS.loinc}|${code}`)
  .join(',');

const patient = '{{context.patientId}}';

export const prefetchTemplates = {
  patient: `Patient/${patient}`,
  observations: `Observation?patient=${patient}&code=${observationCodes}&_sort=-date&_count=200`,
  imagingFindings: `Observation?patient=${patient}&category=imaging&_count=100`,
  conditions: `Condition?patient=${patient}&_count=200`,
  procedures: `Procedure?patient=${patient}&_count=100`,
  medicationRequests: `MedicationRequest?patient=${patient}&_count=200`,
  medicationStatements: `MedicationStatement?patient=${patient}&_count=200`,
  medicationAdministrations: `MedicationAdministration?patient=${patient}&_count=200`,
  medicationDispenses: `MedicationDispense?patient=${patient}&_count=200`,
  serviceRequests: `ServiceRequest?patient=${patient}&status=active&_count=100`,
};

/** What both services read, as discovery tells an EHR's administrators. */
export const usageRequirements =
  'Reads Patient, Observation, Condition, Procedure, MedicationRequest, MedicationStatement, MedicationAdministration, MedicationDispense and ServiceRequest of the patient.';

type PrefetchKey = keyof typeof prefetchTemplates;

const medication = (type: string) => [type, 'Medication'] as const;

/** What each key's search returns; a Medication may come with a medication search (`_include`). */
export const prefetchResourceTypes: Record<PrefetchKey, readonly string[]> = {
  patient: ['Patient'],
  observations: ['Observation'],
  imagingFindings: ['Observation'],
  conditions: ['Condition'],
  procedures: ['Procedure'],
  medicationRequests: medication('MedicationRequest'),
  medicationStatements: medication('MedicationStatement'),
  medicationAdministrations: medication('MedicationAdministration'),
  medicationDispenses: medication('MedicationDispense'),
  serviceRequests: ['ServiceRequest'],
};

/**
 * Without these the scores would be guesses: 412. The others (imaging findings, statements,
 * administrations, dispenses, open orders) are read when the server has them, and a card lists any that
 * could not be read.
 */
export const requiredPrefetch: readonly PrefetchKey[] = [
  'patient',
  'observations',
  'conditions',
  'procedures',
  'medicationRequests',
];

function ofType<T extends Resource>(resources: Resource[] | undefined, type: T['resourceType']): T[] {
  return (resources ?? []).filter((r): r is T => r.resourceType === type);
}

/**
 * One copy of each Observation that two prefetch keys both returned (an imaging-category DXA result):
 * all are Observations, so the id alone tells two apart.
 */
function once(observations: Observation[]): Observation[] {
  const seen = new Set<string>();
  const out: Observation[] = [];
  for (const observation of observations) {
    const id = observation.id;
    if (typeof id === 'string') {
      if (seen.has(id)) continue;
      seen.add(id);
    }
    out.push(observation);
  }
  return out;
}

export function patientRecord(data: Record<string, Resource[]>, draftOrders: Resource[] = []): PatientRecord {
  const medicationEntries = [
    ...(data.medicationRequests ?? []),
    ...(data.medicationStatements ?? []),
    ...(data.medicationAdministrations ?? []),
    ...(data.medicationDispenses ?? []),
  ];
  return {
    patient: ofType<Patient>(data.patient, 'Patient')[0],
    observations: once([
      ...ofType<Observation>(data.observations, 'Observation'),
      ...ofType<Observation>(data.imagingFindings, 'Observation'),
    ]),
    conditions: ofType<Condition>(data.conditions, 'Condition'),
    procedures: ofType<Procedure>(data.procedures, 'Procedure'),
    medications: [
      ...ofType<MedicationRequest>(medicationEntries, 'MedicationRequest'),
      ...ofType<MedicationStatement>(medicationEntries, 'MedicationStatement'),
      ...ofType<MedicationAdministration>(medicationEntries, 'MedicationAdministration'),
      ...ofType<MedicationDispense>(medicationEntries, 'MedicationDispense'),
    ],
    medicationResources: ofType<Medication>(medicationEntries, 'Medication'),
    serviceRequests: ofType<ServiceRequest>(data.serviceRequests, 'ServiceRequest'),
    draftOrders,
  };
}

export function cardContext(input: HookInput<BaseContext>, wordings: Wordings): CardContext {
  return {
    wording: wordings[input.locale],
    patientId: input.context.patientId,
    userId: input.context.userId,
    ...(input.context.encounterId ? { encounterId: input.context.encounterId } : {}),
    modelUrl: (modelId) => `${input.baseUrl}/models${modelId ? `/${modelId}` : ''}`,
    explainUrl: (cardUuid) => `${input.baseUrl}/explain/${cardUuid}`,
    unreadable: input.unavailable,
    foreignRecords: input.foreignRecords,
    misfiledRecords: input.misfiledRecords,
  };
}
