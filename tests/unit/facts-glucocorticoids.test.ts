/**
 * Glucocorticoid exposure (CLINICAL.md 1.1, "Glucocorticoid exposure"; decisions-1.1.md, "Glucocorticoids"):
 * systemic by route or dose form, long-term at 90 days or more of the last 12 months, and the drafted
 * glucocorticoid's order warning. Evaluated on 2026-11-22 in the clinic's time zone.
 */
import type {
  CodeableConcept,
  Condition,
  Dosage,
  Medication,
  MedicationDispense,
  MedicationRequest,
  MedicationStatement,
} from 'fhir/r4';
import { describe, expect, it } from 'vitest';
import { drugNamesIn } from '../../src/clinical/drug-recognition.ts';
import { extractFacts } from '../../src/clinical/facts.ts';
import type { PatientRecord } from '../../src/clinical/patient-facts.ts';
import { record } from '../support/patient-record.ts';

const NOW = new Date('2026-11-22T02:00:00Z');
const ZONE = 'Asia/Shanghai';
const SNOMED = 'http://snomed.info/sct';
const UCUM = 'http://unitsofmeasure.org';
const subject = { reference: 'Patient/p1' };
/** 100 and 60 days before 2026-11-22. */
const DAYS_100_AGO = '2026-08-14';
const DAYS_60_AGO = '2026-09-23';

const named = (text: string): CodeableConcept => ({ text });
const route = (code: string, display: string) => ({ coding: [{ system: SNOMED, code, display }] });
const days = (value: number) => ({ value, unit: 'days', system: UCUM, code: 'd' });
const daily = { repeat: { frequency: 1, period: 1, periodUnit: 'd' as const } };
const dailyDose = (value: number, unit: string): Dosage => ({
  timing: daily,
  doseAndRate: [{ doseQuantity: { value, unit } }],
});

function order(medication: CodeableConcept, fields: Partial<MedicationRequest> = {}) {
  const request: MedicationRequest = {
    resourceType: 'MedicationRequest',
    status: 'active',
    intent: 'order',
    subject,
    medicationCodeableConcept: medication,
    authoredOn: DAYS_100_AGO,
    ...fields,
  };
  return request;
}

function dispense(medication: CodeableConcept, whenHandedOver: string, supplyDays: number) {
  const handedOver: MedicationDispense = {
    resourceType: 'MedicationDispense',
    status: 'completed',
    subject,
    medicationCodeableConcept: medication,
    whenHandedOver,
    daysSupply: days(supplyDays),
  };
  return handedOver;
}

function draft(medication: CodeableConcept, fields: Partial<MedicationRequest> = {}) {
  const drafted: MedicationRequest = {
    resourceType: 'MedicationRequest',
    status: 'draft',
    intent: 'order',
    subject,
    medicationCodeableConcept: medication,
    authoredOn: '2026-11-22',
    ...fields,
  };
  return drafted;
}

const PREDNISONE = named('predniSONE 5 MG Oral Tablet');
const facts = (parts: Partial<PatientRecord>) => extractFacts(record(parts), NOW, ZONE);
const exposure = (medications: PatientRecord['medications'], extra: Partial<PatientRecord> = {}) =>
  facts({ medications, ...extra }).glucocorticoids;
const notSystemic = (resourceType: string) => ({
  resourceType,
  reason: 'not-systemic',
  topic: 'glucocorticoid',
});

