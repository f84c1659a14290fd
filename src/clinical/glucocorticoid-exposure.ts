/**
 * Systemic glucocorticoid exposure (CLINICAL.md 1.1): "long-term" is systemic use covering 90 days or more
 * of the last 12 months, from orders, statements, doses and dispenses together. An order for a single
 * dose or for a course of 14 days or less, and a stated dose below 2.5 mg/day prednisone-equivalent
 * (ACR 2022), never count; fourteen-day refills dispensed back to back do. A drafted glucocorticoid warns unless it is a single dose or a course of 14 days or less, and
 * counts in the re-fracture score only when planned for 90 days or more, or not stated.
 */
import { addDays, daysBetween } from './clinical-dates.ts';
import { ignore, type Ledger } from './fhir-reading.ts';
import type { Course, DrugEvidence } from './medication-evidence.ts';
import type { DraftGlucocorticoid, Glucocorticoid, GlucocorticoidExposure } from './patient-facts.ts';
import { GLUCOCORTICOIDS, PREDNISONE_EQUIVALENT } from './terminology/medication-codes.ts';

const LONG_TERM_DAYS = 90;
const SHORT_COURSE_DAYS = 14;
const WINDOW_DAYS = 365;
/** ACR 2022 GIOP: below this daily dose (prednisone-equivalent mg) use does not count. */
const LOW_DOSE_MG = 2.5;

function lowDose(drug: Glucocorticoid, course: Course): boolean {
  return course.dailyMg !== undefined && course.dailyMg * PREDNISONE_EQUIVALENT[drug] < LOW_DOSE_MG;
}

function shortCourse(course: Course): boolean {
  return course.plannedDays !== undefined && course.plannedDays <= SHORT_COURSE_DAYS;
}

/** The days of use one entry shows, as an inclusive [from, to] interval; undefined when it does not count. */
function interval(evidence: DrugEvidence, today: string): [string, string] | undefined {
  const from = evidence.start ?? evidence.date;
  if (evidence.source === 'administration') return [from, evidence.end ?? from];
  const to = evidence.ongoing
    ? evidence.end !== undefined && evidence.end < today
      ? evidence.end
      : today
    : evidence.end;
  return [from, to ?? from];
}

/** Distinct days covered by the intervals within [windowStart, today]. */
function daysCovered(intervals: ReadonlyArray<[string, string]>, today: string): number {
  const windowStart = addDays(today, -(WINDOW_DAYS - 1));
  const clipped = intervals
    .map(([from, to]): [string, string] => [from < windowStart ? windowStart : from, to > today ? today : to])
    .filter(([from, to]) => from <= to)
    .sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  let total = 0;
  let current: [string, string] | undefined;
  for (const next of clipped) {
    if (current && next[0] <= addDays(current[1], 1)) {
      if (next[1] > current[1]) current[1] = next[1];
      continue;
    }
    if (current) total += daysBetween(current[0], current[1]) + 1;
    current = [...next];
  }
  if (current) total += daysBetween(current[0], current[1]) + 1;
  return total;
}

/** Exposure per glucocorticoid in the last 12 months; entries that never count are recorded in the ledger. */
export function glucocorticoidExposure(
  evidence: readonly DrugEvidence[],
  today: string,
  ledger: Ledger,
): GlucocorticoidExposure[] {
  return GLUCOCORTICOIDS.flatMap(({ drug }) => {
    const mine = evidence.filter((e) => e.drug === drug);
    if (mine.length === 0) return [];
    const counted = mine.flatMap((e) => {
      const { resourceType } = e;
      // A single dose or a short course is what an order plans; a dispense's supply or a statement's span is use.
      const planned = e.source === 'order';
      if (planned && e.course.singleDose) {
        ignore(ledger, resourceType, 'single-dose', { topic: 'glucocorticoid' });
        return [];
      }
      if (planned && shortCourse(e.course)) {
        ignore(ledger, resourceType, 'short-course', { topic: 'glucocorticoid' });
        return [];
      }
      if (lowDose(drug, e.course)) {
        ignore(ledger, resourceType, 'low-dose', { topic: 'glucocorticoid' });
        return [];
      }
      const days = interval(e, today);
      return days ? [days] : [];
    });
    const days = daysCovered(counted, today);
    return [{ drug, days, longTerm: days >= LONG_TERM_DAYS }];
  });
}

/** What a drafted glucocorticoid means for the order warning and the re-fracture score. */
export function draftGlucocorticoid(drug: Glucocorticoid, course: Course): DraftGlucocorticoid {
  const brief = course.singleDose || shortCourse(course);
  const planned = course.plannedDays;
  return {
    drug,
    ...(planned !== undefined ? { plannedDays: planned } : {}),
    singleDose: course.singleDose,
    warns: !brief,
    longTermIfContinued:
      !brief && !lowDose(drug, course) && (planned === undefined || planned >= LONG_TERM_DAYS),
  };
}
