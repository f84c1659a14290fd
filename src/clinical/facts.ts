/**
 * FHIR resources → PatientFacts: pure, no I/O, and it never throws on odd data. Each domain reads its own
 * resources (observations, conditions, augmentations, medication use, imaging findings, ordered tests);
 * this file combines them into the feature vector the model files are written against. Dates are on the
 * clinic's calendar (its time zone), so ages and windows turn over at the clinic's midnight.
 */
import {
  readAugmentations,
  readDraftAugmentation,
  readDraftSpineImaging,
  repeatAugmentation,
  unilateralApproach,
} from './augmentations.ts';
import {
  type ClinicalDay,
  clinicalDay,
  daysBetween,
  latestFirst,
  wholeYearsBetween,
} from './clinical-dates.ts';
import {
  type FractureHistory,
  hasActiveCondition,
  hasActiveDepression,
  readFractures,
  usableConditions,
} from './conditions.ts';
import { field, isObject, type Ledger, newLedger, text, usableDraftOrders } from './fhir-reading.ts';
import { readImagingFindings } from './imaging-findings.ts';
import { readMedicationUse } from './medication-use.ts';
import { readObservations, usableObservations } from './observations.ts';
import { readOrderedTests } from './ordered-tests.ts';
import type { Augmentation, Features, PatientFacts, PatientRecord, VertebralLevel } from './patient-facts.ts';
import { ANXIETY, DIABETES, LONG_TERM_SYSTEMIC_STEROIDS } from './terminology/condition-codes.ts';
import { inSpineOrder } from './vertebral-levels.ts';

/** Vertebral fractures this close to the index event belong to it: they count as levels, not as earlier fractures. */
const INDEX_EVENT_DAYS = 90;
const PHQ9_DEPRESSION_THRESHOLD = 10;
const THORACOLUMBAR_JUNCTION: readonly VertebralLevel[] = ['T11', 'T12', 'L1', 'L2'];

/** Whole years of age on the clinic's today; a partial birth date counts from the last day it allows (never overstated). */
function ageAt(patient: unknown, day: ClinicalDay): number | undefined {
  const birthDate = day.dateOf(field(patient, 'birthDate'), 'end');
  if (birthDate === undefined || birthDate > day.today) return undefined;
  return wholeYearsBetween(birthDate, day.today);
}

function femaleOf(patient: unknown): boolean | undefined {
  const gender = text(field(patient, 'gender'));
  return gender === 'female' ? true : gender === 'male' ? false : undefined;
}

interface IndexEvent {
  levels: VertebralLevel[];
  /** ISO date; undefined when nothing is dated and no order is being signed. */
  date: string | undefined;
}

/**
 * The index event: the fracture being treated. With a PVP/PKP order, the order's levels, dated by the
 * latest fracture at those levels (a PVP often follows its fracture by weeks or months); otherwise the
 * latest fracture or augmentation on record, whichever is newer. Levels come from the latest event
 * that names any.
 */
function indexEvent(
  draft: Augmentation | undefined,
  augmentations: readonly Augmentation[],
  fractures: FractureHistory,
  today: string,
): IndexEvent {
  const events = latestFirst<{ levels: VertebralLevel[]; date?: string | undefined }>(
    [...augmentations, ...fractures.vertebral],
    (e) => e.date,
  );
  const latestDate = events[0]?.date;
  const recordedLevels = events.find((e) => e.levels.length > 0)?.levels ?? [];
  if (!draft || draft.levels.length === 0) {
    return { levels: recordedLevels, date: draft ? (latestDate ?? today) : latestDate };
  }
  const treated = fractures.vertebral.filter((f) => f.levels.some((level) => draft.levels.includes(level)));
  return { levels: draft.levels, date: latestFirst(treated, (f) => f.date)[0]?.date ?? latestDate ?? today };
}

/**
 * A fragility fracture other than the index one (CLINICAL.md 1.1), before it or since: a non-vertebral
 * fragility fracture or a history code, or a non-traumatic vertebral fracture more than 90 days from the
 * index event (closer ones belong to the index event).
 */
function hasPriorFragilityFracture(fractures: FractureHistory, index: IndexEvent): boolean {
  if (fractures.otherFragility.length > 0) return true;
  const indexDate = index.date;
  if (indexDate === undefined) return false;
  return fractures.vertebral.some(
    (f) =>
      !f.traumatic && f.date !== undefined && Math.abs(daysBetween(f.date, indexDate)) > INDEX_EVENT_DAYS,
  );
}

function withoutUndefined(features: Features): Features {
  const defined: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(features)) if (value !== undefined) defined[name] = value;
  return defined as Features;
}