describe('systemic or not: the route, else the dose form', () => {
  it.each([
    ['26643006', 'Oral route'],
    ['47625008', 'Intravenous route'],
    ['78421000', 'Intramuscular route'],
  ])('counts SNOMED CT route %s (%s) as systemic', (code, display) => {
    const f = facts({
      medications: [order(named('dexamethasone'), { dosageInstruction: [{ route: route(code, display) }] })],
    });
    expect(f.glucocorticoids).toEqual([{ drug: 'dexamethasone', days: 101, longTerm: true }]);
    expect(f.features.systemicGlucocorticoid).toBe(true);
  });

  it.each([
    ['46713006', 'Nasal route'],
    ['6064005', 'Topical route'],
    ['447694001', 'Respiratory tract route'],
    ['54485002', 'Ophthalmic route'],
  ])('does not count SNOMED CT route %s (%s), and says so', (code, display) => {
    const f = facts({
      medications: [order(named('dexamethasone'), { dosageInstruction: [{ route: route(code, display) }] })],
    });
    expect(f.glucocorticoids).toEqual([]);
    expect(f.features.systemicGlucocorticoid).toBe(false);
    expect(f.ignored).toEqual([notSystemic('MedicationRequest')]);
  });

  it('reads a route given only as text', () => {
    const oral = order(named('醋酸泼尼松'), { dosageInstruction: [{ route: { text: '口服' } }] });
    const skin = order(named('醋酸泼尼松'), { dosageInstruction: [{ route: { text: '外用' } }] });
    expect(exposure([oral]).map((e) => e.drug)).toEqual(['prednisone']);
    expect(exposure([skin])).toEqual([]);
  });

  it('lets the route decide over the dose form: an intra-articular depot injection is local', () => {
    const joint = order(named('methylprednisolone acetate 40 MG/ML Injectable Suspension [Depo-Medrol]'), {
      dosageInstruction: [{ route: route('12130007', 'Intra-articular route') }],
    });
    expect(exposure([joint])).toEqual([]);
  });

  it.each([
    ['predniSONE 5 MG Oral Tablet', true],
    ['Hydrocortisone 1 % Topical Cream', false],
    ['triamcinolone acetonide 0.055 MG/ACTUAT Nasal Spray', false],
    ['dexamethasone 1 MG/ML Ophthalmic Suspension', false],
    ['曲安奈德益康唑乳膏', false],
    ['醋酸泼尼松片', true],
  ])('reads the dose form in the product name %j (systemic: %s)', (text, systemic) => {
    expect(exposure([order(named(text))]).length > 0).toBe(systemic);
  });

  it('reads the dose form of a referenced Medication (Medication.form), coded or in words', () => {
    const medication = (id: string, form: CodeableConcept): Medication => ({
      resourceType: 'Medication',
      id,
      code: named('hydrocortisone'),
      form,
    });
    const byReference = (id: string) =>
      order(named('unused'), {
        medicationCodeableConcept: undefined,
        medicationReference: { reference: `Medication/${id}` },
      });
    const f = facts({
      medications: [byReference('cream'), byReference('tablet')],
      medicationResources: [
        medication('cream', { coding: [{ system: SNOMED, code: '385099005' }] }),
        medication('tablet', { text: 'Oral Tablet' }),
      ],
    });
    expect(f.glucocorticoids).toEqual([{ drug: 'hydrocortisone', days: 101, longTerm: true }]);
    expect(f.ignored).toEqual([notSystemic('MedicationRequest')]);
  });

  it('counts a drug with neither route nor dose form known as systemic', () => {
    expect(exposure([order(named('泼尼松'))]).map((e) => e.drug)).toEqual(['prednisone']);
  });

  it('never reads the dose form from the dosage text: "预防血栓" (栓) does not make oral prednisone a suppository', () => {
    const f = facts({
      medications: [
        order(named('醋酸泼尼松 5mg'), {
          dosageInstruction: [{ text: '每日一次，晨起顿服；同时服用抗凝药预防血栓', timing: daily }],
        }),
      ],
    });
    expect(f.glucocorticoids).toEqual([{ drug: 'prednisone', days: 101, longTerm: true }]);
    expect(f.ignored).toEqual([]);
  });
});

