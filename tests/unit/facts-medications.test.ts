import type {
  Condition,
  Medication,
  MedicationAdministration,
  MedicationDispense,
  MedicationRequest,
  MedicationStatement,
} from 'fhir/r4';
import { describe, expect, it } from 'vitest';
import { drugNamesIn } from '../../src/clinical/drug-recognition.ts';
import { extractFacts } from '../../src/clinical/facts.ts';
import type { PatientRecord } from '../../src/clinical/patient-facts.ts';
import { record } from '../support/patient-record.ts';

const AS_OF = new Date('2025-06-15T10:00:00Z');
const RXNORM = 'http://www.nlm.nih.gov/research/umls/rxnorm';
const patient = { reference: 'Patient/p' };

function request(
  concept: MedicationRequest['medicationCodeableConcept'],
  fields: Partial<MedicationRequest> = {},
): MedicationRequest {
  return {
    resourceType: 'MedicationRequest',
    status: 'active',
    intent: 'order',
    subject: patient,
    medicationCodeableConcept: concept,
    authoredOn: '2025-01-05T09:00:00Z',
    ...fields,
  };
}

function administration(concept: MedicationAdministration['medicationCodeableConcept'], date: string) {
  const given: MedicationAdministration = {
    resourceType: 'MedicationAdministration',
    status: 'completed',
    subject: patient,
    medicationCodeableConcept: concept,
    effectiveDateTime: date,
  };
  return given;
}

const rx = (code: string, display: string) => ({
  coding: [{ system: RXNORM, code, display }],
  text: display,
});
const named = (text: string) => ({ text });
const denosumab = rx('993452', '1 ML denosumab 60 MG/ML Prefilled Syringe');
const facts = (parts: Partial<PatientRecord>) => extractFacts(record(parts), AS_OF, 'UTC');

