/**
 * Medication facts: which fracture-preventing drugs cover the patient now, which drugs that do not
 * prevent fractures are in use, systemic glucocorticoid exposure, the denosumab gap, and the drugs of
 * the orders being signed. Evidence is read in medication-evidence.ts; the rules are applied in
 * treatment-coverage.ts and glucocorticoid-exposure.ts.
 */
import type { ClinicalDay } from './clinical-dates.ts';
import { type RecognisedDrugs, recogniseDrugs } from './drug-recognition.ts';
import { eachResource, ignore, type JsonObject, type Ledger, recordTextMatch, text } from './fhir-reading.ts';
import { draftGlucocorticoid, glucocorticoidExposure } from './glucocorticoid-exposure.ts';
import { type Drug, type DrugEvidence, entryStatus, evidenceOf, orderCourse } from './medication-evidence.ts';
import type { AntiOsteoporosisDrug, PatientFacts, PatientRecord } from './patient-facts.ts';
import { ANTI_OSTEOPOROSIS_DRUGS } from './terminology/medication-codes.ts';
import { denosumabGap, nonPreventingInUse, treatmentCoverage } from './treatment-coverage.ts';

const MEDICATION_TYPES = [
  'MedicationRequest',
  'MedicationStatement',
  'MedicationAdministration',
  'MedicationDispense',
];

function recordDrugTextMatches(ledger: Ledger, resourceType: string, recognised: RecognisedDrugs): void {
  if (!recognised.byText) return;
  for (const drug of [
    ...recognised.antiOsteoporosis,
    ...recognised.nonPreventing,
    ...recognised.glucocorticoids,
  ]) {
    recordTextMatch(ledger, resourceType, { kind: 'drug', drug });
  }
}

function drugsOf(recognised: RecognisedDrugs): Drug[] {
  return [...recognised.antiOsteoporosis, ...recognised.nonPreventing, ...recognised.glucocorticoids];
}

type MedicationFacts = Pick<
  PatientFacts,
  'antiOsteoporosis' | 'nonPreventing' | 'glucocorticoids' | 'denosumabGap'
> & {
  draft: Pick<PatientFacts['draft'], 'glucocorticoids' | 'antiOsteoporosis'>;
};

/** Evidence from the record's medication entries; entries that do not count are recorded in the ledger. */
function recordEvidence(
  record: Pick<Partial<Record<keyof PatientRecord, unknown>>, 'medications' | 'medicationResources'>,
  day: ClinicalDay,
  ledger: Ledger,
): DrugEvidence[] {
  const evidence: DrugEvidence[] = [];
  eachResource(record.medications, MEDICATION_TYPES, ledger, (resource, resourceType) => {
    const recognised = recogniseDrugs(resource, record.medicationResources);
    if (recognised.nonSystemicGlucocorticoid)
      ignore(ledger, resourceType, 'not-systemic', { topic: 'glucocorticoid' });
    const drugs = drugsOf(recognised);
    if (drugs.length === 0) return;
    const status = entryStatus(resource, resourceType);
    const code = text(resource.status);
    if (status === 'ignored') return ignore(ledger, resourceType, 'status', code ? { status: code } : {});
    const found = evidenceOf(resource, resourceType, status, recognised, drugs, day);
    if (found === 'undated') return ignore(ledger, resourceType, 'no-date');
    if (found === 'future') return ignore(ledger, resourceType, 'future-date');
    recordDrugTextMatches(ledger, resourceType, recognised);
    evidence.push(...found);
  });
  return evidence;
}

/** Medication use from requests, statements, administrations and dispenses, and the drugs of draft orders. */
export function readMedicationUse(
  record: Pick<Partial<Record<keyof PatientRecord, unknown>>, 'medications' | 'medicationResources'>,
  draftOrders: readonly JsonObject[],
  day: ClinicalDay,
  ledger: Ledger,
): MedicationFacts {
  const evidence = recordEvidence(record, day, ledger);
  const draftAnti = new Set<AntiOsteoporosisDrug>();
  const draftGlucocorticoids: PatientFacts['draft']['glucocorticoids'] = [];
  eachResource(
    draftOrders,
    'MedicationRequest',
    ledger,
    (resource) => {
      const recognised = recogniseDrugs(resource, record.medicationResources);
      if (recognised.nonSystemicGlucocorticoid) {
        ignore(ledger, 'MedicationRequest', 'not-systemic', { topic: 'glucocorticoid' });
      }
      for (const drug of recognised.antiOsteoporosis) draftAnti.add(drug);
      const course = orderCourse(resource, recognised, day);
      for (const drug of recognised.glucocorticoids) {
        if (!draftGlucocorticoids.some((d) => d.drug === drug)) {
          draftGlucocorticoids.push(draftGlucocorticoid(drug, course));
        }
      }
      recordDrugTextMatches(ledger, 'MedicationRequest', recognised);
    },
    'skip',
  );

  const antiOsteoporosis = treatmentCoverage(evidence, day.today);
  const gap = denosumabGap(evidence, antiOsteoporosis, day.today);
  return {
    antiOsteoporosis,
    nonPreventing: nonPreventingInUse(evidence, day.today),
    glucocorticoids: glucocorticoidExposure(evidence, day.today, ledger),
    ...(gap ? { denosumabGap: gap } : {}),
    draft: {
      antiOsteoporosis: ANTI_OSTEOPOROSIS_DRUGS.map((d) => d.drug).filter((drug) => draftAnti.has(drug)),
      glucocorticoids: draftGlucocorticoids,
    },
  };
}
