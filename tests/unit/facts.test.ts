import type { Condition, MedicationRequest, Observation, Patient, Procedure, ServiceRequest } from 'fhir/r4';
import { describe, expect, it } from 'vitest';
import { extractFacts } from '../../src/clinical/facts.ts';
import type { PatientRecord } from '../../src/clinical/patient-facts.ts';
import { record } from '../support/patient-record.ts';

const AS_OF = new Date('2025-06-15T10:00:00Z');
const SNOMED = 'http://snomed.info/sct';
const LOINC = 'http://loinc.org';
const RXNORM = 'http://www.nlm.nih.gov/research/umls/rxnorm';
const ICD10CM = 'http://hl7.org/fhir/sid/icd-10-cm';
const subject = { reference: 'urn:uuid:4f1c2e0a-synthea' };

const patient = (birthDate: string | undefined, gender?: Patient['gender']): Patient => ({
  resourceType: 'Patient',
  id: 'p-123',
  name: [{ family: 'Zhang', given: ['Wei'] }],
  ...(birthDate ? { birthDate } : {}),
  ...(gender ? { gender } : {}),
});

describe('age and sex', () => {
  it.each([
    ['1945-06-15', 80],
    ['1945-06-16', 79],
    ['1945-06', 79],
    ['1945', 79],
    ['1944', 80],
  ])('gives whole years at asOf for a birth date of %s', (birthDate, age) => {
    expect(extractFacts(record({ patient: patient(birthDate) }), AS_OF, 'UTC').features.age).toBe(age);
  });

  it.each(['1945-13-01', '1945-02-30', 'June 1945', '2026-01-01'])(
    'leaves age unassessed for %j',
    (birthDate) => {
      expect(
        extractFacts(record({ patient: patient(birthDate) }), AS_OF, 'UTC').features.age,
      ).toBeUndefined();
    },
  );

  it('reads female, male, and nothing for other or unknown', () => {
    const sex = (gender?: Patient['gender']) =>
      extractFacts(record({ patient: patient('1950', gender) }), AS_OF, 'UTC').features.female;
    expect(sex('female')).toBe(true);
    expect(sex('male')).toBe(false);
    expect(sex('other')).toBeUndefined();
    expect(sex('unknown')).toBeUndefined();
    expect(sex()).toBeUndefined();
  });

  it('gives asOf as an ISO date', () => {
    expect(extractFacts(record({}), AS_OF, 'UTC').asOf).toBe('2025-06-15');
  });
});