describe('long-term: 90 days or more of the last 12 months', () => {
  it('counts an active order whose use began 100 days ago, not one begun 60 days ago', () => {
    expect(exposure([order(PREDNISONE, { authoredOn: DAYS_100_AGO })])).toEqual([
      { drug: 'prednisone', days: 101, longTerm: true },
    ]);
    const recent = facts({ medications: [order(PREDNISONE, { authoredOn: DAYS_60_AGO })] });
    expect(recent.glucocorticoids).toEqual([{ drug: 'prednisone', days: 61, longTerm: false }]);
    expect(recent.features.systemicGlucocorticoid).toBe(false);
  });

  it('takes the start of an order from its boundsPeriod before its authoredOn', () => {
    const renewed = order(PREDNISONE, {
      authoredOn: '2026-10-20',
      dosageInstruction: [{ timing: { repeat: { boundsPeriod: { start: DAYS_100_AGO } } } }],
    });
    expect(exposure([renewed])).toEqual([{ drug: 'prednisone', days: 101, longTerm: true }]);
  });

  it('counts an active order begun 100 days ago with a 30-day supply and three repeats as long-term', () => {
    const refills = order(PREDNISONE, {
      dispenseRequest: { expectedSupplyDuration: days(30), numberOfRepeatsAllowed: 3 },
    });
    expect(exposure([refills])).toEqual([{ drug: 'prednisone', days: 101, longTerm: true }]);
  });

  it('ends an active order at its planned end', () => {
    const twoMonths = order(PREDNISONE, {
      authoredOn: '2026-05-01',
      dosageInstruction: [
        { timing: { repeat: { boundsPeriod: { start: '2026-05-01', end: '2026-06-30' } } } },
      ],
    });
    expect(exposure([twoMonths])).toEqual([{ drug: 'prednisone', days: 61, longTerm: false }]);
  });

  it('counts a completed order over its planned span', () => {
    const fourMonths = order(PREDNISONE, {
      status: 'completed',
      authoredOn: '2026-03-01',
      dosageInstruction: [
        { timing: { repeat: { boundsDuration: { value: 120, unit: 'd', system: UCUM, code: 'd' } } } },
      ],
    });
    expect(exposure([fourMonths])).toEqual([{ drug: 'prednisone', days: 120, longTerm: true }]);
  });

  it('reads statements: active from its start to today, completed from start to end', () => {
    const taking: MedicationStatement = {
      resourceType: 'MedicationStatement',
      status: 'active',
      subject,
      medicationCodeableConcept: named('methylprednisolone 4 MG Oral Tablet [Medrol]'),
      effectivePeriod: { start: '2026-01-01' },
    };
    expect(exposure([taking])[0]).toMatchObject({ drug: 'methylprednisolone', longTerm: true });
    const finished: MedicationStatement = {
      ...taking,
      status: 'completed',
      effectivePeriod: { start: '2026-02-01', end: '2026-03-15' },
    };
    expect(exposure([finished])).toEqual([{ drug: 'methylprednisolone', days: 43, longTerm: false }]);
  });

  it('adds up dispenses: three consecutive 30-day supplies are 90 days, two are not', () => {
    const supplies = ['2026-06-01', '2026-07-01', '2026-07-31'].map((date) => dispense(PREDNISONE, date, 30));
    expect(exposure(supplies)).toEqual([{ drug: 'prednisone', days: 90, longTerm: true }]);
    expect(exposure(supplies.slice(0, 2))).toEqual([{ drug: 'prednisone', days: 60, longTerm: false }]);
  });

  it('counts overlapping dispenses once (the union of the days, not their sum)', () => {
    const early = dispense(PREDNISONE, '2026-08-01', 60);
    const refilledEarly = dispense(PREDNISONE, '2026-08-15', 60);
    expect(exposure([early, refilledEarly])).toEqual([{ drug: 'prednisone', days: 74, longTerm: false }]);
  });

  it('counts refills of 14 days each that together cover 98 continuous days', () => {
    const fortnightly = [
      '2026-08-01',
      '2026-08-15',
      '2026-08-29',
      '2026-09-12',
      '2026-09-26',
      '2026-10-10',
      '2026-10-24',
    ];
    const f = facts({ medications: fortnightly.map((date) => dispense(PREDNISONE, date, 14)) });
    expect(f.glucocorticoids).toEqual([{ drug: 'prednisone', days: 98, longTerm: true }]);
    expect(f.features.systemicGlucocorticoid).toBe(true);
  });

  it('counts only the days within the last 12 months', () => {
    // 2025-09-01 + 90 days reaches into the window (from 2025-11-23) by 7 days; 2025-12-01 + 90 days lies in it.
    const supplies = [dispense(PREDNISONE, '2025-09-01', 90), dispense(PREDNISONE, '2025-12-01', 90)];
    expect(exposure(supplies)).toEqual([{ drug: 'prednisone', days: 97, longTerm: true }]);
    expect(exposure([dispense(PREDNISONE, '2025-05-01', 90)])).toEqual([
      { drug: 'prednisone', days: 0, longTerm: false },
    ]);
  });

  it('counts an active ICD-10-CM Z79.52 with no medication on record', () => {
    const z7952: Condition = {
      resourceType: 'Condition',
      subject,
      clinicalStatus: { coding: [{ code: 'active' }] },
      code: {
        coding: [
          {
            system: 'http://hl7.org/fhir/sid/icd-10-cm',
            code: 'Z79.52',
            display: 'Long term (current) use of systemic steroids',
          },
        ],
      },
    };
    const f = facts({ conditions: [z7952] });
    expect(f.glucocorticoids).toEqual([]);
    expect(f.features.systemicGlucocorticoid).toBe(true);
  });
});