describe('recognising anti-osteoporosis drugs', () => {
  it('reads a Synthea SCD product by its RxNorm code', () => {
    const f = facts({ medications: [request(rx('904419', 'Alendronic acid 10 MG Oral Tablet'))] });
    expect(f.antiOsteoporosis).toEqual([
      { drug: 'alendronate', covered: true, last: { date: '2025-01-05', source: 'order', stopped: false } },
    ]);
    expect(f.features.noAntiOsteoporosisDrug).toBe(false);
    expect(f.textMatches).toEqual([]);
  });

  it('reads an unknown product code by the ingredient name in its display, and records it', () => {
    const f = facts({ medications: [request(rx('999999', 'alendronic acid 70 MG Oral Tablet'))] });
    expect(f.antiOsteoporosis.map((u) => u.drug)).toEqual(['alendronate']);
    expect(f.textMatches).toEqual([
      { resourceType: 'MedicationRequest', concept: { kind: 'drug', drug: 'alendronate' } },
    ]);
  });

  it.each([
    ['阿仑膦酸钠片', 'alendronate'],
    ['唑来膦酸注射液', 'zoledronic-acid'],
    ['地舒单抗注射液', 'denosumab'],
    ['特立帕肽注射液', 'teriparatide'],
    ['伊班膦酸钠注射液', 'ibandronate'],
    ['雷洛昔芬片', 'raloxifene'],
    ['Fosamax 70 mg', 'alendronate'],
    ['Actonel', 'risedronate'],
    ['Boniva 150mg monthly', 'ibandronate'],
    ['Aclasta 5 mg IV', 'zoledronic-acid'],
    ['Prolia', 'denosumab'],
    ['Forteo pen', 'teriparatide'],
    ['TYMLOS', 'abaloparatide'],
    ['Evenity', 'romosozumab'],
    ['Evista', 'raloxifene'],
    ['Duavee (conjugated estrogens/bazedoxifene)', 'bazedoxifene'],
  ])('reads %j as %s', (text, drug) => {
    expect(facts({ medications: [request(named(text))] }).antiOsteoporosis.map((u) => u.drug)).toEqual([
      drug,
    ]);
  });

  it('does not read procalcitonin or CGRP as calcitonin', () => {
    const found = drugNamesIn(['procalcitonin', '降钙素原', 'calcitonin gene-related peptide antagonist']);
    expect([...found.non]).toEqual([]);
    expect([...found.anti]).toEqual([]);
    // The same words with calcitonin itself next to them: the exclusion removes only the other substance.
    expect([...drugNamesIn(['降钙素原正常；鲑降钙素鼻喷剂']).non]).toEqual(['calcitonin']);
  });

  it('resolves a contained Medication and one of the record', () => {
    const contained: MedicationRequest = {
      ...request(undefined),
      medicationCodeableConcept: undefined,
      medicationReference: { reference: '#m1' },
      contained: [{ resourceType: 'Medication', id: 'm1', code: rx('993449', 'denosumab') } as Medication],
    };
    const referenced: MedicationRequest = {
      ...request(undefined),
      medicationCodeableConcept: undefined,
      medicationReference: { reference: 'Medication/m2' },
    };
    const medication: Medication = { resourceType: 'Medication', id: 'm2', code: named('利塞膦酸钠片') };
    const f = facts({ medications: [contained, referenced], medicationResources: [medication] });
    expect(f.antiOsteoporosis.map((u) => u.drug)).toEqual(['risedronate', 'denosumab']);
  });

  it('falls back to the reference display', () => {
    const byDisplay: MedicationRequest = {
      ...request(undefined),
      medicationCodeableConcept: undefined,
      medicationReference: { reference: 'Medication/unknown', display: 'Zoledronic acid 5 mg/100 mL' },
    };
    expect(facts({ medications: [byDisplay] }).antiOsteoporosis.map((u) => u.drug)).toEqual([
      'zoledronic-acid',
    ]);
  });

  it('is "no drug" when nothing is active', () => {
    const stopped = request(named('alendronate'), { status: 'stopped' });
    const f = facts({ medications: [stopped] });
    expect(f.antiOsteoporosis).toEqual([
      { drug: 'alendronate', covered: false, last: { date: '2025-01-05', source: 'order', stopped: true } },
    ]);
    expect(f.features.noAntiOsteoporosisDrug).toBe(true);
    expect(facts({}).features.noAntiOsteoporosisDrug).toBe(true);
  });

  it.each(['entered-in-error', 'cancelled', 'draft'])('ignores a %s request', (status) => {
    const f = facts({
      medications: [request(named('alendronate'), { status } as Partial<MedicationRequest>)],
    });
    expect(f.antiOsteoporosis).toEqual([]);
    expect(f.features.noAntiOsteoporosisDrug).toBe(true);
    expect(f.ignored).toEqual([{ resourceType: 'MedicationRequest', reason: 'status', status }]);
  });

  it('reads statements: active counts, intended and not-taken are not evidence of use', () => {
    const statement = (status: MedicationStatement['status'], text: string): MedicationStatement => ({
      resourceType: 'MedicationStatement',
      status,
      subject: patient,
      medicationCodeableConcept: named(text),
      effectivePeriod: { start: '2023-01-01' },
      dateAsserted: '2025-02-01',
    });
    const f = facts({
      medications: [
        statement('active', 'raloxifene'),
        statement('intended', 'alendronate'),
        statement('not-taken', 'risedronate'),
      ],
    });
    // Period started 2023-01-01, asserted 2025-02-01: the latest date the statement vouches for.
    expect(f.antiOsteoporosis).toEqual([
      {
        drug: 'raloxifene',
        covered: true,
        last: { date: '2025-02-01', source: 'statement', stopped: false },
      },
    ]);
    expect(f.ignored).toEqual([
      { resourceType: 'MedicationStatement', reason: 'status', status: 'intended' },
      { resourceType: 'MedicationStatement', reason: 'status', status: 'not-taken' },
    ]);
  });

  it('judges a drug by its most recent evidence over several entries', () => {
    const f = facts({
      medications: [
        request(named('alendronate'), { status: 'completed', authoredOn: '2021-03-01' }),
        request(named('alendronate'), { status: 'active', authoredOn: '2024-11-20' }),
      ],
    });
    expect(f.antiOsteoporosis).toEqual([
      { drug: 'alendronate', covered: true, last: { date: '2024-11-20', source: 'order', stopped: false } },
    ]);
  });

  it('ignores a prescription dated in the future', () => {
    const f = facts({ medications: [request(named('alendronate'), { authoredOn: '2025-09-01' })] });
    expect(f.antiOsteoporosis).toEqual([]);
    expect(f.ignored).toEqual([{ resourceType: 'MedicationRequest', reason: 'future-date' }]);
  });
});

