/**
 * Measurements and scores from Observations: DXA T-scores (the Observation's value, or the components of a
 * DXA panel), BMI (recorded, or derived from weight and height), the PHQ-9 total, and tobacco smoking status.
 */
import { type ClinicalDay, daysBetween, isInFuture, latestFirst } from './clinical-dates.ts';
import {
  codesIn,
  codings,
  eachResource,
  field,
  ignore,
  isObject,
  type JsonObject,
  type Ledger,
  listOf,
  type SafeCoding,
  text,
} from './fhir-reading.ts';
import type { IgnoredTopic, PatientFacts, TScore } from './patient-facts.ts';
import { SYSTEMS } from './terminology/code-systems.ts';
import { DXA_TSCORE_SITES, LOINC, SMOKING_STATUS_ANSWERS } from './terminology/observation-codes.ts';

export interface UsableObservation {
  resource: JsonObject;
  /** The codings of its code, read once for every reader of Observations. */
  codings: readonly SafeCoding[];
  date?: string;
}

/** Statuses whose results do not count: withdrawn, erroneous, or not yet (or not fully) resulted. */
const NOT_COUNTED_STATUSES = ['entered-in-error', 'cancelled', 'preliminary', 'registered'];

/** CLINICAL.md 1.1: T-scores outside −7 … +4 are implausible and ignored. */
const T_SCORE_RANGE = { min: -7, max: 4 };
const BMI_RANGE = { min: 10, max: 80 };
const WEIGHT_KG_RANGE = { min: 20, max: 350 };
const HEIGHT_CM_RANGE = { min: 100, max: 230 };
const T_SCORE_WINDOW_DAYS = 730;
const PHQ9_WINDOW_DAYS = 365;
const WEIGHT_HEIGHT_MAX_DAYS_APART = 365;

const KG_PER_UNIT: Readonly<Record<string, number>> = {
  kg: 1,
  kilogram: 1,
  kilograms: 1,
  公斤: 1,
  千克: 1,
  g: 0.001,
  '[lb_av]': 0.45359237,
  lb: 0.45359237,
  lbs: 0.45359237,
  pound: 0.45359237,
  pounds: 0.45359237,
};

const CM_PER_UNIT: Readonly<Record<string, number>> = {
  cm: 1,
  centimeter: 1,
  centimeters: 1,
  厘米: 1,
  m: 100,
  meter: 100,
  米: 100,
  mm: 0.1,
  '[in_i]': 2.54,
  in: 2.54,
  inch: 2.54,
  inches: 2.54,
};

/** The first of effectiveDateTime, effectivePeriod.start/end, effectiveInstant, issued. */
function observationDate(resource: JsonObject, day: ClinicalDay): string | undefined {
  const period = resource.effectivePeriod;
  return (
    day.dateOf(resource.effectiveDateTime) ??
    day.dateOf(field(period, 'start')) ??
    day.dateOf(field(period, 'end')) ??
    day.dateOf(resource.effectiveInstant) ??
    day.dateOf(resource.issued)
  );
}

/** Observations that count: a counted status and not dated in the future. */
export function usableObservations(list: unknown, day: ClinicalDay, ledger: Ledger): UsableObservation[] {
  const usable: UsableObservation[] = [];
  eachResource(list, 'Observation', ledger, (resource) => {
    const status = text(resource.status);
    if (status && NOT_COUNTED_STATUSES.includes(status))
      return ignore(ledger, 'Observation', 'status', { status });
    const date = observationDate(resource, day);
    if (date && isInFuture(date, day.today)) return ignore(ledger, 'Observation', 'future-date');
    const coded = codings(resource.code);
    usable.push(date ? { resource, codings: coded, date } : { resource, codings: coded });
  });
  return usable;
}

function loincCodes(coded: readonly SafeCoding[]): string[] {
  const codes: string[] = [];
  for (const { system, code } of coded) if (code !== undefined && system === SYSTEMS.loinc) codes.push(code);
  return codes;
}

/** One number in a text: "-2.7", "−2.7", "T-score: -2.7", "-2,7", "65 kg". Vertebral levels are not numbers. */
export function numberInText(words: string): { value: number; rest: string } | undefined {
  const normalised = words
    .replace(/[\u2212\u2012\u2013\uFE63\uFF0D]/g, '-')
    .replace(/(?<![A-Za-z])(Th|[CTLS])\d{1,2}(?!\d)/gi, ' ');
  const numbers = [...normalised.matchAll(/[-+]?\d+(?:[.,]\d+)?/g)];
  const only = numbers.length === 1 ? numbers[0] : undefined;
  if (!only) return undefined;
  const value = Number(only[0].replace(',', '.'));
  const rest = normalised.slice(only.index + only[0].length).trim();
  return Number.isFinite(value) ? { value, rest } : undefined;
}

