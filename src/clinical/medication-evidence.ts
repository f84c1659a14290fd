/**
 * Evidence of medication use from MedicationRequest, MedicationStatement, MedicationAdministration and
 * MedicationDispense: per entry and drug, whether it shows use or a stop, its date (the latest the entry
 * vouches for), when use began and ended, and the course it describes (a single dose, the planned days,
 * the daily dose). The rules per resource type are CLINICAL.md 1.1's "Treatment coverage"; the choices
 * where it is silent are in the module README.
 */
import { addDays, type ClinicalDay, daysBetween, isInFuture, laterOf } from './clinical-dates.ts';
import type { RecognisedDrugs } from './drug-recognition.ts';
import { codings, field, type JsonObject, listOf, text } from './fhir-reading.ts';
import type {
  AntiOsteoporosisDrug,
  EvidenceSource,
  Glucocorticoid,
  NonPreventingDrug,
} from './patient-facts.ts';

export type Drug = AntiOsteoporosisDrug | NonPreventingDrug | Glucocorticoid;

/** What an entry says about a course of treatment. */
export interface Course {
  /** Explicitly one dose (timing.repeat.count 1, one timing event, or an administration). */
  singleDose: boolean;
  /** The planned length in days, when the entry states it or it can be computed. */
  plannedDays?: number;
  /** The stated dose per day in mg of the product, when dose, unit and frequency are all known. */
  dailyMg?: number;
}

export interface DrugEvidence {
  drug: Drug;
  resourceType: string;
  source: EvidenceSource;
  /** Use, or a stop (a stopped or on-hold order or statement): never coverage, but the last evidence. */
  kind: 'use' | 'stop';
  /** ISO date: the latest date the entry vouches for (see the module comment). */
  date: string;
  /** When use began, if known. */
  start?: string;
  /** The last day of stated use: a statement's period end, an order's planned end, a dispense's last day. */
  end?: string;
  /** An active order or statement: use goes on. */
  ongoing: boolean;
  /** Given by injection or infusion. */
  parenteral: boolean;
  course: Course;
}

const USE_STATUSES: Readonly<Record<string, readonly string[]>> = {
  MedicationRequest: ['active', 'completed'],
  MedicationStatement: ['active', 'completed'],
  MedicationAdministration: ['completed', 'in-progress'],
  MedicationDispense: ['completed'],
};
const STOP_STATUSES: Readonly<Record<string, readonly string[]>> = {
  MedicationRequest: ['stopped', 'on-hold'],
  MedicationStatement: ['stopped', 'on-hold'],
};
/** Administrations and dispenses without a status are read as given; orders and statements need one. */
const STATUS_OPTIONAL = ['MedicationAdministration', 'MedicationDispense'];

export type EntryStatus = 'use' | 'stop' | 'ignored';

export function entryStatus(resource: JsonObject, resourceType: string): EntryStatus {
  const status = text(resource.status);
  if (status === undefined) return STATUS_OPTIONAL.includes(resourceType) ? 'use' : 'ignored';
  if ((USE_STATUSES[resourceType] ?? []).includes(status)) return 'use';
  if ((STOP_STATUSES[resourceType] ?? []).includes(status)) return 'stop';
  return 'ignored';
}

const DAYS_PER_UNIT: Readonly<Record<string, number>> = {
  s: 1 / 86_400,
  min: 1 / 1440,
  h: 1 / 24,
  d: 1,
  day: 1,
  days: 1,
  wk: 7,
  week: 7,
  weeks: 7,
  mo: 30,
  month: 30,
  months: 30,
  a: 365,
  year: 365,
  years: 365,
};

/** A FHIR Duration (or Quantity) in days. */
function durationDays(duration: unknown): number | undefined {
  const value = field(duration, 'value');
  const unit = (text(field(duration, 'code')) ?? text(field(duration, 'unit')))?.trim().toLowerCase();
  const perUnit = unit === undefined ? undefined : DAYS_PER_UNIT[unit];
  return typeof value === 'number' && Number.isFinite(value) && value >= 0 && perUnit !== undefined
    ? value * perUnit
    : undefined;
}

