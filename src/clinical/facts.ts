/**
 * FHIR resources → PatientFacts: pure, no I/O, and it never throws on odd data. Each domain reads its own
 * resources (observations, conditions, augmentations, medication use, imaging findings, ordered tests);
 * this file combines them into the feature vector the model files are written against.
 */
import { ANXIETY, DEPRESSION, DIABETES, LONG_TERM_SYSTEMIC_STEROIDS } from '../fhir/terminology.ts';
import { readAugmentations, readDraftAugmentation, unilateralApproach } from './augmentations.ts';
import {
  daysBetween,
  isoDateOf,
  latestFirst,
  parseClinicalDate,
  wholeYearsBetween,
} from './clinical-dates.ts';
import { type FractureHistory, hasActiveCondition, readFractures, usableConditions } from './conditions.ts';
import { field, isObject, type Ledger, newLedger, text } from './fhir-reading.ts';
import { readImagingFindings } from './imaging-findings.ts';
import { readMedicationUse } from './medication-use.ts';
import { readObservations, usableObservations } from './observations.ts';
import { readOrderedTests } from './ordered-tests.ts';
import type { Augmentation, Features, PatientFacts, PatientRecord, VertebralLevel } from './patient-facts.ts';
import { inSpineOrder } from './vertebral-levels.ts';

/** A fracture this long before the index event is an earlier fracture, not the index one. */
const EARLIER_FRACTURE_DAYS = 90;
const PHQ9_DEPRESSION_THRESHOLD = 10;
const THORACOLUMBAR_JUNCTION: readonly VertebralLevel[] = ['T11', 'T12', 'L1', 'L2'];

/** Whole years of age at `asOf`; a partial birth date counts from the last day it allows (age is never overstated). */
function ageAt(patient: unknown, asOf: string): number | undefined {
  const birthDate = parseClinicalDate(field(patient, 'birthDate'), 'end');
  if (birthDate === undefined || birthDate > asOf) return undefined;
  return wholeYearsBetween(birthDate, asOf);
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
  asOf: string,
): IndexEvent {
  const events = latestFirst<{ levels: VertebralLevel[]; date?: string | undefined }>(
    [...augmentations, ...fractures.vertebral],
    (e) => e.date,
  );
  const latestDate = events[0]?.date;
  const recordedLevels = events.find((e) => e.levels.length > 0)?.levels ?? [];
  if (!draft || draft.levels.length === 0) {
    return { levels: recordedLevels, date: draft ? (latestDate ?? asOf) : latestDate };
  }
  const treated = fractures.vertebral.filter((f) => f.levels.some((level) => draft.levels.includes(level)));
  return { levels: draft.levels, date: latestFirst(treated, (f) => f.date)[0]?.date ?? latestDate ?? asOf };
}

/** A non-vertebral fragility fracture on record, or a non-traumatic vertebral fracture more than 90 days before the index event. */
function hasPriorFragilityFracture(fractures: FractureHistory, index: IndexEvent): boolean {
  if (fractures.nonVertebralFragility.length > 0) return true;
  const indexDate = index.date;
  if (indexDate === undefined) return false;
  return fractures.vertebral.some(
    (f) => !f.traumatic && f.date !== undefined && daysBetween(f.date, indexDate) > EARLIER_FRACTURE_DAYS,
  );
}

function withoutUndefined(features: Features): Features {
  return Object.fromEntries(Object.entries(features).filter(([, value]) => value !== undefined)) as Features;
}

