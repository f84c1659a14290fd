import type { Observation } from 'fhir/r4';
import { describe, expect, it } from 'vitest';
import { extractFacts } from '../../src/clinical/facts.ts';
import { numberInText } from '../../src/clinical/observations.ts';
import type { PatientRecord } from '../../src/clinical/patient-facts.ts';
import { record as emptyRecordWith } from '../support/patient-record.ts';

const AS_OF = new Date('2025-06-15T10:00:00Z');
const LOINC = 'http://loinc.org';
const SNOMED = 'http://snomed.info/sct';

const record = (observations: Observation[]): PatientRecord => emptyRecordWith({ observations });

function observation(code: string, fields: Partial<Observation>, date = '2025-03-01'): Observation {
  return {
    resourceType: 'Observation',
    status: 'final',
    code: { coding: [{ system: LOINC, code }] },
    effectiveDateTime: date,
    ...fields,
  };
}

const tScore = (value: Partial<Observation>, date?: string, code = '38265-5') =>
  observation(code, value, date);
const quantity = (value: number, unit?: string, code?: string) => ({
  valueQuantity: {
    value,
    ...(unit ? { unit } : {}),
    ...(code ? { code, system: 'http://unitsofmeasure.org' } : {}),
  },
});

describe('numberInText', () => {
  it.each([
    ['-2.7', -2.7],
    ['−2.7', -2.7],
    ['T-score: -2.7', -2.7],
    ['T值 −3.1 SD', -3.1],
    ['-2,7', -2.7],
    ['L1-L4: -2.9', -2.9],
    ['65 kg', 65],
  ])('reads %j as %d', (words, value) => {
    expect(numberInText(words)?.value).toBe(value);
  });

  it.each(['normal', '-2.5 to -3.0', ''])('finds no single number in %j', (words) => {
    expect(numberInText(words)).toBeUndefined();
  });
});