/** HL7 v3 GTSAbbreviation timing codes, in doses per day. */
const DOSES_PER_DAY: Readonly<Record<string, number>> = {
  QD: 1,
  QAM: 1,
  QPM: 1,
  QHS: 1,
  QOD: 0.5,
  BID: 2,
  TID: 3,
  QID: 4,
  Q4H: 6,
  Q6H: 4,
  Q8H: 3,
  WK: 1 / 7,
  MO: 1 / 30,
};

function dosesPerDay(timing: unknown): number | undefined {
  const repeat = field(timing, 'repeat');
  const frequency = field(repeat, 'frequency');
  const period = field(repeat, 'period');
  const periodUnit = text(field(repeat, 'periodUnit'));
  if (typeof period === 'number' && period > 0 && periodUnit !== undefined) {
    const days = period * (DAYS_PER_UNIT[periodUnit] ?? Number.NaN);
    const perPeriod = typeof frequency === 'number' && frequency > 0 ? frequency : 1;
    return Number.isFinite(days) && days > 0 ? perPeriod / days : undefined;
  }
  const code = codings(field(timing, 'code')).find((coding) => coding.code !== undefined)?.code;
  return code === undefined ? undefined : DOSES_PER_DAY[code.toUpperCase()];
}

const MG_PER_UNIT: Readonly<Record<string, number>> = { mg: 1, g: 1000, ug: 0.001, mcg: 0.001, 毫克: 1 };
const COUNT_UNITS = /^(\{?(tbl|tab|tablet|tablets|cap|capsule|capsules|pill|pills)\}?|片|粒|支)$/i;
const STRENGTH = /(\d+(?:\.\d+)?)\s*(mg|毫克)(?![A-Za-z/])/i;

interface Dose {
  /** Amount of one dose and the unit it is counted in (mg, or tablets). */
  amount: number;
  unit: 'mg' | 'count';
}

/** One dose: in mg, or in tablets/capsules (converted to mg when the product names its strength). */
function doseOf(quantity: unknown, productTexts: readonly string[]): { dose?: Dose; mg?: number } {
  const value = field(quantity, 'value');
  const unit = (text(field(quantity, 'code')) ?? text(field(quantity, 'unit')))?.trim();
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0 || unit === undefined) return {};
  const perMg = MG_PER_UNIT[unit.toLowerCase()];
  if (perMg !== undefined) return { dose: { amount: value * perMg, unit: 'mg' }, mg: value * perMg };
  if (!COUNT_UNITS.test(unit)) return {};
  const strength = productTexts.map((words) => STRENGTH.exec(words)).find((m) => m !== null);
  const mg = strength ? value * Number(strength[1]) : undefined;
  return { dose: { amount: value, unit: 'count' }, ...(mg !== undefined ? { mg } : {}) };
}

function doseQuantityOf(dosage: unknown): unknown {
  const rate = listOf(field(dosage, 'doseAndRate'))[0];
  return field(rate, 'doseQuantity') ?? field(field(rate, 'doseRange'), 'high') ?? field(dosage, 'dose');
}