describe('never long-term: short courses, single doses, low doses', () => {
  it('does not count a 5-day burst, even on an order left active for 100 days', () => {
    const burst = order(named('predniSONE 20 MG Oral Tablet'), {
      dosageInstruction: [
        { timing: { repeat: { frequency: 2, period: 1, periodUnit: 'd', boundsDuration: days(5) } } },
      ],
    });
    const f = facts({ medications: [burst] });
    expect(f.glucocorticoids).toEqual([{ drug: 'prednisone', days: 0, longTerm: false }]);
    expect(f.features.systemicGlucocorticoid).toBe(false);
    expect(f.ignored).toEqual([
      { resourceType: 'MedicationRequest', reason: 'short-course', topic: 'glucocorticoid' },
    ]);
  });

  it('does not count a single dose (timing.repeat.count 1)', () => {
    const once = order(named('dexamethasone sodium phosphate 4 MG/ML Injectable Solution'), {
      dosageInstruction: [
        { timing: { repeat: { count: 1 } }, route: route('47625008', 'Intravenous route') },
      ],
    });
    const f = facts({ medications: [once] });
    expect(f.glucocorticoids).toEqual([{ drug: 'dexamethasone', days: 0, longTerm: false }]);
    expect(f.ignored).toEqual([
      { resourceType: 'MedicationRequest', reason: 'single-dose', topic: 'glucocorticoid' },
    ]);
  });

  it.each([
    ['prednisone 2 mg daily', 'prednisone', named('prednisone'), dailyDose(2, 'mg'), false],
    [
      'prednisone 2.5 mg daily (the threshold)',
      'prednisone',
      named('prednisone'),
      dailyDose(2.5, 'mg'),
      true,
    ],
    [
      'two 1 mg prednisone tablets daily',
      'prednisone',
      named('predniSONE 1 MG Oral Tablet'),
      dailyDose(2, 'tablet'),
      false,
    ],
    [
      'dexamethasone 0.25 mg daily (1.67 mg prednisone)',
      'dexamethasone',
      named('dexamethasone'),
      dailyDose(0.25, 'mg'),
      false,
    ],
    [
      'dexamethasone 0.5 mg daily (3.3 mg prednisone)',
      'dexamethasone',
      named('dexamethasone'),
      dailyDose(0.5, 'mg'),
      true,
    ],
    [
      'hydrocortisone 5 mg daily (1.25 mg prednisone)',
      'hydrocortisone',
      named('hydrocortisone'),
      dailyDose(5, 'mg'),
      false,
    ],
  ] as const)(
    'judges %s by its prednisone-equivalent dose (counts: %s)',
    (_label, drug, medication, dosage, counts) => {
      const f = facts({ medications: [order(medication, { dosageInstruction: [dosage] })] });
      expect(f.glucocorticoids).toEqual([{ drug, days: counts ? 101 : 0, longTerm: counts }]);
      expect(f.ignored).toEqual(
        counts ? [] : [{ resourceType: 'MedicationRequest', reason: 'low-dose', topic: 'glucocorticoid' }],
      );
    },
  );
});