function extract(record: unknown, asOf: string, ledger: Ledger): PatientFacts {
  const source = isObject(record) ? record : {};
  const observations = usableObservations(source.observations, asOf, ledger);
  const conditions = usableConditions(source.conditions, asOf, ledger);
  const measured = readObservations(observations, asOf, ledger);
  const fractures = readFractures(conditions, ledger);
  const augmentationRecords = readAugmentations(source.procedures, asOf, ledger);
  const augmentations = augmentationRecords.map((r) => r.augmentation);
  const draftAugmentation = readDraftAugmentation(source.draftOrders, ledger);
  const medication = readMedicationUse(source, asOf, ledger);
  const ordered = readOrderedTests(source.serviceRequests, source.draftOrders, ledger);
  const findings = readImagingFindings(conditions, observations, augmentations.length > 0, ledger);

  const vertebralFractures = fractures.vertebral.map(({ levels, date }) =>
    date ? { levels, date } : { levels },
  );
  const knownLevels = inSpineOrder([
    ...fractures.vertebral.flatMap((f) => f.levels),
    ...augmentations.flatMap((a) => a.levels),
    ...(draftAugmentation?.levels ?? []),
  ]);
  const anyFractureOrAugmentation =
    fractures.vertebral.length > 0 || augmentations.length > 0 || !!draftAugmentation;
  const index = indexEvent(draftAugmentation, augmentations, fractures, asOf);
  const indexLevels = index.levels;
  const depressionCoded = hasActiveCondition(conditions, DEPRESSION, 'depression', ledger);
  const longTermSteroids = hasActiveCondition(
    conditions,
    LONG_TERM_SYSTEMIC_STEROIDS,
    'long-term steroids',
    ledger,
  );
  const patient = source.patient;

  const features: Features = {
    age: ageAt(patient, asOf),
    female: femaleOf(patient),
    depression: depressionCoded || (measured.phq9?.value ?? -1) >= PHQ9_DEPRESSION_THRESHOLD,
    anxiety: hasActiveCondition(conditions, ANXIETY, 'anxiety', ledger),
    diabetes: hasActiveCondition(conditions, DIABETES, 'diabetes', ledger),
    lowestTScore: measured.lowestTScore,
    bmi: measured.bmi?.value,
    fracturedLevelCount: knownLevels.length > 0 ? knownLevels.length : anyFractureOrAugmentation ? 1 : 0,
    noAntiOsteoporosisDrug: !medication.antiOsteoporosis.some((use) => use.status === 'active'),
    priorFragilityFracture: hasPriorFragilityFracture(fractures, index),
    systemicGlucocorticoid:
      medication.glucocorticoids.some((use) => use.status === 'active') ||
      longTermSteroids ||
      medication.draft.glucocorticoids.length > 0,
    thoracolumbarJunction:
      indexLevels.length > 0
        ? indexLevels.some((level) => THORACOLUMBAR_JUNCTION.includes(level))
        : undefined,
    currentSmoker: measured.currentSmoker,
    ...findings,
    unilateralApproach: unilateralApproach(augmentationRecords),
  };

  return {
    asOf,
    features: withoutUndefined(features),
    tScores: measured.tScores,
    ...(measured.bmi ? { bmi: measured.bmi } : {}),
    ...(measured.phq9 ? { phq9: measured.phq9 } : {}),
    vertebralFractures,
    augmentations,
    indexLevels,
    // An osteoporotic (not traumatic) vertebral fracture, or a prior PVP/PKP: the patients these models are for.
    hasSpineDisease: fractures.vertebral.some((f) => !f.traumatic) || augmentations.length > 0,
    antiOsteoporosis: medication.antiOsteoporosis,
    glucocorticoids: medication.glucocorticoids,
    ...(medication.denosumabGap ? { denosumabGap: medication.denosumabGap } : {}),
    dxaOrdered: ordered.dxaOrdered,
    phq9Ordered: ordered.phq9Ordered,
    draft: {
      ...(draftAugmentation ? { augmentation: draftAugmentation } : {}),
      glucocorticoids: medication.draft.glucocorticoids,
      antiOsteoporosis: medication.draft.antiOsteoporosis,
    },
    ignored: ledger.ignored,
    textMatches: ledger.textMatches,
  };
}

/**
 * The facts of one patient at `asOf` (an invalid date stands for now). Data that does not count is listed
 * in `ignored`, concepts recognised from text alone in `textMatches`. Should extraction itself fail on data
 * no reader foresaw, the facts say nothing was assessed rather than throw.
 */
export function extractFacts(record: PatientRecord, asOf: Date): PatientFacts {
  const asOfDate = isoDateOf(asOf instanceof Date && !Number.isNaN(asOf.getTime()) ? asOf : new Date());
  const ledger = newLedger();
  try {
    return extract(record, asOfDate, ledger);
  } catch {
    return {
      asOf: asOfDate,
      features: {},
      tScores: [],
      vertebralFractures: [],
      augmentations: [],
      indexLevels: [],
      hasSpineDisease: false,
      antiOsteoporosis: [],
      glucocorticoids: [],
      dxaOrdered: false,
      phq9Ordered: false,
      draft: { glucocorticoids: [], antiOsteoporosis: [] },
      ignored: [...ledger.ignored, { resourceType: 'PatientRecord', reason: 'facts could not be extracted' }],
      textMatches: ledger.textMatches,
    };
  }
}
