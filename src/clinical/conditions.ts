/**
 * Diagnoses from Conditions: which ones count, active diagnoses (depression not in remission, anxiety,
 * diabetes, long-term steroids), vertebral fractures with their levels, and other fragility fractures
 * (non-vertebral sites and history codes).
 */
import { type ClinicalDay, isInFuture } from './clinical-dates.ts';
import { affirms } from './clinical-text.ts';
import {
  codings,
  conceptTexts,
  eachResource,
  field,
  ignore,
  type JsonObject,
  type Ledger,
  listOf,
  noteTexts,
  recordTextMatch,
  type SafeCoding,
  textsOfConcepts,
} from './fhir-reading.ts';
import type { IgnoredTopic, VertebralLevel } from './patient-facts.ts';
import { anyCodingInValueSet, normaliseIcd10, SYSTEMS, type ValueSet } from './terminology/code-systems.ts';
import {
  DEPRESSION,
  DEPRESSION_IN_REMISSION,
  FRAGILITY_FRACTURE_HISTORY,
  ICD10CM_VERTEBRAL_LEVEL_PREFIXES,
  INJURY,
  NON_VERTEBRAL_FRAGILITY_FRACTURE,
  OSTEOPOROTIC_FRACTURE_ANY_SITE,
  OSTEOPOROTIC_VERTEBRAL_FRACTURE,
  TRAUMATIC_VERTEBRAL_FRACTURE,
} from './terminology/condition-codes.ts';
import {
  DEPRESSION_REMISSION_TEXT,
  FRACTURE_TEXT,
  NON_VERTEBRAL_FRAGILITY_FRACTURE_TEXT,
  VERTEBRA_TEXT,
  VERTEBRAL_FRACTURE_TEXT,
} from './terminology/text-patterns.ts';
import { inSpineOrder, levelsInBodySites, levelsInTexts } from './vertebral-levels.ts';

export interface UsableCondition {
  resource: JsonObject;
  codings: readonly SafeCoding[];
  /** Clinical status active, recurrence or relapse (or no status and no abatement). */
  active: boolean;
  date?: string;
}

export interface VertebralFracture {
  levels: VertebralLevel[];
  date?: string;
  /** Coded only as a traumatic fracture (ICD-10-CM S22.0/S32.0, or a traumatic SNOMED CT code). */
  traumatic: boolean;
}

export interface FractureHistory {
  vertebral: VertebralFracture[];
  /**
   * Fragility fractures other than vertebral ones: hip, distal radius, proximal humerus, pelvis, an
   * osteoporotic fracture of another or an unnamed site, or a history code (Z87.310) without a site.
   */
  otherFragility: Array<{ date?: string }>;
}

const NOT_COUNTED_VERIFICATION = ['entered-in-error', 'refuted'];
const NOT_CONFIRMED_VERIFICATION = ['unconfirmed', 'provisional', 'differential'];
const ACTIVE_CLINICAL_STATUS = ['active', 'recurrence', 'relapse'];
const INACTIVE_CLINICAL_STATUS = ['inactive', 'remission', 'resolved'];

function statusCode(concept: unknown): string | undefined {
  return codings(concept).find((coding) => coding.code !== undefined)?.code;
}

/** Any of these says when the condition abated. */
const ABATEMENT_FIELDS = [
  'abatementDateTime',
  'abatementPeriod',
  'abatementAge',
  'abatementString',
  'abatementRange',
];

function isActive(resource: JsonObject): boolean {
  const clinical = statusCode(resource.clinicalStatus);
  if (clinical !== undefined && ACTIVE_CLINICAL_STATUS.includes(clinical)) return true;
  if (clinical !== undefined && INACTIVE_CLINICAL_STATUS.includes(clinical)) return false;
  return !ABATEMENT_FIELDS.some((name) => resource[name] !== undefined);
}

/**
 * Conditions that count: not entered in error, not refuted, and confirmed (a missing verification status
 * counts as confirmed; unconfirmed, provisional and differential do not), and not dated in the future.
 */
export function usableConditions(list: unknown, day: ClinicalDay, ledger: Ledger): UsableCondition[] {
  const usable: UsableCondition[] = [];
  eachResource(list, 'Condition', ledger, (resource) => {
    const verification = statusCode(resource.verificationStatus);
    if (verification && NOT_COUNTED_VERIFICATION.includes(verification)) {
      return ignore(ledger, 'Condition', 'verification-status', { status: verification });
    }
    if (verification && NOT_CONFIRMED_VERIFICATION.includes(verification)) {
      return ignore(ledger, 'Condition', 'not-confirmed', { status: verification });
    }
    const date =
      day.dateOf(resource.onsetDateTime) ??
      day.dateOf(field(resource.onsetPeriod, 'start')) ??
      day.dateOf(resource.recordedDate);
    if (date && isInFuture(date, day.today)) return ignore(ledger, 'Condition', 'future-date');
    usable.push({
      resource,
      codings: codings(resource.code),
      active: isActive(resource),
      ...(date ? { date } : {}),
    });
  });
  return usable;
}

function codedIn(condition: UsableCondition, valueSet: ValueSet): boolean {
  return anyCodingInValueSet(condition.codings, valueSet);
}

/** Whether an active condition of the value set is on record; inactive ones are recorded as not counting. */
export function hasActiveCondition(
  conditions: readonly UsableCondition[],
  valueSet: ValueSet,
  topic: IgnoredTopic,
  ledger: Ledger,
): boolean {
  let found = false;
  for (const condition of conditions.filter((c) => codedIn(c, valueSet))) {
    if (condition.active) found = true;
    else ignore(ledger, 'Condition', 'not-active', { topic });
  }
  return found;
}

