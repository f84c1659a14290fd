/**
 * A realistic heavy patient for the benchmarks: the `high-rbp-risk` fixture (depression, T −3.7,
 * diabetes, fractures at T12 and L1, metformin) plus ten years of an ordinary chart: 200 Observations
 * (weights, heights, BMIs, PHQ-9 totals, smoking status and repeated DXA T-scores), 40 Conditions,
 * 30 MedicationRequests and 10 Procedures, none of them another patient's. Deterministic: the same
 * resources every run. `heavyPatient()` gives the transaction that loads a FHIR server and the full
 * prefetch an EHR would send (about 110 KiB of JSON).
 */
import type {
  Bundle,
  BundleEntry,
  Condition,
  FhirResource,
  MedicationRequest,
  Observation,
  Procedure,
} from 'fhir/r4';
import { readFixture } from '../tests/support/fhir-server.ts';

export const heavyPatientId = 'pvp-high-rbp-risk';
const subject = { reference: `Patient/${heavyPatientId}` };

/** A date `monthsBack` months before 2026-11-01, as YYYY-MM-DD. */
function monthsAgo(monthsBack: number, day = 12): string {
  const date = new Date(Date.UTC(2026, 10 - monthsBack, day));
  return date.toISOString().slice(0, 10);
}

const loinc = (code: string, display: string) => ({
  coding: [{ system: 'http://loinc.org', code, display }],
});

function observations(): Observation[] {
  const out: Observation[] = [];
  const quantity = (value: number, unit: string, code: string) => ({
    value,
    unit,
    system: 'http://unitsofmeasure.org',
    code,
  });
  for (let i = 0; i < 50; i++) {
    const effectiveDateTime = monthsAgo(i * 2 + 1);
    const weight = 52 + (i % 7) * 0.4;
    out.push(
      {
        resourceType: 'Observation',
        id: `heavy-weight-${i}`,
        status: 'final',
        code: loinc('29463-7', 'Body weight'),
        subject,
        effectiveDateTime,
        valueQuantity: quantity(weight, 'kg', 'kg'),
      },
      {
        resourceType: 'Observation',
        id: `heavy-height-${i}`,
        status: 'final',
        code: loinc('8302-2', 'Body height'),
        subject,
        effectiveDateTime,
        valueQuantity: quantity(156 - i * 0.02, 'cm', 'cm'),
      },
      {
        resourceType: 'Observation',
        id: `heavy-bmi-${i}`,
        status: 'final',
        code: loinc('39156-5', 'Body mass index (BMI) [Ratio]'),
        subject,
        effectiveDateTime,
        valueQuantity: quantity(Math.round((weight / 1.56 ** 2) * 10) / 10, 'kg/m2', 'kg/m2'),
      },
    );
  }
  for (let i = 0; i < 30; i++) {
    out.push({
      resourceType: 'Observation',
      id: `heavy-phq9-${i}`,
      status: 'final',
      code: loinc('44261-6', 'Patient Health Questionnaire 9 item (PHQ-9) total score [Reported]'),
      subject,
      effectiveDateTime: monthsAgo(i * 4 + 2),
      valueInteger: 8 + (i % 9),
    });
  }
  for (let i = 0; i < 10; i++) {
    out.push({
      resourceType: 'Observation',
      id: `heavy-smoking-${i}`,
      status: 'final',
      code: loinc('72166-2', 'Tobacco smoking status'),
      subject,
      effectiveDateTime: monthsAgo(i * 12 + 3),
      valueCodeableConcept: {
        coding: [{ system: 'http://snomed.info/sct', code: '8517006', display: 'Ex-smoker' }],
      },
    });
  }
  const sites = [
    ['38267-1', 'DXA Lumbar spine [T-score] Bone density'],
    ['38265-5', 'DXA Femur [T-score] Bone density'],
  ] as const;
  while (out.length < 197) {
    const i = out.length;
    const [code, display] = sites[i % 2] as (typeof sites)[number];
    out.push({
      resourceType: 'Observation',
      id: `heavy-dxa-${i}`,
      status: 'final',
      code: loinc(code, display),
      subject,
      effectiveDateTime: monthsAgo(24 + (i % 90)),
      valueQuantity: quantity(-2.6 - (i % 10) * 0.1, '{T-score}', '{T-score}'),
    });
  }
  return out;
}

const chronic = [
  ['38341003', 'Hypertensive disorder'],
  ['55822004', 'Hyperlipidemia'],
  ['396275006', 'Osteoarthritis'],
  ['13644009', 'Hypercholesterolemia'],
  ['40930008', 'Hypothyroidism'],
  ['235595009', 'Gastroesophageal reflux disease'],
  ['49436004', 'Atrial fibrillation'],
  ['195967001', 'Asthma'],
  ['193570009', 'Cataract'],
  ['271737000', 'Anemia'],
] as const;

