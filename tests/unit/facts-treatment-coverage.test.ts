/**
 * Treatment coverage (CLINICAL.md 1.1, "Treatment coverage"; decisions-1.1.md): per drug, the most recent
 * evidence decides, with a window per drug. Evaluated on 2026-11-22 in the clinic's time zone; "months" are
 * calendar months, and coverage holds while the evaluation date is on or before the "covered until" date.
 */
import type {
  CodeableConcept,
  MedicationAdministration,
  MedicationDispense,
  MedicationRequest,
  MedicationStatement,
} from 'fhir/r4';
import { describe, expect, it } from 'vitest';
import { extractFacts } from '../../src/clinical/facts.ts';
import type { PatientRecord } from '../../src/clinical/patient-facts.ts';
import { record } from '../support/patient-record.ts';

/** 10:00 on 2026-11-22 in Shanghai. */
const NOW = new Date('2026-11-22T02:00:00Z');
const ZONE = 'Asia/Shanghai';
const SNOMED = 'http://snomed.info/sct';
const RXNORM = 'http://www.nlm.nih.gov/research/umls/rxnorm';
const UCUM = 'http://unitsofmeasure.org';
const subject = { reference: 'Patient/p1' };

const named = (text: string): CodeableConcept => ({ text });
const intravenous = { coding: [{ system: SNOMED, code: '47625008', display: 'Intravenous route' }] };
const subcutaneous = { coding: [{ system: SNOMED, code: '34206005', display: 'Subcutaneous route' }] };

const ALENDRONATE = named('alendronic acid 70 MG Oral Tablet');
const ORAL_IBANDRONATE = named('ibandronate 150 MG Oral Tablet');
const IV_IBANDRONATE = named('ibandronate 3 MG/3ML Injection');
const ZOLEDRONIC_ACID = named('zoledronic acid 5 MG/100ML Injectable Solution [Reclast]');
const DENOSUMAB: CodeableConcept = {
  coding: [{ system: RXNORM, code: '993452', display: '1 ML denosumab 60 MG/ML Prefilled Syringe [Prolia]' }],
  text: 'Prolia 60 mg prefilled syringe',
};
const ROMOSOZUMAB = named('romosozumab-aqqg 105 MG/1.17ML Prefilled Syringe [Evenity]');
const TERIPARATIDE = named('teriparatide 0.25 MG/ML Injector Pen [Forteo]');

function order(medication: CodeableConcept, authoredOn: string, fields: Partial<MedicationRequest> = {}) {
  const request: MedicationRequest = {
    resourceType: 'MedicationRequest',
    status: 'active',
    intent: 'order',
    subject,
    medicationCodeableConcept: medication,
    authoredOn,
    ...fields,
  };
  return request;
}

function dispense(
  medication: CodeableConcept,
  whenHandedOver: string,
  daysSupply?: number,
  fields: Partial<MedicationDispense> = {},
) {
  const handedOver: MedicationDispense = {
    resourceType: 'MedicationDispense',
    status: 'completed',
    subject,
    medicationCodeableConcept: medication,
    whenHandedOver,
    ...(daysSupply === undefined
      ? {}
      : { daysSupply: { value: daysSupply, unit: 'days', system: UCUM, code: 'd' } }),
    ...fields,
  };
  return handedOver;
}

function dose(
  medication: CodeableConcept,
  effectiveDateTime: string,
  fields: Partial<MedicationAdministration> = {},
) {
  const given: MedicationAdministration = {
    resourceType: 'MedicationAdministration',
    status: 'completed',
    subject,
    medicationCodeableConcept: medication,
    effectiveDateTime,
    ...fields,
  };
  return given;
}

function statement(medication: CodeableConcept, fields: Partial<MedicationStatement>) {
  const stated: MedicationStatement = {
    resourceType: 'MedicationStatement',
    status: 'active',
    subject,
    medicationCodeableConcept: medication,
    ...fields,
  };
  return stated;
}

const facts = (medications: PatientRecord['medications']) => extractFacts(record({ medications }), NOW, ZONE);
const coverage = (medications: PatientRecord['medications']) =>
  Object.fromEntries(facts(medications).antiOsteoporosis.map((use) => [use.drug, use.covered]));