interface Measured {
  value: number;
  unit?: string;
}

/** The numeric value of an Observation or a component, with its unit if written. */
function measuredValue(source: unknown): Measured | 'unparseable' | undefined {
  const quantity = field(source, 'valueQuantity');
  if (isObject(quantity)) {
    const unit = text(quantity.code) ?? text(quantity.unit);
    const raw = quantity.value;
    const parsed =
      typeof raw === 'number' ? raw : typeof raw === 'string' ? numberInText(raw)?.value : undefined;
    if (parsed === undefined || !Number.isFinite(parsed)) return 'unparseable';
    return unit ? { value: parsed, unit } : { value: parsed };
  }
  for (const name of ['valueInteger', 'valueDecimal']) {
    const raw = field(source, name);
    if (typeof raw === 'number' && Number.isFinite(raw)) return { value: raw };
    if (raw !== undefined) return 'unparseable';
  }
  const words = text(field(source, 'valueString'));
  if (words === undefined) return undefined;
  const found = numberInText(words);
  if (!found) return 'unparseable';
  return found.rest ? { value: found.value, unit: found.rest } : { value: found.value };
}

function inRange(value: number, range: { min: number; max: number }): boolean {
  return value >= range.min && value <= range.max;
}

function convert(measured: Measured, factors: Readonly<Record<string, number>>): number | undefined {
  const factor = measured.unit === undefined ? undefined : factors[measured.unit.trim().toLowerCase()];
  return factor === undefined ? undefined : measured.value * factor;
}

interface Dated {
  value: number;
  date: string;
}

type ObservationFacts = Pick<PatientFacts, 'tScores' | 'bmi' | 'phq9'> & {
  lowestTScore?: number;
  currentSmoker?: boolean;
};

/** The site of the first T-score code among LOINC codes. */
function tScoreSite(codes: readonly string[]): TScore['site'] | undefined {
  for (const code of codes) {
    const site = DXA_TSCORE_SITES[code];
    if (site !== undefined) return site;
  }
  return undefined;
}