describe('T-scores', () => {
  it('reads every valid T-score with its site and takes the lowest of the last two years', () => {
    const facts = extractFacts(
      record([
        tScore(quantity(-2.1, '{T-score}'), '2025-01-10', '38267-1'),
        tScore({ valueString: 'T-score: −3.6' }, '2024-02-01', '38264-8'),
        tScore(quantity(-4.2), '2022-01-01', '80947-5'),
        tScore({ valueString: '-1.0' }, '2025-05-01', '104938-6'),
        tScore(quantity(-2.5), '2025-05-02'),
      ]),
      AS_OF,
      'UTC',
    );
    expect(facts.tScores).toEqual([
      { site: 'lumbar-spine', value: -2.1, date: '2025-01-10' },
      { site: 'total-hip', value: -3.6, date: '2024-02-01' },
      { site: 'femoral-neck', value: -4.2, date: '2022-01-01' },
      { site: 'spine', value: -1, date: '2025-05-01' },
      { site: 'forearm', value: -2.5, date: '2025-05-02' },
    ]);
    expect(facts.features.lowestTScore).toBe(-3.6);
  });

  it('leaves lowestTScore unassessed when every T-score is older than two years', () => {
    const facts = extractFacts(record([tScore(quantity(-3.0), '2023-06-01')]), AS_OF, 'UTC');
    expect(facts.tScores).toHaveLength(1);
    expect(facts.features.lowestTScore).toBeUndefined();
  });

  it('counts a T-score exactly 730 days old and not one 731 days old', () => {
    expect(
      extractFacts(record([tScore(quantity(-3.0), '2023-06-16')]), AS_OF, 'UTC').features.lowestTScore,
    ).toBe(-3);
    expect(
      extractFacts(record([tScore(quantity(-3.0), '2023-06-15')]), AS_OF, 'UTC').features.lowestTScore,
    ).toBeUndefined();
  });

  it('ignores implausible, unparseable, undated, future and withdrawn T-scores, saying why', () => {
    const facts = extractFacts(
      record([
        tScore(quantity(-9.9)),
        tScore({ valueString: 'osteoporosis' }),
        { ...tScore(quantity(-2.8)), effectiveDateTime: undefined },
        tScore(quantity(-2.8), '2025-07-01'),
        { ...tScore(quantity(-2.8)), status: 'entered-in-error' },
        { ...tScore(quantity(-2.8)), status: 'preliminary' },
      ]),
      AS_OF,
      'UTC',
    );
    expect(facts.tScores).toEqual([]);
    expect(facts.features.lowestTScore).toBeUndefined();
    expect(facts.ignored).toHaveLength(6);
    expect(facts.ignored).toEqual(
      expect.arrayContaining([
        { resourceType: 'Observation', reason: 'future-date' },
        { resourceType: 'Observation', reason: 'status', status: 'entered-in-error' },
        { resourceType: 'Observation', reason: 'status', status: 'preliminary' },
        { resourceType: 'Observation', reason: 'implausible', topic: 'tScore' },
        { resourceType: 'Observation', reason: 'not-a-number', topic: 'tScore' },
        { resourceType: 'Observation', reason: 'no-date', topic: 'tScore' },
      ]),
    );
  });

  it('counts amended, corrected and status-less results, and one day of clock tolerance', () => {
    const facts = extractFacts(
      record([
        { ...tScore(quantity(-2.6)), status: 'amended' },
        { ...tScore(quantity(-2.7), '2025-03-02'), status: 'corrected' },
        { ...tScore(quantity(-2.8), '2025-06-16') },
        { ...(tScore(quantity(-2.9), '2025-03-04') as object), status: undefined } as unknown as Observation,
      ]),
      AS_OF,
      'UTC',
    );
    expect(facts.tScores.map((t) => t.value)).toEqual([-2.6, -2.7, -2.8, -2.9]);
  });

  it('counts a duplicate (same site, value and date) once', () => {
    const facts = extractFacts(record([tScore(quantity(-2.6)), tScore(quantity(-2.6))]), AS_OF, 'UTC');
    expect(facts.tScores).toHaveLength(1);
    expect(facts.ignored).toEqual([{ resourceType: 'Observation', reason: 'duplicate', topic: 'tScore' }]);
  });

  it('takes the date from a period, an instant or issued when there is no effectiveDateTime', () => {
    const base = { ...tScore(quantity(-2.6)), effectiveDateTime: undefined };
    const dates = [
      { ...base, effectivePeriod: { start: '2025-01-02T08:00:00+08:00' } },
      { ...base, effectiveInstant: '2025-01-03T00:00:00Z' },
      { ...base, issued: '2025-01-04T00:00:00Z' },
    ].map((o) => extractFacts(record([o]), AS_OF, 'UTC').tScores[0]?.date);
    expect(dates).toEqual(['2025-01-02', '2025-01-03', '2025-01-04']);
  });
});