/** The course a dosage (and an order's dispense request, a dispense's supply) describes. */
function courseOf(
  dosage: unknown,
  productTexts: readonly string[],
  supply: { quantity?: unknown; expectedDays?: number; repeats?: number; daysSupply?: number },
  day: ClinicalDay,
): Course {
  const timing = field(dosage, 'timing');
  const repeat = field(timing, 'repeat');
  const count = field(repeat, 'count');
  const countMax = field(repeat, 'countMax');
  const events = listOf(field(timing, 'event'));
  const singleDose =
    (count === 1 && (countMax === undefined || countMax === 1)) ||
    (events.length === 1 && repeat === undefined);
  const perDay = dosesPerDay(timing);
  const { dose, mg } = doseOf(doseQuantityOf(dosage), productTexts);
  const bounds = field(repeat, 'boundsPeriod');
  const boundsStart = day.dateOf(field(bounds, 'start'));
  const boundsEnd = day.dateOf(field(bounds, 'end'), 'end');
  // An order's supply is per dispense; its repeats (refills) come on top of the first fill (FHIR R4).
  const fills = 1 + (supply.repeats ?? 0);
  const fromQuantity = (() => {
    const total = doseOf(supply.quantity, productTexts).dose;
    if (!dose || !total || total.unit !== dose.unit || perDay === undefined) return undefined;
    return (total.amount / (dose.amount * perDay)) * fills;
  })();
  const plannedDays =
    supply.daysSupply ??
    durationDays(field(repeat, 'boundsDuration')) ??
    (boundsStart && boundsEnd ? daysBetween(boundsStart, boundsEnd) + 1 : undefined) ??
    (typeof count === 'number' && count > 0 && perDay !== undefined ? count / perDay : undefined) ??
    (supply.expectedDays === undefined ? undefined : supply.expectedDays * fills) ??
    fromQuantity;
  return {
    singleDose,
    ...(plannedDays !== undefined ? { plannedDays: Math.round(plannedDays * 10) / 10 } : {}),
    ...(mg !== undefined && perDay !== undefined ? { dailyMg: mg * perDay } : {}),
  };
}

function source(resourceType: string): EvidenceSource {
  if (resourceType === 'MedicationRequest') return 'order';
  if (resourceType === 'MedicationStatement') return 'statement';
  if (resourceType === 'MedicationDispense') return 'dispense';
  return 'administration';
}

function capped(date: string | undefined, today: string): string | undefined {
  return date !== undefined && date > today ? today : date;
}

interface Dated {
  date?: string;
  start?: string;
  end?: string;
  course: Course;
}

/** The course a MedicationRequest describes: its first dosage and its dispense request. Needs no date. */
export function orderCourse(resource: JsonObject, recognised: RecognisedDrugs, day: ClinicalDay): Course {
  const dispense = field(resource, 'dispenseRequest');
  const repeats = field(dispense, 'numberOfRepeatsAllowed');
  const expectedDays = durationDays(field(dispense, 'expectedSupplyDuration'));
  return courseOf(
    listOf(resource.dosageInstruction)[0],
    recognised.productTexts,
    {
      quantity: field(dispense, 'quantity'),
      ...(expectedDays !== undefined ? { expectedDays } : {}),
      ...(typeof repeats === 'number' && repeats >= 0 ? { repeats } : {}),
    },
    day,
  );
}

function requestDates(resource: JsonObject, recognised: RecognisedDrugs, day: ClinicalDay): Dated {
  const dosage = listOf(resource.dosageInstruction)[0];
  const validity = field(field(resource, 'dispenseRequest'), 'validityPeriod');
  const authored = day.dateOf(resource.authoredOn);
  const validFrom = day.dateOf(field(validity, 'start'));
  const validTo = day.dateOf(field(validity, 'end'), 'end');
  const boundsStart = day.dateOf(
    field(field(field(field(dosage, 'timing'), 'repeat'), 'boundsPeriod'), 'start'),
  );
  const course = orderCourse(resource, recognised, day);
  const start = boundsStart ?? authored ?? validFrom;
  const date = capped(validTo, day.today) ?? validFrom ?? authored ?? boundsStart;
  const end =
    start && course.plannedDays !== undefined ? addDays(start, Math.ceil(course.plannedDays) - 1) : undefined;
  return { ...(date ? { date } : {}), ...(start ? { start } : {}), ...(end ? { end } : {}), course };
}