describe('the glucocorticoids of CLINICAL.md 1.1, in English and Chinese', () => {
  it.each([
    ['cortisone acetate 25 MG Oral Tablet', 'cortisone'],
    ['醋酸可的松片', 'cortisone'],
    ['hydrocortisone 10 MG Oral Tablet [Cortef]', 'hydrocortisone'],
    ['氢化可的松片', 'hydrocortisone'],
    ['betamethasone 0.5 MG Oral Tablet', 'betamethasone'],
    ['倍他米松片', 'betamethasone'],
    ['triamcinolone 4 MG Oral Tablet', 'triamcinolone'],
    ['曲安奈德注射液', 'triamcinolone'],
    ['deflazacort 6 MG Oral Tablet [Emflaza]', 'deflazacort'],
    ['地夫可特片', 'deflazacort'],
    ['甲泼尼龙片', 'methylprednisolone'],
    ['泼尼松龙片', 'prednisolone'],
  ])('reads %j as %s', (text, drug) => {
    expect(exposure([order(named(text))])).toEqual([{ drug, days: 101, longTerm: true }]);
  });

  it('tells 可的松 (cortisone) from 氢化可的松 (hydrocortisone) in one text', () => {
    expect([...drugNamesIn(['氢化可的松']).gc]).toEqual(['hydrocortisone']);
    expect([...drugNamesIn(['醋酸可的松']).gc]).toEqual(['cortisone']);
    expect([...drugNamesIn(['hydrocortisone']).gc]).toEqual(['hydrocortisone']);
  });
});