describe('oral bisphosphonates and SERMs: 12 months from an order, 3 months after a dispense runs out', () => {
  it('covers with an alendronate order 11 months old', () => {
    const f = facts([order(ALENDRONATE, '2025-12-22')]);
    expect(f.antiOsteoporosis).toEqual([
      { drug: 'alendronate', covered: true, last: { date: '2025-12-22', source: 'order', stopped: false } },
    ]);
    expect(f.features.noAntiOsteoporosisDrug).toBe(false);
  });

  it('does not cover with an active alendronate order 13 months old, and keeps it as the last evidence', () => {
    const f = facts([order(ALENDRONATE, '2025-10-22')]);
    // The card says "last evidence of alendronate: 2025-10 (order); confirm the patient still takes it".
    expect(f.antiOsteoporosis).toEqual([
      { drug: 'alendronate', covered: false, last: { date: '2025-10-22', source: 'order', stopped: false } },
    ]);
    expect(f.features.noAntiOsteoporosisDrug).toBe(true);
  });

  it('covers up to and including the day 12 months after the order', () => {
    expect(coverage([order(ALENDRONATE, '2025-11-22')])).toEqual({ alendronate: true });
    expect(coverage([order(ALENDRONATE, '2025-11-21')])).toEqual({ alendronate: false });
  });

  it('dates an order by the end of its validity period (capped at today), not by when it was written', () => {
    const renewed = order(ALENDRONATE, '2025-06-01', {
      dispenseRequest: { validityPeriod: { start: '2025-06-01', end: '2026-06-01' } },
    });
    expect(facts([renewed]).antiOsteoporosis).toEqual([
      { drug: 'alendronate', covered: true, last: { date: '2026-06-01', source: 'order', stopped: false } },
    ]);
    const openEnded = order(ALENDRONATE, '2024-01-01', {
      dispenseRequest: { validityPeriod: { start: '2024-01-01', end: '2027-12-31' } },
    });
    expect(facts([openEnded]).antiOsteoporosis[0]?.last.date).toBe('2026-11-22');
  });

  it('covers a 28-day dispense handed over 3 months and a week ago: it ran out less than 3 months ago', () => {
    const f = facts([dispense(ALENDRONATE, '2026-08-15', 28)]);
    expect(f.antiOsteoporosis).toEqual([
      {
        drug: 'alendronate',
        covered: true,
        last: { date: '2026-08-15', source: 'dispense', stopped: false },
      },
    ]);
  });

  it('does not cover a 28-day dispense that ran out more than 3 months ago', () => {
    // Handed over 2026-07-15, runs out mid-August: 3 months after that is mid-November.
    expect(coverage([dispense(ALENDRONATE, '2026-07-15', 28)])).toEqual({ alendronate: false });
  });

  it('converts a days supply given in weeks', () => {
    const twelveWeeks = dispense(ALENDRONATE, '2026-06-01', undefined, {
      daysSupply: { value: 12, unit: 'weeks', system: UCUM, code: 'wk' },
    });
    // Runs out late August 2026: covered until late November.
    expect(coverage([twelveWeeks])).toEqual({ alendronate: true });
  });

  it('reads the supply of a dispense without daysSupply from quantity ÷ dose, else as the day handed over', () => {
    // 4 weekly tablets handed over 2026-08-15 last 28 days: they run out 2026-09-11, covered to 2026-12-11.
    const weekly = [
      {
        timing: { repeat: { frequency: 1, period: 1, periodUnit: 'wk' as const } },
        doseAndRate: [{ doseQuantity: { value: 1, unit: 'tablet' } }],
      },
    ];
    const fourTablets = dispense(ALENDRONATE, '2026-08-15', undefined, {
      quantity: { value: 4, unit: 'tablet' },
      dosageInstruction: weekly,
    });
    expect(coverage([fourTablets])).toEqual({ alendronate: true });
    // With neither daysSupply nor a quantity to divide: runs out the day handed over, covered to 2026-11-15.
    const unknownSupply = dispense(ALENDRONATE, '2026-08-15', undefined, { dosageInstruction: weekly });
    expect(coverage([unknownSupply])).toEqual({ alendronate: false });
  });

  it('uses the 12-month order window for oral ibandronate', () => {
    expect(coverage([order(ORAL_IBANDRONATE, '2026-07-07')])).toEqual({ ibandronate: true });
    expect(coverage([order(ORAL_IBANDRONATE, '2025-12-22')])).toEqual({ ibandronate: true });
    expect(coverage([order(ORAL_IBANDRONATE, '2025-10-22')])).toEqual({ ibandronate: false });
  });

  it('covers with a raloxifene statement asserted 10 months ago, not one asserted 14 months ago', () => {
    const taking = (dateAsserted: string) =>
      statement(named('raloxifene hydrochloride 60 MG Oral Tablet'), {
        effectivePeriod: { start: '2023-01-01' },
        dateAsserted,
      });
    expect(facts([taking('2026-01-10')]).antiOsteoporosis).toEqual([
      {
        drug: 'raloxifene',
        covered: true,
        last: { date: '2026-01-10', source: 'statement', stopped: false },
      },
    ]);
    expect(coverage([taking('2025-09-10')])).toEqual({ raloxifene: false });
  });

  it('reads bazedoxifene as a SERM with the same windows', () => {
    const duavee = named('conjugated estrogens 0.45 MG / bazedoxifene 20 MG Oral Tablet [Duavee]');
    expect(coverage([order(duavee, '2026-03-01')])).toEqual({ bazedoxifene: true });
    expect(coverage([order(duavee, '2025-09-01')])).toEqual({ bazedoxifene: false });
    expect(coverage([dispense(duavee, '2026-07-15', 28)])).toEqual({ bazedoxifene: false });
  });
});