describe('a Synthea-like patient (SNOMED CT, LOINC, RxNorm SCD)', () => {
  const synthea = record({
    patient: patient('1941-03-02', 'female'),
    observations: [
      {
        resourceType: 'Observation',
        status: 'final',
        category: [{ coding: [{ code: 'procedure' }] }],
        code: { coding: [{ system: LOINC, code: '38265-5', display: 'DXA [T-score] Bone density' }] },
        subject,
        effectiveDateTime: '2024-11-02T10:11:12-05:00',
        issued: '2024-11-02T10:11:12.345-05:00',
        valueQuantity: {
          value: -3.12,
          unit: '{T-score}',
          system: 'http://unitsofmeasure.org',
          code: '{T-score}',
        },
      },
      {
        resourceType: 'Observation',
        status: 'final',
        code: { coding: [{ system: LOINC, code: '72166-2', display: 'Tobacco smoking status' }] },
        subject,
        effectiveDateTime: '2025-01-10T10:00:00-05:00',
        valueCodeableConcept: {
          coding: [{ system: SNOMED, code: '266919005', display: 'Never smoked tobacco (finding)' }],
        },
      },
    ] satisfies Observation[],
    conditions: [
      {
        resourceType: 'Condition',
        clinicalStatus: { coding: [{ code: 'active' }] },
        verificationStatus: { coding: [{ code: 'confirmed' }] },
        code: { coding: [{ system: SNOMED, code: '64859006', display: 'Osteoporosis (disorder)' }] },
        subject,
        onsetDateTime: '2006-03-02T10:00:00-05:00',
      },
      {
        resourceType: 'Condition',
        clinicalStatus: { coding: [{ code: 'resolved' }] },
        verificationStatus: { coding: [{ code: 'confirmed' }] },
        code: { coding: [{ system: SNOMED, code: '359817006', display: 'Closed fracture of hip' }] },
        subject,
        onsetDateTime: '2019-05-05T10:00:00-05:00',
        abatementDateTime: '2019-08-05T10:00:00-05:00',
      },
      {
        resourceType: 'Condition',
        clinicalStatus: { coding: [{ code: 'active' }] },
        code: {
          coding: [{ system: SNOMED, code: '44054006', display: 'Diabetes mellitus type 2 (disorder)' }],
        },
        subject,
        onsetDateTime: '1999-03-02T10:00:00-05:00',
      },
    ] satisfies Condition[],
    medications: [
      {
        resourceType: 'MedicationRequest',
        status: 'active',
        intent: 'order',
        medicationCodeableConcept: {
          coding: [{ system: RXNORM, code: '904419', display: 'Alendronic acid 10 MG Oral Tablet' }],
          text: 'Alendronic acid 10 MG Oral Tablet',
        },
        subject,
        authoredOn: '2006-03-02T10:00:00-05:00',
      },
    ] satisfies MedicationRequest[],
  });

  it('gives the features the models need', () => {
    const facts = extractFacts(synthea, AS_OF, 'UTC');
    expect(facts.features).toEqual({
      age: 84,
      female: true,
      depression: false,
      anxiety: false,
      diabetes: true,
      lowestTScore: -3.12,
      fracturedLevelCount: 0,
      // The alendronate order is active but dates from 2006: more than 12 months old, so not coverage.
      noAntiOsteoporosisDrug: true,
      priorFragilityFracture: true,
      systemicGlucocorticoid: false,
      currentSmoker: false,
      cementMaldistribution: false,
      cementLeakage: false,
      solidLumpCement: false,
      cementNotTouchingEndplates: false,
    });
    expect(facts.hasSpineDisease).toBe(false);
    expect(facts.antiOsteoporosis).toEqual([
      { drug: 'alendronate', covered: false, last: { date: '2006-03-02', source: 'order', stopped: false } },
    ]);
    expect(facts.tScores).toEqual([{ site: 'forearm', value: -3.12, date: '2024-11-02' }]);
    expect(facts.ignored).toEqual([]);
    expect(facts.textMatches).toEqual([]);
  });
});