describe('drugs that do not prevent fractures: named when in current use, never coverage', () => {
  const inUse = { date: '2025-01-05', source: 'order', stopped: false };

  it.each([
    ['鲑降钙素鼻喷剂', 'calcitonin'],
    ['calcitonin salmon 200 UNT/ACTUAT Metered Dose Nasal Spray [Miacalcin]', 'calcitonin'],
    ['Calcium carbonate 1250 MG Oral Tablet', 'calcium'],
    ['碳酸钙片', 'calcium'],
    ['Caltrate 600 MG Oral Tablet', 'calcium'],
    ['Cholecalciferol 1000 UNT Oral Capsule', 'vitamin-d'],
    ['骨化三醇软胶囊 0.25μg', 'calcitriol'],
    ['Rocaltrol 0.25 MCG Oral Capsule', 'calcitriol'],
    ['阿法骨化醇片', 'alfacalcidol'],
    ['仙灵骨葆胶囊', 'herbal'],
  ])('names %j as %s, and it leaves the patient without cover', (text, drug) => {
    const f = facts({ medications: [request(named(text))] });
    expect(f.nonPreventing).toEqual([{ drug, last: inUse }]);
    expect(f.antiOsteoporosis).toEqual([]);
    expect(f.features.noAntiOsteoporosisDrug).toBe(true);
    expect(f.textMatches).toEqual([{ resourceType: 'MedicationRequest', concept: { kind: 'drug', drug } }]);
  });

  it('recognises calcitonin salmon injection and calcium carbonate by their RxNorm codes', () => {
    const f = facts({
      medications: [
        request(rx('308866', 'calcitonin salmon 200 UNT/ML Injectable Solution')),
        request(rx('1897', 'calcium carbonate')),
      ],
    });
    expect(f.nonPreventing.map((u) => u.drug)).toEqual(['calcitonin', 'calcium']);
    expect(f.features.noAntiOsteoporosisDrug).toBe(true);
    expect(f.textMatches).toEqual([]);
  });

  it('names several at once, and does not stop a real treatment from covering', () => {
    const f = facts({
      medications: [
        request(named('鲑降钙素注射液')),
        request(named('碳酸钙片')),
        request(named('阿仑膦酸钠片 70mg')),
      ],
    });
    expect(f.nonPreventing.map((u) => u.drug)).toEqual(['calcitonin', 'calcium']);
    expect(f.antiOsteoporosis).toEqual([
      { drug: 'alendronate', covered: true, last: { date: '2025-01-05', source: 'order', stopped: false } },
    ]);
    expect(f.features.noAntiOsteoporosisDrug).toBe(false);
  });

  it('reads a combination product as both: alendronate with cholecalciferol', () => {
    const f = facts({
      medications: [request(named('alendronate 70 MG / cholecalciferol 2800 UNT Oral Tablet'))],
    });
    expect(f.antiOsteoporosis.map((u) => [u.drug, u.covered])).toEqual([['alendronate', true]]);
    expect(f.nonPreventing.map((u) => u.drug)).toEqual(['vitamin-d']);
  });

  it('names them only while in current use: 12 months from an order, 3 months after a dispense runs out', () => {
    const oldOrder = request(named('calcitriol 0.25 MCG Oral Capsule'), { authoredOn: '2024-05-01' });
    const stopped = request(named('鲑降钙素鼻喷剂'), { status: 'stopped' });
    const dispensed = (whenHandedOver: string): MedicationDispense => ({
      resourceType: 'MedicationDispense',
      status: 'completed',
      subject: patient,
      medicationCodeableConcept: named('Calcium carbonate 600 MG Oral Tablet'),
      whenHandedOver,
      daysSupply: { value: 30, unit: 'days', system: 'http://unitsofmeasure.org', code: 'd' },
    });
    expect(facts({ medications: [oldOrder, stopped] }).nonPreventing).toEqual([]);
    // Handed over 2025-01-20 runs out mid-February: + 3 months is before 2025-06-15.
    expect(facts({ medications: [dispensed('2025-01-20')] }).nonPreventing).toEqual([]);
    expect(facts({ medications: [dispensed('2025-02-20')] }).nonPreventing).toEqual([
      { drug: 'calcium', last: { date: '2025-02-20', source: 'dispense', stopped: false } },
    ]);
  });

  it('does not read procalcitonin (降钙素原) as calcitonin', () => {
    const f = facts({ medications: [request(named('降钙素原')), request(named('Procalcitonin'))] });
    expect(f.nonPreventing).toEqual([]);
    expect(f.antiOsteoporosis).toEqual([]);
  });

  it.each(['Atorvastatin calcium 20 MG Oral Tablet', '阿托伐他汀钙片', '瑞舒伐他汀钙片'])(
    'does not read the calcium salt of a statin, %j, as calcium',
    (text) => {
      const f = facts({ medications: [request(named(text))] });
      expect(f.nonPreventing).toEqual([]);
      expect(f.antiOsteoporosis).toEqual([]);
    },
  );
});

