/**
 * Medication use over time: which anti-osteoporosis drugs and systemic glucocorticoids are active now,
 * since when, the denosumab gap, and the drugs of the orders being signed.
 */
import {
  ANTI_OSTEOPOROSIS_DRUGS,
  BISPHOSPHONATES,
  GLUCOCORTICOIDS,
  INTERVAL_DRUG_COVER_DAYS,
} from '../fhir/terminology.ts';
import {
  daysBetween,
  earlierOf,
  isInFuture,
  laterOf,
  parseClinicalDate,
  wholeMonthsBetween,
} from './clinical-dates.ts';
import { type RecognisedDrugs, recogniseDrugs } from './drug-recognition.ts';
import {
  eachResource,
  field,
  ignore,
  type JsonObject,
  type Ledger,
  listOf,
  recordTextMatch,
  text,
} from './fhir-reading.ts';
import type {
  AntiOsteoporosisDrug,
  DrugUse,
  Glucocorticoid,
  PatientFacts,
  PatientRecord,
} from './patient-facts.ts';

type Drug = AntiOsteoporosisDrug | Glucocorticoid;

/** One entry's evidence that a drug was used. */
interface Evidence {
  drug: Drug;
  source: 'request' | 'statement' | 'administration';
  active: boolean;
  firstDate?: string;
  lastDate?: string;
}

/** A dose given this recently keeps a drug without a long dosing interval active (weekly and monthly regimens). */
const RECENT_DOSE_DAYS = 35;
/** Denosumab: a last dose more than 7 months ago is a gap. */
const DENOSUMAB_GAP_DAYS = 213;

const IGNORED_STATUSES: Readonly<Record<string, readonly string[]>> = {
  MedicationRequest: ['entered-in-error', 'cancelled', 'draft'],
  MedicationStatement: ['entered-in-error', 'not-taken'],
  MedicationAdministration: ['entered-in-error', 'not-done', 'stopped', 'on-hold', 'unknown'],
};
const ACTIVE_STATUSES: Readonly<Record<string, readonly string[]>> = {
  MedicationRequest: ['active', 'on-hold'],
  MedicationStatement: ['active', 'intended', 'on-hold'],
};

function dates(resource: JsonObject, resourceType: string): { first?: string; last?: string } {
  if (resourceType === 'MedicationRequest') {
    const bounds = field(
      field(field(listOf(resource.dosageInstruction)[0], 'timing'), 'repeat'),
      'boundsPeriod',
    );
    const date = parseClinicalDate(resource.authoredOn) ?? parseClinicalDate(field(bounds, 'start'));
    return date ? { first: date, last: date } : {};
  }
  const asserted =
    resourceType === 'MedicationStatement' ? parseClinicalDate(resource.dateAsserted) : undefined;
  const single = parseClinicalDate(resource.effectiveDateTime);
  const start = parseClinicalDate(field(resource.effectivePeriod, 'start'));
  const end = parseClinicalDate(field(resource.effectivePeriod, 'end'), 'end');
  const first = single ?? start ?? asserted;
  const last = single ?? end ?? laterOf(start, asserted);
  return { ...(first ? { first } : {}), ...(last ? { last } : {}) };
}

/** Whether a completed order, a completed statement or a dose still covers the patient on `asOf`. */
function covers(drug: Drug, date: string | undefined, asOf: string, isDose: boolean): boolean {
  if (date === undefined) return false;
  const interval = INTERVAL_DRUG_COVER_DAYS[drug as AntiOsteoporosisDrug];
  const days = interval ?? (isDose ? RECENT_DOSE_DAYS : undefined);
  return days !== undefined && daysBetween(date, asOf) <= days;
}

function evidenceOf(
  resource: JsonObject,
  resourceType: string,
  drugs: readonly Drug[],
  when: { first?: string; last?: string },
  asOf: string,
): Evidence[] {
  const status = text(resource.status);
  const source =
    resourceType === 'MedicationRequest'
      ? 'request'
      : resourceType === 'MedicationStatement'
        ? 'statement'
        : 'administration';
  return drugs.map((drug) => {
    const active =
      source === 'administration'
        ? covers(drug, when.last, asOf, true)
        : (status !== undefined && (ACTIVE_STATUSES[resourceType] ?? []).includes(status)) ||
          (status === 'completed' && covers(drug, when.last, asOf, false));
    return {
      drug,
      source,
      active,
      ...(when.first ? { firstDate: when.first } : {}),
      ...(when.last ? { lastDate: when.last } : {}),
    };
  });
}

function drugUses<D extends Drug>(evidence: readonly Evidence[], order: readonly D[]): Array<DrugUse<D>> {
  return order.flatMap((drug) => {
    const mine = evidence.filter((e) => e.drug === drug);
    if (mine.length === 0) return [];
    const firstDate = mine.reduce<string | undefined>((date, e) => earlierOf(date, e.firstDate), undefined);
    const lastDate = mine.reduce<string | undefined>((date, e) => laterOf(date, e.lastDate), undefined);
    return [
      {
        drug,
        status: mine.some((e) => e.active) ? 'active' : 'stopped',
        ...(lastDate ? { lastDate } : {}),
        ...(firstDate ? { firstDate } : {}),
      },
    ];
  });
}

