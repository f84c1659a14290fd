/**
 * Diagnoses from Conditions: which ones count, active diagnoses (depression, anxiety, diabetes, long-term
 * steroids), vertebral fractures with their levels, and non-vertebral fragility fractures.
 */
import {
  codingInValueSet,
  FRACTURE_TEXT,
  ICD10CM_VERTEBRAL_LEVEL_PREFIXES,
  NON_VERTEBRAL_FRAGILITY_FRACTURE,
  NON_VERTEBRAL_FRAGILITY_FRACTURE_TEXT,
  normaliseIcd10,
  OSTEOPOROTIC_FRACTURE_ANY_SITE,
  OSTEOPOROTIC_VERTEBRAL_FRACTURE,
  SYSTEMS,
  TRAUMATIC_VERTEBRAL_FRACTURE,
  type ValueSet,
  VERTEBRA_TEXT,
  VERTEBRAL_FRACTURE_TEXT,
} from '../fhir/terminology.ts';
import { isInFuture, parseClinicalDate } from './clinical-dates.ts';
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
} from './fhir-reading.ts';
import type { VertebralLevel } from './patient-facts.ts';
import { inSpineOrder, levelsInBodySites, levelsInTexts } from './vertebral-levels.ts';

export interface UsableCondition {
  resource: JsonObject;
  codings: SafeCoding[];
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
  /** Hip, distal radius, proximal humerus, pelvis, or an osteoporotic fracture of an unnamed site. */
  nonVertebralFragility: Array<{ date?: string }>;
}

const NOT_COUNTED_VERIFICATION = ['entered-in-error', 'refuted'];
const NOT_CONFIRMED_VERIFICATION = ['unconfirmed', 'provisional', 'differential'];
const ACTIVE_CLINICAL_STATUS = ['active', 'recurrence', 'relapse'];
const INACTIVE_CLINICAL_STATUS = ['inactive', 'remission', 'resolved'];

function statusCode(concept: unknown): string | undefined {
  return codings(concept).find((coding) => coding.code !== undefined)?.code;
}

function isActive(resource: JsonObject): boolean {
  const clinical = statusCode(resource.clinicalStatus);
  if (clinical !== undefined && ACTIVE_CLINICAL_STATUS.includes(clinical)) return true;
  if (clinical !== undefined && INACTIVE_CLINICAL_STATUS.includes(clinical)) return false;
  const abated = [
    'abatementDateTime',
    'abatementPeriod',
    'abatementAge',
    'abatementString',
    'abatementRange',
  ];
  return !abated.some((name) => resource[name] !== undefined);
}

/**
 * Conditions that count: not entered in error, not refuted, and confirmed (a missing verification status
 * counts as confirmed; unconfirmed, provisional and differential do not), and not dated in the future.
 */
export function usableConditions(list: unknown, asOf: string, ledger: Ledger): UsableCondition[] {
  const usable: UsableCondition[] = [];
  eachResource(list, 'Condition', ledger, (resource) => {
    const verification = statusCode(resource.verificationStatus);
    if (verification && NOT_COUNTED_VERIFICATION.includes(verification)) {
      return ignore(ledger, 'Condition', `verification status ${verification}`);
    }
    if (verification && NOT_CONFIRMED_VERIFICATION.includes(verification)) {
      return ignore(ledger, 'Condition', `not confirmed (${verification})`);
    }
    const date = [resource.onsetDateTime, field(resource.onsetPeriod, 'start'), resource.recordedDate]
      .map((candidate) => parseClinicalDate(candidate))
      .find((candidate) => candidate !== undefined);
    if (date && isInFuture(date, asOf)) return ignore(ledger, 'Condition', 'dated in the future');
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
  return condition.codings.some((coding) => codingInValueSet(coding, valueSet));
}

/** Whether an active condition of the value set is on record; inactive ones are recorded as not counting. */
export function hasActiveCondition(
  conditions: readonly UsableCondition[],
  valueSet: ValueSet,
  label: string,
  ledger: Ledger,
): boolean {
  let found = false;
  for (const condition of conditions.filter((c) => codedIn(c, valueSet))) {
    if (condition.active) found = true;
    else ignore(ledger, 'Condition', `${label}: not active`);
  }
  return found;
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

type FractureKind = 'vertebral' | 'vertebral-traumatic' | 'non-vertebral' | undefined;

function fractureKind(
  condition: UsableCondition,
  levels: readonly VertebralLevel[],
  ledger: Ledger,
): FractureKind {
  const { resource } = condition;
  const osteoporotic = codedIn(condition, OSTEOPOROTIC_VERTEBRAL_FRACTURE);
  if (osteoporotic || codedIn(condition, TRAUMATIC_VERTEBRAL_FRACTURE)) {
    return osteoporotic ? 'vertebral' : 'vertebral-traumatic';
  }
  const siteTexts = [...conceptTexts(resource.code), ...listOf(resource.bodySite).flatMap(conceptTexts)];
  if (codedIn(condition, OSTEOPOROTIC_FRACTURE_ANY_SITE)) {
    return levels.length > 0 || affirms(siteTexts, VERTEBRA_TEXT) ? 'vertebral' : 'non-vertebral';
  }
  if (codedIn(condition, NON_VERTEBRAL_FRAGILITY_FRACTURE)) return 'non-vertebral';
  const texts = [...siteTexts, ...noteTexts(resource.note)];
  if (affirms(texts, VERTEBRAL_FRACTURE_TEXT) || (levels.length > 0 && affirms(texts, FRACTURE_TEXT))) {
    recordTextMatch(ledger, 'Condition', 'vertebral-fracture');
    return 'vertebral';
  }
  if (affirms(texts, NON_VERTEBRAL_FRAGILITY_FRACTURE_TEXT)) {
    recordTextMatch(ledger, 'Condition', 'fragility-fracture');
    return 'non-vertebral';
  }
  return undefined;
}

/**
 * Fracture history: resolved fractures count (a healed fracture is still history). A vertebral fracture
 * recorded twice (same kind, date and levels) counts once.
 */
export function readFractures(conditions: readonly UsableCondition[], ledger: Ledger): FractureHistory {
  const history: FractureHistory = { vertebral: [], nonVertebralFragility: [] };
  for (const condition of conditions) {
    const levels = conditionLevels(condition);
    const kind = fractureKind(condition, levels, ledger);
    const date = condition.date ? { date: condition.date } : {};
    if (kind === 'non-vertebral') history.nonVertebralFragility.push(date);
    if (kind !== 'vertebral' && kind !== 'vertebral-traumatic') continue;
    const traumatic = kind === 'vertebral-traumatic';
    const duplicate = history.vertebral.some(
      (f) => f.traumatic === traumatic && f.date === condition.date && f.levels.join() === levels.join(),
    );
    if (duplicate) ignore(ledger, 'Condition', 'vertebral fracture: duplicate');
    else history.vertebral.push({ levels, ...date, traumatic });
  }
  return history;
}