describe('a Chinese EHR-like patient (text only)', () => {
  const kyphoplastyOrder: ServiceRequest = {
    resourceType: 'ServiceRequest',
    status: 'draft',
    intent: 'order',
    code: { text: '经皮椎体后凸成形术' },
    bodySite: [{ text: '第1腰椎' }],
    subject,
  };
  const chinese = record({
    patient: patient('1950-04-01', 'female'),
    conditions: [
      {
        resourceType: 'Condition',
        code: { text: '第1腰椎压缩性骨折' },
        subject,
        recordedDate: '2025-05-20',
      },
      { resourceType: 'Condition', code: { text: '2型糖尿病' }, subject, recordedDate: '2020-01-01' },
      {
        resourceType: 'Condition',
        code: { coding: [{ system: ICD10CM, code: 'F32.900' }], text: '抑郁状态' },
        subject,
      },
    ] satisfies Condition[],
    procedures: [
      {
        resourceType: 'Procedure',
        status: 'completed',
        code: { text: '经皮椎体成形术' },
        bodySite: [{ text: '胸12' }],
        subject,
        performedDateTime: '2023-02-01',
        note: [{ text: '单侧入路，术后骨水泥渗漏至椎间盘' }],
      },
    ] satisfies Procedure[],
    observations: [
      {
        resourceType: 'Observation',
        status: 'final',
        code: { coding: [{ system: LOINC, code: '38267-1' }], text: '腰椎骨密度T值' },
        subject,
        effectiveDateTime: '2025-05-21',
        valueString: 'T值：−3.8',
      },
      {
        resourceType: 'Observation',
        status: 'final',
        code: { text: 'CT' },
        subject,
        effectiveDateTime: '2023-02-02',
        valueString: '骨水泥渗漏',
      },
    ] satisfies Observation[],
    medications: [
      {
        resourceType: 'MedicationRequest',
        status: 'stopped',
        intent: 'order',
        medicationCodeableConcept: { text: '阿仑膦酸钠片 70mg' },
        subject,
        authoredOn: '2023-02-05',
      },
    ] satisfies MedicationRequest[],
    draftOrders: [kyphoplastyOrder],
  });

  it('reads fractures, augmentations, levels and drugs from text, and records every text match', () => {
    const facts = extractFacts(chinese, AS_OF, 'UTC');
    expect(facts.vertebralFractures).toEqual([{ levels: ['L1'], date: '2025-05-20' }]);
    expect(facts.augmentations).toEqual([
      { kind: 'vertebroplasty', date: '2023-02-01', levels: ['T12'], additionalLevels: 0, matchedBy: 'text' },
    ]);
    expect(facts.draft.augmentation).toEqual({
      kind: 'kyphoplasty',
      levels: ['L1'],
      additionalLevels: 0,
      matchedBy: 'text',
    });
    expect(facts.indexLevels).toEqual(['L1']);
    expect(facts.antiOsteoporosis).toEqual([
      { drug: 'alendronate', covered: false, last: { date: '2023-02-05', source: 'order', stopped: true } },
    ]);
    expect(facts.features).toMatchObject({
      age: 75,
      female: true,
      depression: true,
      diabetes: false,
      lowestTScore: -3.8,
      fracturedLevelCount: 2,
      thoracolumbarJunction: true,
      noAntiOsteoporosisDrug: true,
      priorFragilityFracture: false,
      cementLeakage: true,
      unilateralApproach: true,
    });
    expect(facts.hasSpineDisease).toBe(true);
    expect(facts.textMatches).toEqual(
      expect.arrayContaining([
        { resourceType: 'Condition', concept: { kind: 'vertebral-fracture' } },
        { resourceType: 'Procedure', concept: { kind: 'augmentation', augmentation: 'vertebroplasty' } },
        { resourceType: 'ServiceRequest', concept: { kind: 'augmentation', augmentation: 'kyphoplasty' } },
        { resourceType: 'MedicationRequest', concept: { kind: 'drug', drug: 'alendronate' } },
        { resourceType: 'Observation', concept: { kind: 'finding', finding: 'cementLeakage' } },
      ]),
    );
  });
});