describe('injectables given every 6 or 12 months', () => {
  it('counts a completed denosumab order as cover for 7 months', () => {
    const recent = request(denosumab, { status: 'completed', authoredOn: '2025-01-10' });
    expect(facts({ medications: [recent] }).features.noAntiOsteoporosisDrug).toBe(false);
    const old = request(denosumab, { status: 'completed', authoredOn: '2024-10-01' });
    expect(facts({ medications: [old] }).features.noAntiOsteoporosisDrug).toBe(true);
  });

  it('counts a zoledronic acid infusion as cover for a year', () => {
    const infusion = administration(
      rx('705824', 'zoledronic acid 0.05 MG/ML Injectable Solution'),
      '2024-08-01',
    );
    const f = facts({ medications: [infusion] });
    expect(f.antiOsteoporosis).toEqual([
      {
        drug: 'zoledronic-acid',
        covered: true,
        last: { date: '2024-08-01', source: 'administration', stopped: false },
      },
    ]);
    expect(f.features.noAntiOsteoporosisDrug).toBe(false);
  });

  it('counts a completed alendronate order like an active one, for 12 months from its date', () => {
    const recent = request(named('alendronate'), { status: 'completed', authoredOn: '2025-06-01' });
    expect(facts({ medications: [recent] }).features.noAntiOsteoporosisDrug).toBe(false);
    const old = request(named('alendronate'), { status: 'completed', authoredOn: '2024-06-01' });
    expect(facts({ medications: [old] }).features.noAntiOsteoporosisDrug).toBe(true);
  });
});

describe('denosumab gap', () => {
  it('flags a last dose more than 7 months ago with nothing since', () => {
    const f = facts({
      medications: [administration(denosumab, '2024-05-01'), administration(denosumab, '2024-10-20')],
    });
    expect(f.denosumabGap).toEqual({ lastDose: '2024-10-20', monthsSince: 7 });
    expect(f.features.noAntiOsteoporosisDrug).toBe(true);
  });

  it('does not flag a dose 6 months ago', () => {
    const f = facts({ medications: [administration(denosumab, '2024-12-15')] });
    expect(f.denosumabGap).toBeUndefined();
    expect(f.features.noAntiOsteoporosisDrug).toBe(false);
  });

  it('uses the order date when no dose is recorded', () => {
    const f = facts({ medications: [request(denosumab, { status: 'active', authoredOn: '2023-06-01' })] });
    expect(f.denosumabGap).toEqual({ lastDose: '2023-06-01', monthsSince: 24 });
  });

  it('prefers the date of the last dose given over the date of the order', () => {
    const f = facts({
      medications: [
        request(denosumab, { status: 'active', authoredOn: '2023-01-01' }),
        administration(denosumab, '2025-03-01'),
      ],
    });
    expect(f.denosumabGap).toBeUndefined();
  });

  it('is closed by a bisphosphonate given after the last dose', () => {
    const f = facts({
      medications: [
        administration(denosumab, '2024-01-01'),
        administration(rx('705824', 'Reclast'), '2024-08-01'),
      ],
    });
    expect(f.denosumabGap).toBeUndefined();
  });

  it('is not closed by raloxifene', () => {
    const f = facts({ medications: [administration(denosumab, '2024-01-01'), request(named('raloxifene'))] });
    expect(f.denosumabGap).toEqual({ lastDose: '2024-01-01', monthsSince: 17 });
    expect(f.features.noAntiOsteoporosisDrug).toBe(false);
  });
});