function extract(record: unknown, day: ClinicalDay, ledger: Ledger): PatientFacts {
  const source = isObject(record) ? record : {};
  const today = day.today;
  const observations = usableObservations(source.observations, day, ledger);
  const conditions = usableConditions(source.conditions, day, ledger);
  const measured = readObservations(observations, today, ledger);
  const fractures = readFractures(conditions, ledger);
  const augmentationRecords = readAugmentations(source.procedures, day, ledger);
  const augmentations = augmentationRecords.map((r) => r.augmentation);
  const drafts = usableDraftOrders(source.draftOrders, ledger);
  const draftAugmentation = readDraftAugmentation(drafts, day, ledger);
  const spineImaging = readDraftSpineImaging(drafts, ledger);
  const medication = readMedicationUse(source, drafts, day, ledger);
  const ordered = readOrderedTests(source.serviceRequests, drafts, ledger);
  const findings = readImagingFindings(conditions, observations, augmentations.length > 0, ledger);

  const vertebralFractures = fractures.vertebral.map(({ levels, date }) =>
    date ? { levels, date } : { levels },
  );
  const knownLevels = inSpineOrder([
    ...fractures.vertebral.flatMap((f) => f.levels),
    ...augmentations.flatMap((a) => a.levels),
    ...(draftAugmentation?.levels ?? []),
  ]);
  const addOnLevels = [...augmentations, ...(draftAugmentation ? [draftAugmentation] : [])].reduce(
    (sum, a) => sum + a.additionalLevels,
    0,
  );
  const anyFractureOrAugmentation =
    fractures.vertebral.length > 0 || augmentations.length > 0 || !!draftAugmentation;
  // Named levels, or one unnamed level when a fracture or augmentation names none; each add-on line is one more.
  const levelCount =
    (knownLevels.length > 0 ? knownLevels.length : anyFractureOrAugmentation ? 1 : 0) + addOnLevels;
  const index = indexEvent(draftAugmentation, augmentations, fractures, today);
  const indexLevels = index.levels;
  const longTermSteroids = hasActiveCondition(
    conditions,
    LONG_TERM_SYSTEMIC_STEROIDS,
    'longTermSteroids',
    ledger,
  );
  const patient = source.patient;
  const repeat = repeatAugmentation(augmentations, fractures.vertebral, draftAugmentation);
  const depressionDiagnosed = hasActiveDepression(conditions, ledger);

  const features: Features = {
    age: ageAt(patient, day),
    female: femaleOf(patient),
    depression: depressionDiagnosed || (measured.phq9?.value ?? -1) >= PHQ9_DEPRESSION_THRESHOLD,
    anxiety: hasActiveCondition(conditions, ANXIETY, 'anxiety', ledger),
    diabetes: hasActiveCondition(conditions, DIABETES, 'diabetes', ledger),
    lowestTScore: measured.lowestTScore,
    bmi: measured.bmi?.value,
    fracturedLevelCount: levelCount,
    noAntiOsteoporosisDrug: !medication.antiOsteoporosis.some((use) => use.covered),
    priorFragilityFracture: hasPriorFragilityFracture(fractures, index),
    systemicGlucocorticoid:
      longTermSteroids ||
      medication.glucocorticoids.some((exposure) => exposure.longTerm) ||
      medication.draft.glucocorticoids.some((draft) => draft.longTermIfContinued),
    thoracolumbarJunction:
      indexLevels.length > 0
        ? indexLevels.some((level) => THORACOLUMBAR_JUNCTION.includes(level))
        : undefined,
    currentSmoker: measured.currentSmoker,
    ...findings,
    unilateralApproach: unilateralApproach(augmentationRecords),
  };

  return {
    asOf: today,
    features: withoutUndefined(features),
    tScores: measured.tScores,
    ...(measured.bmi ? { bmi: measured.bmi } : {}),
    ...(measured.phq9 ? { phq9: measured.phq9 } : {}),
    depressionDiagnosed,
    vertebralFractures,
    augmentations,
    indexLevels,
    // An osteoporotic (not traumatic) vertebral fracture, or a prior PVP/PKP: the patients these models are for.
    hasSpineDisease: fractures.vertebral.some((f) => !f.traumatic) || augmentations.length > 0,
    hasPriorAugmentation: augmentations.length > 0,
    antiOsteoporosis: medication.antiOsteoporosis,
    nonPreventing: medication.nonPreventing,
    glucocorticoids: medication.glucocorticoids,
    ...(medication.denosumabGap ? { denosumabGap: medication.denosumabGap } : {}),
    ...(repeat ? { repeatAugmentation: repeat } : {}),
    dxaOrdered: ordered.dxaOrdered,
    phq9Ordered: ordered.phq9Ordered,
    draft: {
      ...(draftAugmentation ? { augmentation: draftAugmentation } : {}),
      ...(spineImaging ? { spineImaging } : {}),
      glucocorticoids: medication.draft.glucocorticoids,
      antiOsteoporosis: medication.draft.antiOsteoporosis,
    },
    ignored: ledger.ignored,
    textMatches: ledger.textMatches,
  };
}

/**
 * The facts of one patient on the clinic's today (`now` in `timeZone`; an invalid date stands for now).
 * Data that does not count is listed in `ignored`, concepts recognised from text alone in `textMatches`.
 * Should extraction itself fail on data no reader foresaw, the facts say nothing was assessed rather than throw.
 */
export function extractFacts(record: PatientRecord, now: Date, timeZone: string): PatientFacts {
  const day = clinicalDay(now, timeZone);
  const ledger = newLedger();
  try {
    return extract(record, day, ledger);
  } catch {
    return {
      asOf: day.today,
      features: {},
      tScores: [],
      depressionDiagnosed: false,
      vertebralFractures: [],
      augmentations: [],
      indexLevels: [],
      hasSpineDisease: false,
      hasPriorAugmentation: false,
      antiOsteoporosis: [],
      nonPreventing: [],
      glucocorticoids: [],
      dxaOrdered: false,
      phq9Ordered: false,
      draft: { glucocorticoids: [], antiOsteoporosis: [] },
      ignored: [...ledger.ignored, { resourceType: 'PatientRecord', reason: 'extraction-failed' }],
      textMatches: ledger.textMatches,
    };
  }
}
