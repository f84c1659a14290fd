/**
 * Treatment coverage (CLINICAL.md 1.1): whether a fracture-preventing drug is working today, judged per
 * drug from its most recent evidence, with a window per drug; the drugs that never count as coverage but
 * are in current use; and the denosumab gap.
 *
 * For a daily drug the most recent evidence decides, a stop included. For a drug given at intervals
 * (zoledronic acid, IV ibandronate, denosumab, romosozumab) the most recent dose or order decides: a
 * later stop does not undo an infusion already given.
 */
import { addMonths, latestFirst, wholeMonthsBetween } from './clinical-dates.ts';
import type { DrugEvidence } from './medication-evidence.ts';
import type {
  AntiOsteoporosisDrug,
  LastEvidence,
  NonPreventingDrug,
  NonPreventingUse,
  PatientFacts,
  TreatmentUse,
} from './patient-facts.ts';
import {
  ANTI_OSTEOPOROSIS_DRUGS,
  BISPHOSPHONATES,
  NON_PREVENTING_DRUGS,
} from './terminology/medication-codes.ts';

interface Window {
  /** Months an order, a statement or a dose keeps the patient covered. */
  months: number;
  /** Months after a dispense runs out (daily drugs); interval drugs count the hand-over as the dose. */
  afterRunOutMonths?: number;
  interval: boolean;
}

const DAILY_ORAL: Window = { months: 12, afterRunOutMonths: 3, interval: false };
const DAILY_ANABOLIC: Window = { months: 12, afterRunOutMonths: 2, interval: false };

/** CLINICAL.md 1.1, "Treatment coverage". Ibandronate is oral unless given by injection (3 mg IV every 3 months). */
function windowOf(drug: AntiOsteoporosisDrug, parenteral: boolean): Window {
  switch (drug) {
    case 'zoledronic-acid':
      return { months: 13, interval: true };
    case 'denosumab':
      return { months: 7, interval: true };
    case 'romosozumab':
      return { months: 2, interval: true };
    case 'ibandronate':
      return parenteral ? { months: 4, interval: true } : DAILY_ORAL;
    case 'teriparatide':
    case 'abaloparatide':
      return DAILY_ANABOLIC;
    default:
      return DAILY_ORAL;
  }
}

function coveredUntil(evidence: DrugEvidence, window: Window): string {
  if (evidence.source === 'dispense' && window.afterRunOutMonths !== undefined) {
    return addMonths(evidence.end ?? evidence.date, window.afterRunOutMonths);
  }
  return addMonths(evidence.date, window.months);
}

/** The most recent evidence; on the same day a stop wins over a use (the conservative reading). */
function newest(evidence: readonly DrugEvidence[]): DrugEvidence | undefined {
  const stopsFirst = [
    ...evidence.filter((e) => e.kind === 'stop'),
    ...evidence.filter((e) => e.kind === 'use'),
  ];
  return latestFirst(stopsFirst, (e) => e.date)[0];
}

function lastEvidence(evidence: DrugEvidence): LastEvidence {
  return { date: evidence.date, source: evidence.source, stopped: evidence.kind === 'stop' };
}

function isCovered(mine: readonly DrugEvidence[], drug: AntiOsteoporosisDrug, today: string): boolean {
  const latest = newest(mine);
  const latestUse = newest(mine.filter((e) => e.kind === 'use'));
  if (!latest || !latestUse) return false;
  const window = windowOf(drug, latestUse.parenteral);
  const deciding = window.interval ? latestUse : latest;
  return deciding.kind === 'use' && today <= coveredUntil(deciding, window);
}

export function treatmentCoverage(evidence: readonly DrugEvidence[], today: string): TreatmentUse[] {
  return ANTI_OSTEOPOROSIS_DRUGS.flatMap(({ drug }) => {
    const mine = evidence.filter((e) => e.drug === drug);
    const latest = newest(mine);
    return latest ? [{ drug, covered: isCovered(mine, drug, today), last: lastEvidence(latest) }] : [];
  });
}

/** Drugs that do not prevent fractures, used now by the windows of a daily oral drug: named on the card. */
export function nonPreventingInUse(evidence: readonly DrugEvidence[], today: string): NonPreventingUse[] {
  return NON_PREVENTING_DRUGS.flatMap(({ drug }) => {
    const latest = newest(evidence.filter((e) => e.drug === drug));
    const current = latest?.kind === 'use' && today <= coveredUntil(latest, DAILY_ORAL);
    return latest && current ? [{ drug: drug as NonPreventingDrug, last: lastEvidence(latest) }] : [];
  });
}

/**
 * Denosumab stopped or overdue: its last use (a dose, a dispense, an order or statement) is more than 7
 * months old, and no bisphosphonate covers the patient now or was used since (ECTS 2017).
 */
export function denosumabGap(
  evidence: readonly DrugEvidence[],
  coverage: readonly TreatmentUse[],
  today: string,
): PatientFacts['denosumabGap'] {
  const lastUse = newest(evidence.filter((e) => e.drug === 'denosumab' && e.kind === 'use'));
  if (!lastUse || coverage.some((use) => use.drug === 'denosumab' && use.covered)) return undefined;
  const successor = evidence.some(
    (e) =>
      BISPHOSPHONATES.includes(e.drug as AntiOsteoporosisDrug) &&
      e.kind === 'use' &&
      (e.date > lastUse.date || coverage.some((use) => use.drug === e.drug && use.covered)),
  );
  return successor
    ? undefined
    : { lastDose: lastUse.date, monthsSince: wholeMonthsBetween(lastUse.date, today) };
}