describe('zoledronic acid: 13 months after the yearly infusion', () => {
  it('covers with an infusion 12.5 months ago, beyond the 12 months of a daily drug', () => {
    const f = facts([dose(ZOLEDRONIC_ACID, '2025-11-07', { dosage: { route: intravenous } })]);
    expect(f.antiOsteoporosis).toEqual([
      {
        drug: 'zoledronic-acid',
        covered: true,
        last: { date: '2025-11-07', source: 'administration', stopped: false },
      },
    ]);
    expect(f.features.noAntiOsteoporosisDrug).toBe(false);
  });

  it('does not cover with an infusion 13.5 months ago', () => {
    expect(coverage([dose(ZOLEDRONIC_ACID, '2025-10-07')])).toEqual({ 'zoledronic-acid': false });
  });

  it('counts a dispense as given on the day it was handed over', () => {
    expect(coverage([dispense(ZOLEDRONIC_ACID, '2025-11-07')])).toEqual({ 'zoledronic-acid': true });
    expect(coverage([dispense(ZOLEDRONIC_ACID, '2025-10-07')])).toEqual({ 'zoledronic-acid': false });
  });

  it('is not undone by a later stopped order: the infusion was given', () => {
    const f = facts([
      dose(ZOLEDRONIC_ACID, '2026-03-01'),
      order(ZOLEDRONIC_ACID, '2026-06-01', { status: 'stopped' }),
    ]);
    expect(f.antiOsteoporosis).toEqual([
      {
        drug: 'zoledronic-acid',
        covered: true,
        last: { date: '2026-06-01', source: 'order', stopped: true },
      },
    ]);
    expect(f.features.noAntiOsteoporosisDrug).toBe(false);
  });
});

describe('IV ibandronate: 4 months after the 3-monthly injection', () => {
  it('covers with an injection 3.5 months ago, not 4.5 months ago (injection in the product name)', () => {
    expect(coverage([dose(IV_IBANDRONATE, '2026-08-07')])).toEqual({ ibandronate: true });
    expect(coverage([dose(IV_IBANDRONATE, '2026-07-07')])).toEqual({ ibandronate: false });
  });

  it('reads ibandronate with an intravenous route as the IV regimen', () => {
    const byRoute = (date: string) =>
      order(named('ibandronate sodium'), date, { dosageInstruction: [{ route: intravenous }] });
    expect(coverage([byRoute('2026-08-07')])).toEqual({ ibandronate: true });
    expect(coverage([byRoute('2026-07-07')])).toEqual({ ibandronate: false });
  });

  it('keeps the 12-month window for oral ibandronate given on the same day', () => {
    expect(coverage([dose(ORAL_IBANDRONATE, '2026-07-07')])).toEqual({ ibandronate: true });
  });
});