function statementDates(
  resource: JsonObject,
  recognised: RecognisedDrugs,
  day: ClinicalDay,
  kind: 'use' | 'stop',
): Dated {
  const single = day.dateOf(resource.effectiveDateTime);
  const periodStart = day.dateOf(field(resource.effectivePeriod, 'start'));
  const periodEnd = day.dateOf(field(resource.effectivePeriod, 'end'), 'end');
  const asserted = day.dateOf(resource.dateAsserted);
  const course = courseOf(listOf(resource.dosage)[0], recognised.productTexts, {}, day);
  const start = periodStart ?? single ?? asserted;
  const date =
    kind === 'stop'
      ? (periodEnd ?? asserted ?? single ?? periodStart)
      : [single, capped(periodEnd, day.today), asserted, periodStart].reduce<string | undefined>(
          laterOf,
          undefined,
        );
  return {
    ...(date ? { date } : {}),
    ...(start ? { start } : {}),
    ...(periodEnd ? { end: periodEnd } : {}),
    course,
  };
}

function administrationDates(resource: JsonObject, recognised: RecognisedDrugs, day: ClinicalDay): Dated {
  const start =
    day.dateOf(resource.effectiveDateTime) ?? day.dateOf(field(resource.effectivePeriod, 'start'));
  const end = day.dateOf(field(resource.effectivePeriod, 'end'), 'end') ?? start;
  const { mg } = doseOf(field(resource.dosage, 'dose'), recognised.productTexts);
  const course: Course = { singleDose: true, ...(mg !== undefined ? { dailyMg: mg } : {}) };
  return { ...(start ? { date: start, start } : {}), ...(end ? { end } : {}), course };
}

function dispenseDates(resource: JsonObject, recognised: RecognisedDrugs, day: ClinicalDay): Dated {
  const handedOver = day.dateOf(resource.whenHandedOver) ?? day.dateOf(resource.whenPrepared);
  const daysSupply = durationDays(resource.daysSupply);
  const course = courseOf(
    listOf(resource.dosageInstruction)[0],
    recognised.productTexts,
    { quantity: resource.quantity, ...(daysSupply !== undefined ? { daysSupply } : {}) },
    day,
  );
  const end =
    handedOver && course.plannedDays !== undefined
      ? addDays(handedOver, Math.max(0, Math.ceil(course.plannedDays) - 1))
      : handedOver;
  return { ...(handedOver ? { date: handedOver, start: handedOver } : {}), ...(end ? { end } : {}), course };
}

type DateReader = (
  resource: JsonObject,
  recognised: RecognisedDrugs,
  day: ClinicalDay,
  kind: 'use' | 'stop',
) => Dated;

const DATES_OF: Readonly<Record<string, DateReader>> = {
  MedicationRequest: requestDates,
  MedicationStatement: statementDates,
  MedicationDispense: dispenseDates,
  MedicationAdministration: administrationDates,
};

/** The evidence one entry gives, per drug it is about; 'undated' or 'future' when it has no date to go by. */
export function evidenceOf(
  resource: JsonObject,
  resourceType: string,
  kind: 'use' | 'stop',
  recognised: RecognisedDrugs,
  drugs: readonly Drug[],
  day: ClinicalDay,
): DrugEvidence[] | 'undated' | 'future' {
  const dated = (DATES_OF[resourceType] ?? administrationDates)(resource, recognised, day, kind);
  const { date } = dated;
  if (date === undefined) return 'undated';
  if (isInFuture(dated.start ?? date, day.today)) return 'future';
  const ongoing = kind === 'use' && text(resource.status) === 'active';
  return drugs.map((drug) => ({
    drug,
    resourceType,
    source: source(resourceType),
    kind,
    date,
    ...(dated.start ? { start: dated.start } : {}),
    ...(dated.end ? { end: dated.end } : {}),
    ongoing,
    parenteral: recognised.parenteral,
    course: dated.course,
  }));
}