describe('odd data', () => {
  const garbage = {
    patient: { birthDate: 19450101, gender: 7 },
    observations: [
      null,
      42,
      'Observation',
      { resourceType: 'Observation' },
      { resourceType: 'Observation', code: null, valueQuantity: { value: 'abc' } },
      { resourceType: 'Observation', code: { coding: 'x' }, component: 'y', effectiveDateTime: 20250101 },
      { resourceType: 'Observation', code: { coding: [null, { system: 5, code: {} }] }, valueString: null },
      {
        resourceType: 'Observation',
        code: { coding: [{ system: 'http://loinc.org', code: '38265-5' }] },
        valueQuantity: null,
      },
      {
        resourceType: 'Observation',
        code: { coding: [{ system: 'http://loinc.org', code: '72166-2' }] },
        valueCodeableConcept: [],
      },
    ],
    conditions: { not: 'an array' },
    procedures: [
      { resourceType: 'Procedure', code: { text: 42 }, bodySite: 'L1', performedPeriod: 'yesterday' },
    ],
    medications: [
      { resourceType: 'MedicationRequest', medicationReference: { reference: 42 }, contained: 'x' },
      {
        resourceType: 'MedicationStatement',
        medicationCodeableConcept: { coding: [{ code: null }] },
        dosage: 'x',
      },
      { resourceType: 'MedicationAdministration', medicationReference: null, effectivePeriod: [] },
      { resourceType: 'MedicationRequest', medicationReference: { reference: 'Medication/m' } },
    ],
    medicationResources: [
      null,
      { resourceType: 'Medication', id: 'm', ingredient: 'x', code: { text: ['x'] } },
    ],
    serviceRequests: null,
    draftOrders: [
      undefined,
      { resourceType: 'ServiceRequest', code: 'kyphoplasty', bodySite: [null] },
      { resourceType: 'Encounter' },
    ],
  };

  it('never throws and gives facts back', () => {
    const facts = extractFacts(garbage as unknown as PatientRecord, AS_OF, 'UTC');
    expect(facts.asOf).toBe('2025-06-15');
    expect(facts.features.age).toBeUndefined();
    expect(facts.features.female).toBeUndefined();
    expect(facts.tScores).toEqual([]);
    expect(facts.vertebralFractures).toEqual([]);
    expect(facts.features.noAntiOsteoporosisDrug).toBe(true);
    const reasons = facts.ignored.map((i) => i.reason);
    expect(reasons).toContain('not-a-resource');
    expect(reasons).not.toContain('unreadable');
    expect(reasons).not.toContain('extraction-failed');
  });

  it.each([null, undefined, 42, 'record', [], {}])('never throws on a record that is %j', (value) => {
    const facts = extractFacts(value as unknown as PatientRecord, AS_OF, 'UTC');
    expect(facts.asOf).toBe('2025-06-15');
    expect(facts.features.fracturedLevelCount).toBe(0);
  });

  it('stands for now when asOf is not a valid date', () => {
    const facts = extractFacts(record({}), new Date('not a date'), 'UTC');
    expect(facts.asOf).toMatch(/^\d{4}-\d{2}-\d{2}$/);
  });

  it('keeps identifiers, names and values out of what it ignored', () => {
    const facts = extractFacts(
      record({
        patient: patient('1950'),
        observations: [
          {
            resourceType: 'Observation',
            id: 'obs-secret-id',
            status: 'entered-in-error',
            code: { coding: [{ system: LOINC, code: '38265-5' }] },
            subject: { reference: 'Patient/p-123', display: 'Zhang Wei' },
            valueQuantity: { value: -2.61 },
          },
          {
            resourceType: 'Observation',
            id: 'obs-2',
            status: 'final',
            code: { coding: [{ system: LOINC, code: '38265-5' }] },
            subject: { reference: 'Patient/p-123', display: 'Zhang Wei' },
            effectiveDateTime: '2025-01-01',
            valueQuantity: { value: -12.34 },
          },
        ],
      }),
      AS_OF,
      'UTC',
    );
    expect(facts.ignored).toEqual([
      { resourceType: 'Observation', reason: 'status', status: 'entered-in-error' },
      { resourceType: 'Observation', reason: 'implausible', topic: 'tScore' },
    ]);
    for (const entry of facts.ignored) {
      for (const key of Object.keys(entry))
        expect(['reason', 'resourceType', 'status', 'topic']).toContain(key);
      expect(JSON.stringify(entry)).not.toMatch(/obs-|p-123|Zhang|2\.61|12\.34/);
    }
  });
});