function conditions(): Condition[] {
  return Array.from({ length: 36 }, (_, i) => {
    const [code, display] = chronic[i % chronic.length] as (typeof chronic)[number];
    return {
      resourceType: 'Condition',
      id: `heavy-condition-${i}`,
      clinicalStatus: {
        coding: [
          {
            system: 'http://terminology.hl7.org/CodeSystem/condition-clinical',
            code: i % 3 === 0 ? 'resolved' : 'active',
          },
        ],
      },
      category: [
        {
          coding: [
            {
              system: 'http://terminology.hl7.org/CodeSystem/condition-category',
              code: 'encounter-diagnosis',
            },
          ],
        },
      ],
      code: { coding: [{ system: 'http://snomed.info/sct', code, display }], text: display },
      subject,
      onsetDateTime: monthsAgo(6 + i * 3),
    };
  });
}

const drugs = [
  ['197361', 'Amlodipine 5 MG Oral Tablet'],
  ['617312', 'Atorvastatin 20 MG Oral Tablet'],
  ['966247', 'Levothyroxine Sodium 0.05 MG Oral Tablet'],
  ['198211', 'Simvastatin 40 MG Oral Tablet'],
  ['313782', 'Acetaminophen 325 MG Oral Tablet'],
  ['855332', 'Warfarin Sodium 5 MG Oral Tablet'],
] as const;

function medicationRequests(): MedicationRequest[] {
  return Array.from({ length: 29 }, (_, i) => {
    const [code, display] = drugs[i % drugs.length] as (typeof drugs)[number];
    return {
      resourceType: 'MedicationRequest',
      id: `heavy-medication-${i}`,
      status: i < 6 ? 'active' : 'completed',
      intent: 'order',
      medicationCodeableConcept: {
        coding: [{ system: 'http://www.nlm.nih.gov/research/umls/rxnorm', code, display }],
        text: display,
      },
      subject,
      authoredOn: monthsAgo(i * 4),
      dosageInstruction: [
        {
          text: '1 tablet by mouth once daily',
          timing: { repeat: { frequency: 1, period: 1, periodUnit: 'd' } },
        },
      ],
    };
  });
}

const operations = [
  ['80146002', 'Appendectomy'],
  ['73761001', 'Colonoscopy'],
  ['54885007', 'Cataract extraction'],
  ['232717009', 'Coronary artery bypass graft'],
  ['38102005', 'Cholecystectomy'],
] as const;

function procedures(): Procedure[] {
  return Array.from({ length: 10 }, (_, i) => {
    const [code, display] = operations[i % operations.length] as (typeof operations)[number];
    return {
      resourceType: 'Procedure',
      id: `heavy-procedure-${i}`,
      status: 'completed',
      code: { coding: [{ system: 'http://snomed.info/sct', code, display }], text: display },
      subject,
      performedDateTime: monthsAgo(12 + i * 11),
    };
  });
}

const searchset = (resources: FhirResource[]): Bundle => ({
  resourceType: 'Bundle',
  type: 'searchset',
  total: resources.length,
  entry: resources.map((resource) => ({ resource })),
});

export interface HeavyPatient {
  patientId: string;
  /** A transaction that stores the patient on a FHIR server (PUTs, ids kept). */
  transaction: Bundle;
  /** The prefetch an EHR would send for patient-view and order-sign. */
  prefetch: Record<string, FhirResource>;
}

export async function heavyPatient(): Promise<HeavyPatient> {
  const fixture = await readFixture('high-rbp-risk');
  const own = (fixture.entry ?? []).map((e) => e.resource as FhirResource);
  const ofType = <T extends FhirResource>(type: T['resourceType']) =>
    own.filter((r): r is T => r.resourceType === type);
  const all = {
    observations: [...ofType<Observation>('Observation'), ...observations()],
    conditions: [...ofType<Condition>('Condition'), ...conditions()],
    medicationRequests: [...ofType<MedicationRequest>('MedicationRequest'), ...medicationRequests()],
    procedures: [...ofType<Procedure>('Procedure'), ...procedures()],
  };
  const patient = own.find((r) => r.resourceType === 'Patient') as FhirResource;
  const resources: FhirResource[] = [patient, ...Object.values(all).flat()];
  const entry: BundleEntry[] = resources.map((resource) => ({
    resource,
    request: { method: 'PUT', url: `${resource.resourceType}/${resource.id}` },
  }));
  return {
    patientId: heavyPatientId,
    transaction: { resourceType: 'Bundle', type: 'transaction', entry },
    prefetch: {
      patient,
      observations: searchset(all.observations),
      imagingFindings: searchset([]),
      conditions: searchset(all.conditions),
      procedures: searchset(all.procedures),
      medicationRequests: searchset(all.medicationRequests),
      medicationStatements: searchset([]),
      medicationAdministrations: searchset([]),
      medicationDispenses: searchset([]),
      serviceRequests: searchset([]),
    },
  };
}