describe('a glucocorticoid being ordered (facts.draft.glucocorticoids)', () => {
  const drafted = (medication: CodeableConcept, fields: Partial<MedicationRequest> = {}) =>
    facts({ draftOrders: [draft(medication, fields)] }).draft.glucocorticoids;
  const IV_DEXAMETHASONE = named('dexamethasone sodium phosphate 4 MG/ML Injectable Solution');
  const singleIvDose: Dosage = {
    timing: { repeat: { count: 1 } },
    route: route('47625008', 'Intravenous route'),
    doseAndRate: [{ doseQuantity: { value: 10, unit: 'mg' } }],
  };

  it('does not warn for one perioperative IV dexamethasone dose', () => {
    expect(drafted(IV_DEXAMETHASONE, { dosageInstruction: [singleIvDose] })).toEqual([
      expect.objectContaining({
        drug: 'dexamethasone',
        singleDose: true,
        warns: false,
        longTermIfContinued: false,
      }),
    ]);
  });

  it('reads the single dose of a draft that has no authoredOn yet', () => {
    const unsigned = draft(IV_DEXAMETHASONE, { dosageInstruction: [singleIvDose] });
    delete unsigned.authoredOn;
    expect(facts({ draftOrders: [unsigned] }).draft.glucocorticoids).toEqual([
      expect.objectContaining({ drug: 'dexamethasone', singleDose: true, warns: false }),
    ]);
  });

  it('does not warn for a 5-day course', () => {
    const course = {
      timing: { repeat: { frequency: 1, period: 1, periodUnit: 'd' as const, boundsDuration: days(5) } },
    };
    expect(drafted(PREDNISONE, { dosageInstruction: [course] })).toEqual([
      { drug: 'prednisone', plannedDays: 5, singleDose: false, warns: false, longTermIfContinued: false },
    ]);
  });

  it('does not warn for ten daily doses (repeat.count × period)', () => {
    const tenDoses = { timing: { repeat: { count: 10, frequency: 1, period: 1, periodUnit: 'd' as const } } };
    expect(drafted(PREDNISONE, { dosageInstruction: [tenDoses] })).toEqual([
      { drug: 'prednisone', plannedDays: 10, singleDose: false, warns: false, longTermIfContinued: false },
    ]);
  });

  it('warns for a 6-week course, without counting it as long-term', () => {
    const sixWeeks = {
      timing: {
        repeat: {
          frequency: 1,
          period: 1,
          periodUnit: 'd' as const,
          boundsDuration: { value: 6, unit: 'wk', system: UCUM, code: 'wk' },
        },
      },
    };
    const f = facts({ draftOrders: [draft(PREDNISONE, { dosageInstruction: [sixWeeks] })] });
    expect(f.draft.glucocorticoids).toEqual([
      { drug: 'prednisone', plannedDays: 42, singleDose: false, warns: true, longTermIfContinued: false },
    ]);
    expect(f.features.systemicGlucocorticoid).toBe(false);
  });

  it('warns for a course with no duration, and counts it as long-term if continued', () => {
    const f = facts({ draftOrders: [draft(PREDNISONE, { dosageInstruction: [dailyDose(1, 'tablet')] })] });
    expect(f.draft.glucocorticoids).toEqual([
      { drug: 'prednisone', singleDose: false, warns: true, longTermIfContinued: true },
    ]);
    expect(f.features.systemicGlucocorticoid).toBe(true);
  });

  it('counts an expected supply of 90 days as long-term if continued', () => {
    expect(drafted(PREDNISONE, { dispenseRequest: { expectedSupplyDuration: days(90) } })).toEqual([
      { drug: 'prednisone', plannedDays: 90, singleDose: false, warns: true, longTermIfContinued: true },
    ]);
  });

  it('multiplies an expected supply by the fills allowed: 30 days and two repeats is 90 days', () => {
    // FHIR R4: expectedSupplyDuration is per dispense; numberOfRepeatsAllowed is in addition to the first.
    expect(
      drafted(PREDNISONE, {
        dispenseRequest: { expectedSupplyDuration: days(30), numberOfRepeatsAllowed: 2 },
      }),
    ).toEqual([
      { drug: 'prednisone', plannedDays: 90, singleDose: false, warns: true, longTermIfContinued: true },
    ]);
  });

  it('plans the course from the quantity and the daily dose: 28 tablets, one a day, is 28 days', () => {
    const f = drafted(PREDNISONE, {
      dosageInstruction: [dailyDose(1, 'tablet')],
      dispenseRequest: { quantity: { value: 28, unit: 'tablet' } },
    });
    expect(f).toEqual([
      { drug: 'prednisone', plannedDays: 28, singleDose: false, warns: true, longTermIfContinued: false },
    ]);
  });

  it('includes the repeats allowed: 30 tablets, one a day, two repeats is 90 days', () => {
    const f = drafted(PREDNISONE, {
      dosageInstruction: [dailyDose(1, 'tablet')],
      dispenseRequest: { quantity: { value: 30, unit: 'tablet' }, numberOfRepeatsAllowed: 2 },
    });
    expect(f).toEqual([
      { drug: 'prednisone', plannedDays: 90, singleDose: false, warns: true, longTermIfContinued: true },
    ]);
  });

  it('leaves out a drafted cream, and says so', () => {
    const f = facts({ draftOrders: [draft(named('Hydrocortisone 1 % Topical Cream'))] });
    expect(f.draft.glucocorticoids).toEqual([]);
    expect(f.ignored).toEqual([notSystemic('MedicationRequest')]);
  });
});