describe('the clinic time zone (CLINIC_TIME_ZONE)', () => {
  const SHANGHAI = 'Asia/Shanghai';
  const ageOn = (birthDate: string, now: string, timeZone = SHANGHAI) =>
    extractFacts(record({ patient: patient(birthDate) }), new Date(now), timeZone).features.age;

  it('turns a year older on the birthday, not the day before', () => {
    expect(ageOn('1946-11-22', '2026-11-22T02:00:00Z')).toBe(80);
    expect(ageOn('1946-11-23', '2026-11-22T02:00:00Z')).toBe(79);
  });

  it("turns a year older at the clinic's midnight, not UTC's", () => {
    // 20:00 UTC on 21 November is 04:00 on 22 November in Shanghai.
    expect(ageOn('1946-11-22', '2026-11-21T20:00:00Z', SHANGHAI)).toBe(80);
    expect(ageOn('1946-11-22', '2026-11-21T20:00:00Z', 'UTC')).toBe(79);
  });

  it('turns a 29 February birthday a year older on 1 March in a non-leap year', () => {
    expect(ageOn('1944-02-29', '2026-02-28T04:00:00Z')).toBe(81);
    expect(ageOn('1944-02-29', '2026-03-01T04:00:00Z')).toBe(82);
    expect(ageOn('1944-02-29', '2028-02-29T04:00:00Z')).toBe(84);
  });

  it('gives asOf as the date in the clinic: 2026-11-30T20:00:00Z is 1 December in Shanghai', () => {
    const now = new Date('2026-11-30T20:00:00Z');
    expect(extractFacts(record({}), now, SHANGHAI).asOf).toBe('2026-12-01');
    expect(extractFacts(record({}), now, 'UTC').asOf).toBe('2026-11-30');
  });

  it('ends a denosumab dose of 2026-04-30 on the clinic date 7 months later', () => {
    const dose = {
      resourceType: 'MedicationAdministration' as const,
      status: 'completed' as const,
      subject,
      medicationCodeableConcept: {
        coding: [{ system: RXNORM, code: '993452', display: '1 ML denosumab 60 MG/ML Prefilled Syringe' }],
      },
      effectiveDateTime: '2026-04-30',
    };
    const now = new Date('2026-11-30T20:00:00Z');
    const utc = extractFacts(record({ medications: [dose] }), now, 'UTC');
    expect(utc.antiOsteoporosis[0]?.covered).toBe(true);
    expect(utc.denosumabGap).toBeUndefined();
    const shanghai = extractFacts(record({ medications: [dose] }), now, SHANGHAI);
    expect(shanghai.antiOsteoporosis[0]?.covered).toBe(false);
    expect(shanghai.denosumabGap).toEqual({ lastDose: '2026-04-30', monthsSince: 7 });
    expect(shanghai.features.noAntiOsteoporosisDrug).toBe(true);
  });

  it('puts a dateTime with an offset on the clinic date of that instant: 2026-04-22T18:00:00Z is 23 April in Shanghai', () => {
    const dxa: Observation = {
      resourceType: 'Observation',
      status: 'final',
      code: { coding: [{ system: LOINC, code: '38267-1' }] },
      subject,
      effectiveDateTime: '2026-04-22T18:00:00Z',
      valueQuantity: { value: -2.9 },
    };
    const now = new Date('2026-11-23T02:00:00Z');
    expect(extractFacts(record({ observations: [dxa] }), now, SHANGHAI).tScores).toEqual([
      { site: 'lumbar-spine', value: -2.9, date: '2026-04-23' },
    ]);
    expect(extractFacts(record({ observations: [dxa] }), now, 'UTC').tScores[0]?.date).toBe('2026-04-22');
  });

  it('reads a denosumab injection at 2026-04-22T18:00:00Z as given on 23 April in Shanghai', () => {
    const dose = {
      resourceType: 'MedicationAdministration' as const,
      status: 'completed' as const,
      subject,
      medicationCodeableConcept: { text: 'Prolia 60 mg' },
      effectiveDateTime: '2026-04-22T18:00:00Z',
    };
    // Both clinics are on 23 November: 7 months after 23 April is still covered, after 22 April is not.
    const now = new Date('2026-11-23T02:00:00Z');
    const shanghai = extractFacts(record({ medications: [dose] }), now, SHANGHAI);
    expect(shanghai.antiOsteoporosis).toEqual([
      {
        drug: 'denosumab',
        covered: true,
        last: { date: '2026-04-23', source: 'administration', stopped: false },
      },
    ]);
    const utc = extractFacts(record({ medications: [dose] }), now, 'UTC');
    expect(utc.antiOsteoporosis[0]?.covered).toBe(false);
    expect(utc.denosumabGap).toEqual({ lastDose: '2026-04-22', monthsSince: 7 });
  });

  it('reads a date without a time as written, in any zone', () => {
    const fracture: Condition = {
      resourceType: 'Condition',
      code: { coding: [{ system: ICD10CM, code: 'M80.08XA' }] },
      bodySite: [{ text: 'L1' }],
      subject,
      onsetDateTime: '2026-04-22',
    };
    const now = new Date('2026-11-23T02:00:00Z');
    for (const zone of [SHANGHAI, 'UTC', 'America/New_York']) {
      expect(extractFacts(record({ conditions: [fracture] }), now, zone).vertebralFractures).toEqual([
        { levels: ['L1'], date: '2026-04-22' },
      ]);
    }
  });
});