/** A depression diagnosis in remission: a remission code, or its display or text says so. */
function inRemission(condition: UsableCondition): boolean {
  return (
    codedIn(condition, DEPRESSION_IN_REMISSION) ||
    affirms(conceptTexts(condition.resource.code), DEPRESSION_REMISSION_TEXT)
  );
}

/** An active, confirmed depression diagnosis not in remission (CLINICAL.md 1.1). */
export function hasActiveDepression(conditions: readonly UsableCondition[], ledger: Ledger): boolean {
  const current = conditions.filter((condition) => {
    if (!codedIn(condition, DEPRESSION) || !inRemission(condition)) return true;
    ignore(ledger, 'Condition', 'in-remission', { topic: 'depression' });
    return false;
  });
  return hasActiveCondition(current, DEPRESSION, 'depression', ledger);
}

function levelsFromIcd10(coded: readonly SafeCoding[]): VertebralLevel[] {
  return coded
    .filter((coding) => coding.system === SYSTEMS.icd10cm && coding.code !== undefined)
    .flatMap((coding) =>
      Object.entries(ICD10CM_VERTEBRAL_LEVEL_PREFIXES)
        .filter(([prefix]) => normaliseIcd10(coding.code as string).startsWith(normaliseIcd10(prefix)))
        .map(([, level]) => level as VertebralLevel),
    );
}

/** Vertebral levels a Condition names: body site, ICD-10-CM code, code text and notes. */
function conditionLevels(condition: UsableCondition): VertebralLevel[] {
  const { resource } = condition;
  return inSpineOrder([
    ...levelsInBodySites(resource.bodySite),
    ...levelsFromIcd10(condition.codings),
    ...levelsInTexts([...conceptTexts(resource.code), ...noteTexts(resource.note)]),
  ]);
}

type FractureKind = 'vertebral' | 'vertebral-traumatic' | 'other-fragility' | undefined;

/**
 * Words that every fracture pattern below needs (each names "fracture", 骨折 or a VCF): a Condition whose
 * texts hold none of them is not read three times for nothing. Without word boundaries: a superset.
 */
const MAY_NAME_A_FRACTURE = /fracture|骨折|vcf/i;

/** `levels` reads the Condition's vertebral levels when first asked: most Conditions are no fracture. */
function fractureKind(
  condition: UsableCondition,
  levels: () => readonly VertebralLevel[],
  ledger: Ledger,
): FractureKind {
  const { resource } = condition;
  const osteoporotic = codedIn(condition, OSTEOPOROTIC_VERTEBRAL_FRACTURE);
  if (osteoporotic || codedIn(condition, TRAUMATIC_VERTEBRAL_FRACTURE)) {
    return osteoporotic ? 'vertebral' : 'vertebral-traumatic';
  }
  const siteTexts = [...conceptTexts(resource.code), ...textsOfConcepts(listOf(resource.bodySite))];
  if (codedIn(condition, OSTEOPOROTIC_FRACTURE_ANY_SITE)) {
    return levels().length > 0 || affirms(siteTexts, VERTEBRA_TEXT) ? 'vertebral' : 'other-fragility';
  }
  if (
    codedIn(condition, NON_VERTEBRAL_FRAGILITY_FRACTURE) ||
    codedIn(condition, FRAGILITY_FRACTURE_HISTORY)
  ) {
    return 'other-fragility';
  }
  // An injury code alone is traumatic (CLINICAL.md 1.1): its words must not make it a fragility fracture.
  if (codedIn(condition, INJURY)) return undefined;
  const texts = [...siteTexts, ...noteTexts(resource.note)];
  if (!texts.some((words) => MAY_NAME_A_FRACTURE.test(words))) return undefined;
  if (affirms(texts, VERTEBRAL_FRACTURE_TEXT) || (affirms(texts, FRACTURE_TEXT) && levels().length > 0)) {
    recordTextMatch(ledger, 'Condition', { kind: 'vertebral-fracture' });
    return 'vertebral';
  }
  if (affirms(texts, NON_VERTEBRAL_FRAGILITY_FRACTURE_TEXT)) {
    recordTextMatch(ledger, 'Condition', { kind: 'fragility-fracture' });
    return 'other-fragility';
  }
  return undefined;
}

/**
 * Fracture history: resolved fractures count (a healed fracture is still history). A vertebral fracture
 * recorded twice (same kind, date and levels) counts once.
 */
export function readFractures(conditions: readonly UsableCondition[], ledger: Ledger): FractureHistory {
  const history: FractureHistory = { vertebral: [], otherFragility: [] };
  for (const condition of conditions) {
    let named: VertebralLevel[] | undefined;
    const levelsOf = () => {
      named ??= conditionLevels(condition);
      return named;
    };
    const kind = fractureKind(condition, levelsOf, ledger);
    const date = condition.date ? { date: condition.date } : {};
    if (kind === 'other-fragility') history.otherFragility.push(date);
    if (kind !== 'vertebral' && kind !== 'vertebral-traumatic') continue;
    const levels = levelsOf();
    const traumatic = kind === 'vertebral-traumatic';
    const duplicate = history.vertebral.some(
      (f) => f.traumatic === traumatic && f.date === condition.date && f.levels.join() === levels.join(),
    );
    if (duplicate) ignore(ledger, 'Condition', 'duplicate', { topic: 'vertebralFracture' });
    else history.vertebral.push({ levels, ...date, traumatic });
  }
  return history;
}