describe('T-scores in a DXA panel and the plausible range', () => {
  const tScoreCode = (code: string, display: string) => ({ coding: [{ system: LOINC, code, display }] });
  const dxaPanel: Observation = {
    resourceType: 'Observation',
    status: 'final',
    category: [
      { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/observation-category', code: 'imaging' }] },
    ],
    code: { coding: [{ system: LOINC, code: '83311-1' }], text: 'DXA bone density' },
    subject: { reference: 'Patient/p' },
    effectiveDateTime: '2025-05-10T09:30:00Z',
    component: [
      {
        code: tScoreCode('38267-1', 'DXA Lumbar spine [T-score] Bone density'),
        valueQuantity: {
          value: -2.8,
          unit: '{T-score}',
          system: 'http://unitsofmeasure.org',
          code: '{T-score}',
        },
      },
      { code: tScoreCode('38263-0', 'DXA Femur [T-score] Bone density'), valueString: '-3.1' },
      { code: tScoreCode('38264-8', 'DXA Hip [T-score] Bone density'), valueQuantity: { value: -9.1 } },
      { code: { text: 'BMD L1-L4' }, valueQuantity: { value: 0.702, unit: 'g/cm2' } },
    ],
  };

  it('reads each T-score component of the panel as a site, a numeric string included', () => {
    const facts = extractFacts(record([dxaPanel]), AS_OF, 'UTC');
    expect(facts.tScores).toEqual([
      { site: 'lumbar-spine', value: -2.8, date: '2025-05-10' },
      { site: 'femoral-neck', value: -3.1, date: '2025-05-10' },
    ]);
    expect(facts.features.lowestTScore).toBe(-3.1);
  });

  it('leaves out the implausible component and says so', () => {
    const facts = extractFacts(record([dxaPanel]), AS_OF, 'UTC');
    expect(facts.ignored).toEqual([{ resourceType: 'Observation', reason: 'implausible', topic: 'tScore' }]);
  });

  it('keeps +4.0, the top of the range, and ignores +4.5 and -7.5', () => {
    const facts = extractFacts(
      record([
        tScore(quantity(4.0), '2025-02-01'),
        tScore(quantity(4.5), '2025-02-02'),
        tScore({ valueString: '-7.5' }, '2025-02-03'),
        tScore(quantity(-7.0), '2025-02-04'),
      ]),
      AS_OF,
      'UTC',
    );
    expect(facts.tScores.map((t) => t.value)).toEqual([4, -7]);
    expect(facts.ignored).toEqual([
      { resourceType: 'Observation', reason: 'implausible', topic: 'tScore' },
      { resourceType: 'Observation', reason: 'implausible', topic: 'tScore' },
    ]);
  });

  it('never lets an implausible value be the lowest T-score', () => {
    const facts = extractFacts(record([tScore(quantity(-12)), tScore(quantity(-1.2))]), AS_OF, 'UTC');
    expect(facts.features.lowestTScore).toBe(-1.2);
  });
});

describe('BMI', () => {
  it('takes the latest recorded BMI', () => {
    const facts = extractFacts(
      record([
        observation('39156-5', quantity(22.1, 'kg/m2'), '2024-01-01'),
        observation('39156-5', quantity(24.3, 'kg/m2'), '2025-01-01'),
      ]),
      AS_OF,
      'UTC',
    );
    expect(facts.bmi).toEqual({ value: 24.3, date: '2025-01-01', derived: false });
    expect(facts.features.bmi).toBe(24.3);
  });

  it('derives BMI from a weight in pounds and a height in inches', () => {
    const facts = extractFacts(
      record([
        observation('29463-7', quantity(132, '[lb_av]', '[lb_av]'), '2025-02-01'),
        observation('8302-2', quantity(62, 'in'), '2024-08-01'),
      ]),
      AS_OF,
      'UTC',
    );
    expect(facts.bmi).toEqual({ value: 24.1, date: '2025-02-01', derived: true });
  });

  it('derives BMI from grams and metres, and from a number written with its unit', () => {
    const facts = extractFacts(
      record([
        observation('29463-7', quantity(50_000, 'g'), '2025-02-01'),
        observation('8302-2', { valueString: '1.60 m' }, '2025-02-01'),
      ]),
      AS_OF,
      'UTC',
    );
    expect(facts.features.bmi).toBe(19.5);
  });

  it('prefers a weight-and-height BMI more recent than the recorded one', () => {
    const facts = extractFacts(
      record([
        observation('39156-5', quantity(30, 'kg/m2'), '2020-01-01'),
        observation('29463-7', quantity(50, 'kg'), '2025-02-01'),
        observation('8302-2', quantity(160, 'cm'), '2025-01-15'),
      ]),
      AS_OF,
      'UTC',
    );
    expect(facts.bmi).toEqual({ value: 19.5, date: '2025-02-01', derived: true });
  });

  it('does not pair a weight with a height measured more than a year apart', () => {
    const facts = extractFacts(
      record([
        observation('29463-7', quantity(50, 'kg'), '2025-02-01'),
        observation('8302-2', quantity(160, 'cm'), '2023-01-01'),
      ]),
      AS_OF,
      'UTC',
    );
    expect(facts.bmi).toBeUndefined();
    expect(facts.features.bmi).toBeUndefined();
  });

  it('ignores a weight without a unit and an implausible height', () => {
    const facts = extractFacts(
      record([observation('29463-7', quantity(50)), observation('8302-2', quantity(16, 'cm'))]),
      AS_OF,
      'UTC',
    );
    expect(facts.bmi).toBeUndefined();
    expect(facts.ignored).toEqual([
      { resourceType: 'Observation', reason: 'unit-unknown', topic: 'bodyWeight' },
      { resourceType: 'Observation', reason: 'implausible', topic: 'bodyHeight' },
    ]);
  });

  it('ignores an implausible recorded BMI', () => {
    const facts = extractFacts(record([observation('39156-5', quantity(240, 'kg/m2'))]), AS_OF, 'UTC');
    expect(facts.features.bmi).toBeUndefined();
  });
});

describe('PHQ-9 and depression from it', () => {
  it('reads the total from a component of the panel', () => {
    const panel = observation('44249-1', {
      component: [
        { code: { coding: [{ system: LOINC, code: '44250-9' }] }, valueInteger: 2 },
        { code: { coding: [{ system: LOINC, code: '44261-6' }] }, valueInteger: 12 },
      ],
    });
    const facts = extractFacts(record([panel]), AS_OF, 'UTC');
    expect(facts.phq9).toEqual({ value: 12, date: '2025-03-01' });
    expect(facts.features.depression).toBe(true);
  });

  it('takes the latest total of the last 12 months; below 10 is no depression', () => {
    const facts = extractFacts(
      record([
        observation('44261-6', quantity(15), '2024-01-01'),
        observation('44261-6', { valueInteger: 4 }, '2025-01-01'),
      ]),
      AS_OF,
      'UTC',
    );
    expect(facts.phq9).toEqual({ value: 4, date: '2025-01-01' });
    expect(facts.features.depression).toBe(false);
  });

  it('lets a later total below 10 supersede an earlier one of 14, whatever the order of the entries', () => {
    const facts = extractFacts(
      record([
        observation('44261-6', { valueInteger: 6 }, '2025-04-20'),
        observation('44261-6', { valueInteger: 14 }, '2025-01-10'),
      ]),
      AS_OF,
      'UTC',
    );
    expect(facts.phq9).toEqual({ value: 6, date: '2025-04-20' });
    expect(facts.features.depression).toBe(false);
    expect(facts.depressionDiagnosed).toBe(false);
  });

  it('lets a later total of 10 or more count after an earlier low one', () => {
    const facts = extractFacts(
      record([
        observation('44261-6', { valueInteger: 4 }, '2025-01-10'),
        observation('44261-6', { valueInteger: 10 }, '2025-04-20'),
      ]),
      AS_OF,
      'UTC',
    );
    expect(facts.phq9).toEqual({ value: 10, date: '2025-04-20' });
    expect(facts.features.depression).toBe(true);
    expect(facts.depressionDiagnosed).toBe(false);
  });

  it('does not use a total older than 12 months', () => {
    const facts = extractFacts(record([observation('44261-6', quantity(15), '2024-06-01')]), AS_OF, 'UTC');
    expect(facts.phq9).toBeUndefined();
    expect(facts.features.depression).toBe(false);
  });

  it('ignores an impossible total but not a panel of item answers whose total is separate', () => {
    const itemsOnly = observation('44249-1', {
      component: [{ code: { coding: [{ system: LOINC, code: '44250-9' }] }, valueInteger: 2 }],
    });
    const facts = extractFacts(record([itemsOnly, observation('44261-6', quantity(31))]), AS_OF, 'UTC');
    expect(facts.phq9).toBeUndefined();
    expect(facts.ignored).toEqual([{ resourceType: 'Observation', reason: 'implausible', topic: 'phq9' }]);
  });
});

describe('smoking status', () => {
  const smoking = (code: string, date: string) =>
    observation('72166-2', { valueCodeableConcept: { coding: [{ system: SNOMED, code }] } }, date);

  it.each([
    ['449868002', true],
    ['428041000124106', true],
    ['77176002', true],
    ['8517006', false],
    ['266919005', false],
    ['266927001', undefined],
  ])('reads answer %s as %s', (code, current) => {
    expect(extractFacts(record([smoking(code, '2025-01-01')]), AS_OF, 'UTC').features.currentSmoker).toBe(
      current,
    );
  });

  it('uses the latest observation only', () => {
    const facts = extractFacts(
      record([smoking('449868002', '2025-01-01'), smoking('8517006', '2025-04-01')]),
      AS_OF,
      'UTC',
    );
    expect(facts.features.currentSmoker).toBe(false);
  });

  it('is not assessed without an observation', () => {
    expect(extractFacts(record([]), AS_OF, 'UTC').features.currentSmoker).toBeUndefined();
  });
});