/** Drugs are listed in the order of the terminology module. */
const ANTI_OSTEOPOROSIS_ORDER = ANTI_OSTEOPOROSIS_DRUGS.map((d) => d.drug);
const GLUCOCORTICOID_ORDER = GLUCOCORTICOIDS.map((d) => d.drug);

/** Denosumab last given more than 7 months ago, with no bisphosphonate active or started since and no new denosumab course. */
function denosumabGap(evidence: readonly Evidence[], asOf: string): PatientFacts['denosumabGap'] {
  const denosumab = evidence.filter((e) => e.drug === 'denosumab');
  const doses = denosumab.filter((e) => e.source === 'administration');
  const lastDose = (doses.length > 0 ? doses : denosumab).reduce<string | undefined>(
    (date, e) => laterOf(date, e.lastDate),
    undefined,
  );
  if (lastDose === undefined || daysBetween(lastDose, asOf) <= DENOSUMAB_GAP_DAYS) return undefined;
  const resumed = evidence.some((e) => {
    const bisphosphonate = BISPHOSPHONATES.includes(e.drug as AntiOsteoporosisDrug);
    const usedAfter = (e.lastDate ?? '') > lastDose;
    return (bisphosphonate && (e.active || usedAfter)) || (e.drug === 'denosumab' && e.active && usedAfter);
  });
  return resumed ? undefined : { lastDose, monthsSince: wholeMonthsBetween(lastDose, asOf) };
}

function recordDrugTextMatches(ledger: Ledger, resourceType: string, recognised: RecognisedDrugs): void {
  if (!recognised.byText) return;
  for (const drug of recognised.antiOsteoporosis)
    recordTextMatch(ledger, resourceType, `anti-osteoporosis:${drug}`);
  for (const drug of recognised.glucocorticoids)
    recordTextMatch(ledger, resourceType, `glucocorticoid:${drug}`);
}

type MedicationFacts = Pick<PatientFacts, 'antiOsteoporosis' | 'glucocorticoids' | 'denosumabGap'> & {
  draft: Pick<PatientFacts['draft'], 'glucocorticoids' | 'antiOsteoporosis'>;
};

/** Medication use from requests, statements and administrations, and the drugs of draft orders. */
export function readMedicationUse(
  record: Pick<
    Partial<Record<keyof PatientRecord, unknown>>,
    'medications' | 'medicationResources' | 'draftOrders'
  >,
  asOf: string,
  ledger: Ledger,
): MedicationFacts {
  const evidence: Evidence[] = [];
  const types = ['MedicationRequest', 'MedicationStatement', 'MedicationAdministration'];
  eachResource(record.medications, types, ledger, (resource, resourceType) => {
    const status = text(resource.status);
    if (status && (IGNORED_STATUSES[resourceType] ?? []).includes(status)) {
      return ignore(ledger, resourceType, `status ${status}`);
    }
    const recognised = recogniseDrugs(resource, record.medicationResources);
    if (recognised.nonSystemicGlucocorticoid) ignore(ledger, resourceType, 'glucocorticoid: not systemic');
    const drugs: Drug[] = [...recognised.antiOsteoporosis, ...recognised.glucocorticoids];
    if (drugs.length === 0) return;
    const when = dates(resource, resourceType);
    if (when.first && isInFuture(when.first, asOf))
      return ignore(ledger, resourceType, 'dated in the future');
    const found = evidenceOf(resource, resourceType, drugs, when, asOf);
    recordDrugTextMatches(ledger, resourceType, recognised);
    evidence.push(...found);
  });

  const draftAnti = new Set<AntiOsteoporosisDrug>();
  const draftGlucocorticoids = new Set<Glucocorticoid>();
  eachResource(
    record.draftOrders,
    'MedicationRequest',
    ledger,
    (resource) => {
      const status = text(resource.status);
      if (status === 'entered-in-error' || status === 'cancelled') {
        return ignore(ledger, 'MedicationRequest', `status ${status}`);
      }
      const recognised = recogniseDrugs(resource, record.medicationResources);
      if (recognised.nonSystemicGlucocorticoid)
        ignore(ledger, 'MedicationRequest', 'glucocorticoid: not systemic');
      for (const drug of recognised.antiOsteoporosis) draftAnti.add(drug);
      for (const drug of recognised.glucocorticoids) draftGlucocorticoids.add(drug);
      recordDrugTextMatches(ledger, 'MedicationRequest', recognised);
    },
    'skip',
  );

  const gap = denosumabGap(evidence, asOf);
  return {
    antiOsteoporosis: drugUses(evidence, ANTI_OSTEOPOROSIS_ORDER),
    glucocorticoids: drugUses(evidence, GLUCOCORTICOID_ORDER),
    ...(gap ? { denosumabGap: gap } : {}),
    draft: {
      antiOsteoporosis: ANTI_OSTEOPOROSIS_ORDER.filter((drug) => draftAnti.has(drug)),
      glucocorticoids: GLUCOCORTICOID_ORDER.filter((drug) => draftGlucocorticoids.has(drug)),
    },
  };
}