describe('denosumab: 7 months after the 6-monthly injection', () => {
  it('covers with an injection 6.5 months ago, with no gap', () => {
    const f = facts([dose(DENOSUMAB, '2026-05-07', { dosage: { route: subcutaneous } })]);
    expect(f.antiOsteoporosis).toEqual([
      {
        drug: 'denosumab',
        covered: true,
        last: { date: '2026-05-07', source: 'administration', stopped: false },
      },
    ]);
    expect(f.denosumabGap).toBeUndefined();
  });

  it('does not cover with an injection 7.5 months ago, and gives the gap: last dose and months since', () => {
    const f = facts([dose(DENOSUMAB, '2025-10-07'), dose(DENOSUMAB, '2026-04-07')]);
    expect(f.antiOsteoporosis).toEqual([
      {
        drug: 'denosumab',
        covered: false,
        last: { date: '2026-04-07', source: 'administration', stopped: false },
      },
    ]);
    expect(f.denosumabGap).toEqual({ lastDose: '2026-04-07', monthsSince: 7 });
    expect(f.features.noAntiOsteoporosisDrug).toBe(true);
  });

  it('is not reset by a later stopped order: the gap counts from the last dose', () => {
    const f = facts([dose(DENOSUMAB, '2026-04-07'), order(DENOSUMAB, '2026-06-01', { status: 'stopped' })]);
    expect(f.denosumabGap).toEqual({ lastDose: '2026-04-07', monthsSince: 7 });
    expect(f.antiOsteoporosis[0]).toMatchObject({
      covered: false,
      last: { date: '2026-06-01', stopped: true },
    });
  });

  it('has no gap when a bisphosphonate was started after the last dose, covered now or not', () => {
    const infusion = facts([dose(DENOSUMAB, '2026-04-07'), dose(ZOLEDRONIC_ACID, '2026-06-01')]);
    expect(infusion.denosumabGap).toBeUndefined();
    expect(infusion.features.noAntiOsteoporosisDrug).toBe(false);
    // One 28-day alendronate dispense in May: run out and past its window now, but used since.
    const tablets = facts([dose(DENOSUMAB, '2026-04-07'), dispense(ALENDRONATE, '2026-05-10', 28)]);
    expect(tablets.antiOsteoporosis.find((u) => u.drug === 'alendronate')?.covered).toBe(false);
    expect(tablets.denosumabGap).toBeUndefined();
  });

  it('keeps the gap when the bisphosphonate came before the last dose and no longer covers', () => {
    const f = facts([order(ALENDRONATE, '2024-01-10'), dose(DENOSUMAB, '2026-04-07')]);
    expect(f.denosumabGap).toEqual({ lastDose: '2026-04-07', monthsSince: 7 });
  });

  it('keeps the gap after a switch to raloxifene, which is not an anti-resorptive successor', () => {
    const f = facts([
      dose(DENOSUMAB, '2026-04-07'),
      order(named('raloxifene 60 MG Oral Tablet'), '2026-06-01'),
    ]);
    expect(f.denosumabGap).toEqual({ lastDose: '2026-04-07', monthsSince: 7 });
    expect(f.features.noAntiOsteoporosisDrug).toBe(false);
  });
});

describe('romosozumab: 2 months after the monthly injection', () => {
  it('covers with an injection 1.5 months ago, not 2.5 months ago', () => {
    expect(coverage([dose(ROMOSOZUMAB, '2026-10-07')])).toEqual({ romosozumab: true });
    expect(coverage([dose(ROMOSOZUMAB, '2026-09-07')])).toEqual({ romosozumab: false });
  });

  it('gives an order no more than 2 months either', () => {
    expect(coverage([order(ROMOSOZUMAB, '2026-10-07')])).toEqual({ romosozumab: true });
    expect(coverage([order(ROMOSOZUMAB, '2026-08-07')])).toEqual({ romosozumab: false });
  });
});