/** Read T-scores, BMI, PHQ-9 and smoking status from usable Observations. */
export function readObservations(
  observations: readonly UsableObservation[],
  asOf: string,
  ledger: Ledger,
): ObservationFacts {
  const tScores: TScore[] = [];
  const bmis: Dated[] = [];
  const weights: Dated[] = [];
  const heights: Dated[] = [];
  const phq9s: Dated[] = [];
  const smoking: Array<{ date?: string; current?: boolean }> = [];

  const numeric = (source: unknown, topic: IgnoredTopic): Measured | undefined => {
    const measured = measuredValue(source);
    if (measured === 'unparseable') ignore(ledger, 'Observation', 'not-a-number', { topic });
    if (measured === undefined) ignore(ledger, 'Observation', 'no-value', { topic });
    return typeof measured === 'object' ? measured : undefined;
  };
  const dated = (date: string | undefined, topic: IgnoredTopic): date is string => {
    if (date === undefined) ignore(ledger, 'Observation', 'no-date', { topic });
    return date !== undefined;
  };
  const addTScore = (site: TScore['site'], source: unknown, date: string | undefined) => {
    const measured = numeric(source, 'tScore');
    if (!measured || !dated(date, 'tScore')) return;
    if (!inRange(measured.value, T_SCORE_RANGE)) {
      ignore(ledger, 'Observation', 'implausible', { topic: 'tScore' });
    } else if (tScores.some((t) => t.site === site && t.value === measured.value && t.date === date)) {
      ignore(ledger, 'Observation', 'duplicate', { topic: 'tScore' });
    } else {
      tScores.push({ site, value: measured.value, date });
    }
  };

  for (const { resource, codings: coded, date } of observations) {
    const codes = loincCodes(coded);
    const site = tScoreSite(codes);
    const siteComponents: Array<{ site: TScore['site']; component: unknown }> = [];
    for (const component of listOf(resource.component)) {
      const componentSite = tScoreSite(codesIn(field(component, 'code'), SYSTEMS.loinc));
      if (componentSite) siteComponents.push({ site: componentSite, component });
    }
    if (site || siteComponents.length > 0) {
      // A T-score Observation's own value, and every T-score a DXA panel reports as a component.
      if (site && (siteComponents.length === 0 || measuredValue(resource) !== undefined)) {
        addTScore(site, resource, date);
      }
      for (const { site: componentSite, component } of siteComponents)
        addTScore(componentSite, component, date);
    } else if (codes.includes(LOINC.bmi)) {
      const measured = numeric(resource, 'bmi');
      if (!measured || !dated(date, 'bmi')) continue;
      if (inRange(measured.value, BMI_RANGE)) bmis.push({ value: measured.value, date });
      else ignore(ledger, 'Observation', 'implausible', { topic: 'bmi' });
    } else if (codes.includes(LOINC.bodyWeight) || codes.includes(LOINC.bodyHeight)) {
      const isWeight = codes.includes(LOINC.bodyWeight);
      const topic = isWeight ? 'bodyWeight' : 'bodyHeight';
      const measured = numeric(resource, topic);
      if (!measured || !dated(date, topic)) continue;
      const value = convert(measured, isWeight ? KG_PER_UNIT : CM_PER_UNIT);
      if (value === undefined) {
        ignore(ledger, 'Observation', 'unit-unknown', { topic });
      } else if (!inRange(value, isWeight ? WEIGHT_KG_RANGE : HEIGHT_CM_RANGE)) {
        ignore(ledger, 'Observation', 'implausible', { topic });
      } else if (isWeight) {
        weights.push({ value, date });
      } else {
        heights.push({ value, date });
      }
    } else if (codes.includes(LOINC.phq9Total) || codes.includes(LOINC.phq9Panel)) {
      const totalComponent = listOf(resource.component).find((c) =>
        codesIn(field(c, 'code'), SYSTEMS.loinc).includes(LOINC.phq9Total),
      );
      const panelOnly = !codes.includes(LOINC.phq9Total) && totalComponent === undefined;
      // A panel of item answers only: its total, if any, is a separate Observation.
      if (panelOnly && measuredValue(resource) === undefined) continue;
      const measured = numeric(totalComponent ?? resource, 'phq9');
      if (!measured || !dated(date, 'phq9')) continue;
      if (Number.isInteger(measured.value) && inRange(measured.value, { min: 0, max: 27 })) {
        phq9s.push({ value: measured.value, date });
      } else ignore(ledger, 'Observation', 'implausible', { topic: 'phq9' });
    } else if (codes.includes(LOINC.tobaccoSmokingStatus)) {
      const answer = codesIn(resource.valueCodeableConcept, SYSTEMS.snomed)
        .map((code) => SMOKING_STATUS_ANSWERS[code])
        .find((status) => status !== undefined);
      const current =
        answer === 'current' ? true : answer === 'former' || answer === 'never' ? false : undefined;
      smoking.push({ ...(date ? { date } : {}), ...(current === undefined ? {} : { current }) });
    }
  }

  const recentTScores = tScores.filter((t) => daysBetween(t.date, asOf) <= T_SCORE_WINDOW_DAYS);
  const recentPhq9 = latestFirst(phq9s, (p) => p.date).find(
    (p) => daysBetween(p.date, asOf) <= PHQ9_WINDOW_DAYS,
  );
  const bmi = chooseBmi(bmis, weights, heights);
  const currentSmoker = latestFirst(smoking, (s) => s.date)[0]?.current;
  return {
    tScores,
    ...(recentTScores.length > 0 ? { lowestTScore: Math.min(...recentTScores.map((t) => t.value)) } : {}),
    ...(bmi ? { bmi } : {}),
    ...(recentPhq9 ? { phq9: { value: recentPhq9.value, date: recentPhq9.date } } : {}),
    ...(currentSmoker === undefined ? {} : { currentSmoker }),
  };
}

/** The height measured nearest a date and within a year of it; of equally near ones, the first on record. */
function heightNear(heights: readonly Dated[], date: string): Dated | undefined {
  let nearest: Dated | undefined;
  let nearestDays = WEIGHT_HEIGHT_MAX_DAYS_APART + 1;
  for (const height of heights) {
    const days = Math.abs(daysBetween(height.date, date));
    if (days < nearestDays) {
      nearest = height;
      nearestDays = days;
    }
  }
  return nearest;
}

/** The latest recorded BMI, or one derived from the latest weight and a height measured within a year of it. */
function chooseBmi(bmis: Dated[], weights: Dated[], heights: Dated[]): PatientFacts['bmi'] {
  const recorded = latestFirst(bmis, (b) => b.date)[0];
  const weight = latestFirst(weights, (w) => w.date)[0];
  const height = weight ? heightNear(heights, weight.date) : undefined;
  const derivedValue = weight && height ? weight.value / (height.value / 100) ** 2 : undefined;
  const derived =
    weight && derivedValue !== undefined && inRange(derivedValue, BMI_RANGE)
      ? { value: Math.round(derivedValue * 10) / 10, date: weight.date, derived: true }
      : undefined;
  if (recorded && (!derived || recorded.date >= derived.date)) {
    return { value: recorded.value, date: recorded.date, derived: false };
  }
  return derived;
}