describe('systemic glucocorticoids', () => {
  it('reads an active prednisone prescription', () => {
    const f = facts({ medications: [request(rx('312617', 'predniSONE 5 MG Oral Tablet'))] });
    // Active since 2025-01-05: 162 days of the last 12 months, so long-term.
    expect(f.glucocorticoids).toEqual([{ drug: 'prednisone', days: 162, longTerm: true }]);
    expect(f.features.systemicGlucocorticoid).toBe(true);
  });

  it('does not count topical hydrocortisone (Synthea 106258), eye drops or inhalers, and says so', () => {
    const f = facts({
      medications: [
        request(rx('106258', 'Hydrocortisone 10 MG/ML Topical Cream')),
        request(named('dexamethasone 0.1% ophthalmic suspension')),
        request(named('地塞米松'), {
          dosageInstruction: [{ route: { text: '吸入' } }],
        }),
      ],
    });
    expect(f.glucocorticoids).toEqual([]);
    expect(f.features.systemicGlucocorticoid).toBe(false);
    const notSystemic = {
      resourceType: 'MedicationRequest',
      reason: 'not-systemic',
      topic: 'glucocorticoid',
    };
    expect(f.ignored).toEqual([notSystemic, notSystemic, notSystemic]);
  });

  it('tells 泼尼松龙 (prednisolone) and 甲泼尼龙 (methylprednisolone) from 泼尼松 (prednisone)', () => {
    const f = facts({ medications: [request(named('醋酸泼尼松龙片')), request(named('甲泼尼龙片'))] });
    expect(f.glucocorticoids.map((u) => u.drug)).toEqual(['prednisolone', 'methylprednisolone']);
    expect(f.glucocorticoids.every((u) => u.longTerm)).toBe(true);
  });

  it('tells methylprednisolone from prednisolone in English', () => {
    expect([...drugNamesIn(['methylprednisolone 4 MG Oral Tablet']).gc]).toEqual(['methylprednisolone']);
  });

  it('counts an active ICD-10-CM Z79.52 and not a resolved one', () => {
    const z7952 = (code: string): Condition => ({
      resourceType: 'Condition',
      subject: patient,
      clinicalStatus: { coding: [{ code }] },
      code: { coding: [{ system: 'http://hl7.org/fhir/sid/icd-10-cm', code: 'Z79.52' }] },
    });
    expect(facts({ conditions: [z7952('active')] }).features.systemicGlucocorticoid).toBe(true);
    expect(facts({ conditions: [z7952('resolved')] }).features.systemicGlucocorticoid).toBe(false);
  });

  it('does not count a stopped course with no planned span beyond its start day', () => {
    const f = facts({ medications: [request(named('prednisone 10 mg'), { status: 'stopped' })] });
    expect(f.glucocorticoids).toEqual([{ drug: 'prednisone', days: 1, longTerm: false }]);
    expect(f.features.systemicGlucocorticoid).toBe(false);
  });
});

describe('draft orders', () => {
  it('reads draft medication requests without status or intent', () => {
    const draft = {
      resourceType: 'MedicationRequest',
      medicationCodeableConcept: named('Prednisone 20 mg daily'),
    };
    const alendronate = {
      resourceType: 'MedicationRequest',
      medicationCodeableConcept: named('阿仑膦酸钠片'),
    };
    const f = facts({ draftOrders: [draft, alendronate] as unknown as PatientRecord['draftOrders'] });
    // No course stated: it warns, and counts as long-term "if continued for 3 months or more".
    expect(f.draft.glucocorticoids).toEqual([
      { drug: 'prednisone', singleDose: false, warns: true, longTermIfContinued: true },
    ]);
    expect(f.draft.antiOsteoporosis).toEqual(['alendronate']);
    expect(f.features.systemicGlucocorticoid).toBe(true);
    expect(f.features.noAntiOsteoporosisDrug).toBe(true);
    expect(f.textMatches).toEqual([
      { resourceType: 'MedicationRequest', concept: { kind: 'drug', drug: 'prednisone' } },
      { resourceType: 'MedicationRequest', concept: { kind: 'drug', drug: 'alendronate' } },
    ]);
  });
});