describe('teriparatide: 12 months from an order, 2 months after a dispense runs out', () => {
  it('does not cover a 28-day pen that ran out more than 2 months ago, where alendronate would still cover', () => {
    // Handed over 2026-08-10, runs out early September: + 2 months is early November, + 3 early December.
    expect(coverage([dispense(TERIPARATIDE, '2026-08-10', 28)])).toEqual({ teriparatide: false });
    expect(coverage([dispense(ALENDRONATE, '2026-08-10', 28)])).toEqual({ alendronate: true });
  });

  it('covers a 28-day pen that ran out less than 2 months ago', () => {
    expect(coverage([dispense(TERIPARATIDE, '2026-09-10', 28)])).toEqual({ teriparatide: true });
  });

  it('covers with an order 11 months old', () => {
    expect(coverage([order(TERIPARATIDE, '2025-12-22')])).toEqual({ teriparatide: true });
    expect(coverage([order(named('abaloparatide 80 MCG [Tymlos]'), '2025-10-22')])).toEqual({
      abaloparatide: false,
    });
  });
});

describe('stops, withdrawn and erroneous entries', () => {
  it('makes a daily drug not covered when an order is stopped after the last dispense', () => {
    const f = facts([
      dispense(ALENDRONATE, '2026-10-01', 84),
      order(ALENDRONATE, '2026-11-01', { status: 'stopped' }),
    ]);
    expect(f.antiOsteoporosis).toEqual([
      { drug: 'alendronate', covered: false, last: { date: '2026-11-01', source: 'order', stopped: true } },
    ]);
    expect(f.features.noAntiOsteoporosisDrug).toBe(true);
  });

  it('covers again when a dispense follows the stop', () => {
    const f = facts([
      order(ALENDRONATE, '2026-06-01', { status: 'stopped' }),
      dispense(ALENDRONATE, '2026-10-01', 84),
    ]);
    expect(f.antiOsteoporosis).toEqual([
      {
        drug: 'alendronate',
        covered: true,
        last: { date: '2026-10-01', source: 'dispense', stopped: false },
      },
    ]);
  });

  it('dates a stopped statement by the end of its period', () => {
    const f = facts([
      order(ALENDRONATE, '2026-09-01'),
      statement(ALENDRONATE, {
        status: 'stopped',
        effectivePeriod: { start: '2025-01-01', end: '2026-10-15' },
      }),
    ]);
    expect(f.antiOsteoporosis).toEqual([
      {
        drug: 'alendronate',
        covered: false,
        last: { date: '2026-10-15', source: 'statement', stopped: true },
      },
    ]);
  });

  it('never counts a cancelled or entered-in-error entry, however recent, and says so', () => {
    const f = facts([
      order(ALENDRONATE, '2026-11-01', { status: 'cancelled' }),
      dose(DENOSUMAB, '2026-10-01', { status: 'entered-in-error' }),
      dispense(TERIPARATIDE, '2026-10-20', 28, { status: 'entered-in-error' }),
      dose(ZOLEDRONIC_ACID, '2026-09-01', { status: 'not-done' }),
    ]);
    expect(f.antiOsteoporosis).toEqual([]);
    expect(f.denosumabGap).toBeUndefined();
    expect(f.features.noAntiOsteoporosisDrug).toBe(true);
    expect(f.ignored).toEqual([
      { resourceType: 'MedicationRequest', reason: 'status', status: 'cancelled' },
      { resourceType: 'MedicationAdministration', reason: 'status', status: 'entered-in-error' },
      { resourceType: 'MedicationDispense', reason: 'status', status: 'entered-in-error' },
      { resourceType: 'MedicationAdministration', reason: 'status', status: 'not-done' },
    ]);
  });

  it('does not let an entered-in-error order stand as the last evidence of an earlier one', () => {
    const f = facts([
      order(ALENDRONATE, '2026-06-01'),
      order(ALENDRONATE, '2026-10-01', { status: 'entered-in-error' }),
    ]);
    expect(f.antiOsteoporosis).toEqual([
      { drug: 'alendronate', covered: true, last: { date: '2026-06-01', source: 'order', stopped: false } },
    ]);
  });
});
