import type { Condition, Procedure, ServiceRequest } from 'fhir/r4';
import { describe, expect, it } from 'vitest';
import { extractFacts } from '../../src/clinical/facts.ts';
import type { PatientRecord } from '../../src/clinical/patient-facts.ts';
import { record } from '../support/patient-record.ts';

const AS_OF = new Date('2025-06-15T10:00:00Z');
const SNOMED = 'http://snomed.info/sct';
const ICD10CM = 'http://hl7.org/fhir/sid/icd-10-cm';
const CLINICAL = 'http://terminology.hl7.org/CodeSystem/condition-clinical';
const VERIFICATION = 'http://terminology.hl7.org/CodeSystem/condition-ver-status';

function condition(
  coding: { system: string; code: string; display?: string } | undefined,
  fields: Partial<Condition> = {},
): Condition {
  return {
    resourceType: 'Condition',
    clinicalStatus: { coding: [{ system: CLINICAL, code: 'active' }] },
    verificationStatus: { coding: [{ system: VERIFICATION, code: 'confirmed' }] },
    code: coding ? { coding: [coding] } : {},
    subject: { reference: 'Patient/p' },
    onsetDateTime: '2024-01-10',
    ...fields,
  };
}

const status = (code: string) => ({ clinicalStatus: { coding: [{ system: CLINICAL, code }] } });
const verification = (code: string) => ({ verificationStatus: { coding: [{ system: VERIFICATION, code }] } });
const facts = (conditions: Condition[], parts: Partial<PatientRecord> = {}) =>
  extractFacts(record({ conditions, ...parts }), AS_OF, 'UTC');

describe('active confirmed diagnoses', () => {
  it('finds depression, anxiety and diabetes by SNOMED CT and by ICD-10-CM', () => {
    const f = facts([
      condition({ system: SNOMED, code: '370143000', display: 'Major depressive disorder' }),
      condition({ system: ICD10CM, code: 'F41.1' }),
      condition({ system: SNOMED, code: '44054006', display: 'Diabetes mellitus type 2' }),
    ]);
    expect(f.features).toMatchObject({ depression: true, anxiety: true, diabetes: true });
  });

  it('says false, not unassessed, when the diagnosis is absent', () => {
    expect(facts([]).features).toMatchObject({ depression: false, anxiety: false, diabetes: false });
  });

  it.each(['resolved', 'inactive', 'remission'])('does not count a %s diagnosis and says so', (code) => {
    const f = facts([condition({ system: ICD10CM, code: 'E11.9' }, status(code))]);
    expect(f.features.diabetes).toBe(false);
    expect(f.ignored).toEqual([{ resourceType: 'Condition', reason: 'not-active', topic: 'diabetes' }]);
  });

  it('counts recurrence and relapse as active, and a status-less condition unless it has abated', () => {
    expect(
      facts([condition({ system: ICD10CM, code: 'F33.1' }, status('recurrence'))]).features.depression,
    ).toBe(true);
    const noStatus = { ...condition({ system: ICD10CM, code: 'F33.1' }), clinicalStatus: undefined };
    expect(facts([noStatus]).features.depression).toBe(true);
    expect(facts([{ ...noStatus, abatementDateTime: '2024-05-01' }]).features.depression).toBe(false);
  });

  it.each([
    ['entered-in-error', 'verification-status'],
    ['refuted', 'verification-status'],
    ['provisional', 'not-confirmed'],
    ['differential', 'not-confirmed'],
    ['unconfirmed', 'not-confirmed'],
  ])('does not count a %s diagnosis', (code, reason) => {
    const f = facts([condition({ system: SNOMED, code: '35489007' }, verification(code))]);
    expect(f.features.depression).toBe(false);
    expect(f.depressionDiagnosed).toBe(false);
    expect(f.ignored).toEqual([{ resourceType: 'Condition', reason, status: code }]);
  });

  it('does not count a condition with an onset in the future', () => {
    const f = facts([condition({ system: SNOMED, code: '35489007' }, { onsetDateTime: '2026-01-01' })]);
    expect(f.features.depression).toBe(false);
    expect(f.ignored).toEqual([{ resourceType: 'Condition', reason: 'future-date' }]);
  });

  it('does not match by display alone', () => {
    const f = facts([condition({ system: 'urn:local', code: 'X1', display: 'Major depressive disorder' })]);
    expect(f.features.depression).toBe(false);
  });
});

describe('vertebral fractures', () => {
  it('reads an ICD-10-CM M80.08XA fracture with its level from the body site', () => {
    const f = facts([
      condition(
        {
          system: ICD10CM,
          code: 'M80.08XA',
          display: 'Age-related osteoporosis with pathological fracture, vertebra(e)',
        },
        { bodySite: [{ text: 'L1' }], onsetDateTime: '2025-05-01' },
      ),
    ]);
    expect(f.vertebralFractures).toEqual([{ levels: ['L1'], date: '2025-05-01' }]);
    expect(f.hasSpineDisease).toBe(true);
    expect(f.features.fracturedLevelCount).toBe(1);
    expect(f.indexLevels).toEqual(['L1']);
    expect(f.features.thoracolumbarJunction).toBe(true);
  });

  it('reads a Chinese text-only diagnosis and records that text was used', () => {
    const f = facts([{ ...condition(undefined), code: { text: '第1腰椎压缩性骨折' } }]);
    expect(f.vertebralFractures).toEqual([{ levels: ['L1'], date: '2024-01-10' }]);
    expect(f.textMatches).toEqual([{ resourceType: 'Condition', concept: { kind: 'vertebral-fracture' } }]);
  });

  it.each([
    'Fracture of vertebral column',
    'Osteoporotic compression fracture',
    'T12椎体骨折',
    '腰椎压缩骨折',
  ])('reads the text-only vertebral fracture %j', (text) => {
    expect(facts([{ ...condition(undefined), code: { text } }]).vertebralFractures).toHaveLength(1);
  });

  it('does not read a spine disease and a wrist fracture as a vertebral fracture', () => {
    const f = facts([{ ...condition(undefined), code: { text: '颈椎病，腕部骨折' } }]);
    expect(f.vertebralFractures).toEqual([]);
  });

  it('does not read a negated fracture in text', () => {
    const f = facts([{ ...condition(undefined), code: { text: 'No vertebral fracture; L1 intact' } }]);
    expect(f.vertebralFractures).toEqual([]);
    expect(f.hasSpineDisease).toBe(false);
  });

  it('still counts a resolved fracture as history', () => {
    const f = facts([condition({ system: SNOMED, code: '311890007' }, status('resolved'))]);
    expect(f.vertebralFractures).toHaveLength(1);
    expect(f.hasSpineDisease).toBe(true);
  });

  it('takes the level from an S32.0 code and counts the traumatic fracture', () => {
    const f = facts([condition({ system: ICD10CM, code: 'S32.020A' })]);
    expect(f.vertebralFractures).toEqual([{ levels: ['L2'], date: '2024-01-10' }]);
    expect(f.features.fracturedLevelCount).toBe(1);
  });

  it('does not make a traumatic fracture alone into osteoporotic spine disease', () => {
    const traumatic = condition({ system: ICD10CM, code: 'S32.020A' });
    expect(facts([traumatic]).hasSpineDisease).toBe(false);
    const osteoporotic = condition({ system: ICD10CM, code: 'M80.08XA' });
    expect(facts([traumatic, osteoporotic]).hasSpineDisease).toBe(true);
  });

  it('reads Synthea "pathological fracture due to osteoporosis" as vertebral only when a vertebra is named', () => {
    const synthea = {
      system: SNOMED,
      code: '443165006',
      display: 'Pathological fracture due to osteoporosis (disorder)',
    };
    const siteless = facts([condition(synthea)]);
    expect(siteless.vertebralFractures).toEqual([]);
    expect(siteless.features.priorFragilityFracture).toBe(true);
    const spinal = facts([condition(synthea, { bodySite: [{ text: 'T12 vertebra' }] })]);
    expect(spinal.vertebralFractures).toEqual([{ levels: ['T12'], date: '2024-01-10' }]);
  });

  it('counts the same fracture recorded twice once', () => {
    const twice = condition({ system: ICD10CM, code: 'M80.08XA' }, { bodySite: [{ text: 'L2' }] });
    const f = facts([twice, { ...twice }]);
    expect(f.vertebralFractures).toHaveLength(1);
    expect(f.ignored).toEqual([
      { resourceType: 'Condition', reason: 'duplicate', topic: 'vertebralFracture' },
    ]);
  });
});

describe('levels, index levels and the thoracolumbar junction', () => {
  const kyphoplasty = (date: string, level?: string): Procedure => ({
    resourceType: 'Procedure',
    status: 'completed',
    subject: { reference: 'Patient/p' },
    code: { coding: [{ system: 'http://www.ama-assn.org/go/cpt', code: '22514' }] },
    performedDateTime: date,
    ...(level ? { bodySite: [{ text: level }] } : {}),
  });

  it('counts distinct levels across fractures, augmentations and the draft', () => {
    const draft: ServiceRequest = {
      resourceType: 'ServiceRequest',
      status: 'draft',
      intent: 'order',
      subject: { reference: 'Patient/p' },
      code: { text: '经皮椎体成形术' },
      bodySite: [{ text: '胸12' }],
    };
    const f = facts([condition({ system: ICD10CM, code: 'M80.08XA' }, { bodySite: [{ text: 'L1-L2' }] })], {
      procedures: [kyphoplasty('2025-01-01', 'L1')],
      draftOrders: [draft],
    });
    expect(f.features.fracturedLevelCount).toBe(3);
    expect(f.indexLevels).toEqual(['T12']);
  });

  it('counts one level when a fracture is known but no level is', () => {
    expect(facts([condition({ system: SNOMED, code: '240198002' })]).features.fracturedLevelCount).toBe(1);
  });

  it('counts zero levels, and leaves the junction unassessed, without any fracture', () => {
    const f = facts([]);
    expect(f.features.fracturedLevelCount).toBe(0);
    expect(f.features.thoracolumbarJunction).toBeUndefined();
    expect(f.indexLevels).toEqual([]);
  });

  it('takes the latest augmentation before the latest fracture as the index', () => {
    const f = facts([condition({ system: ICD10CM, code: 'M80.08XA' }, { bodySite: [{ text: 'L4' }] })], {
      procedures: [kyphoplasty('2023-01-01', 'T8'), kyphoplasty('2024-06-01', 'L4')],
    });
    expect(f.indexLevels).toEqual(['L4']);
    expect(f.features.thoracolumbarJunction).toBe(false);
  });

  it('falls back to the latest fracture when the augmentation names no level', () => {
    const f = facts([condition({ system: ICD10CM, code: 'M80.08XA' }, { bodySite: [{ text: 'T11' }] })], {
      procedures: [kyphoplasty('2024-06-01')],
    });
    expect(f.indexLevels).toEqual(['T11']);
    expect(f.features.thoracolumbarJunction).toBe(true);
  });
});

describe('earlier fragility fracture', () => {
  it('is a hip fracture on record', () => {
    const f = facts([condition({ system: SNOMED, code: '359817006', display: 'Closed fracture of hip' })]);
    expect(f.features.priorFragilityFracture).toBe(true);
    expect(f.hasSpineDisease).toBe(false);
  });

  it.each([
    ['M80.031A', 'right forearm'],
    ['M80.051A', 'right femur'],
    ['M80.021A', 'right humerus'],
    ['M80.852A', 'other osteoporosis, left femur'],
    ['M80.0AXA', 'other site'],
    ['Z87.310', 'personal history of (healed) osteoporosis fracture'],
  ])('is the ICD-10-CM code %s (%s)', (code) => {
    const f = facts([condition({ system: ICD10CM, code })]);
    expect(f.features.priorFragilityFracture).toBe(true);
    expect(f.vertebralFractures).toEqual([]);
  });

  it.each([
    [
      'S72.001A',
      'Fracture of unspecified part of neck of right femur, initial encounter for closed fracture',
    ],
    ['S52.531A', "Colles' fracture of right radius, initial encounter for closed fracture"],
    ['S42.201A', 'Unspecified fracture of upper end of right humerus, initial encounter for closed fracture'],
    ['S32.501A', 'Unspecified fracture of right pubis, initial encounter for closed fracture'],
  ])('is not the injury code %s alone: it is traumatic (%s)', (code, display) => {
    const f = facts([condition({ system: ICD10CM, code, display })]);
    expect(f.features.priorFragilityFracture).toBe(false);
    expect(f.textMatches).toEqual([]);
  });

  it('is not rescued by the words of an injury-coded fracture', () => {
    const hip = condition(
      { system: ICD10CM, code: 'S72.001A', display: 'Fracture of unspecified part of neck of right femur' },
      { code: { coding: [{ system: ICD10CM, code: 'S72.001A' }], text: 'Right hip fracture; 右股骨颈骨折' } },
    );
    const f = facts([hip]);
    expect(f.features.priorFragilityFracture).toBe(false);
    expect(f.textMatches).toEqual([]);
  });

  it('counts an injury code that comes with an osteoporotic fracture code', () => {
    const both = condition(undefined, {
      code: {
        coding: [
          { system: ICD10CM, code: 'S72.001A' },
          { system: ICD10CM, code: 'M80.051A' },
        ],
      },
    });
    expect(facts([both]).features.priorFragilityFracture).toBe(true);
  });

  it('is a distal radius fracture written in Chinese', () => {
    const f = facts([{ ...condition(undefined), code: { text: '左桡骨远端骨折' } }]);
    expect(f.features.priorFragilityFracture).toBe(true);
    expect(f.textMatches).toEqual([{ resourceType: 'Condition', concept: { kind: 'fragility-fracture' } }]);
  });

  it('is a vertebral fracture more than 90 days before the latest one', () => {
    const f = facts([
      condition(
        { system: ICD10CM, code: 'M80.08XA' },
        { onsetDateTime: '2023-01-01', bodySite: [{ text: 'T12' }] },
      ),
      condition(
        { system: ICD10CM, code: 'M80.08XA' },
        { onsetDateTime: '2025-05-01', bodySite: [{ text: 'L2' }] },
      ),
    ]);
    expect(f.features.priorFragilityFracture).toBe(true);
  });

  it('is not the index fracture itself, nor one within 90 days of it', () => {
    const f = facts([
      condition(
        { system: ICD10CM, code: 'M80.08XA' },
        { onsetDateTime: '2025-03-01', bodySite: [{ text: 'T12' }] },
      ),
      condition(
        { system: ICD10CM, code: 'M80.08XA' },
        { onsetDateTime: '2025-05-01', bodySite: [{ text: 'L2' }] },
      ),
    ]);
    expect(f.features.priorFragilityFracture).toBe(false);
  });

  it('is not an earlier traumatic vertebral fracture', () => {
    const f = facts([
      condition({ system: ICD10CM, code: 'S22.060A' }, { onsetDateTime: '1990-01-01' }),
      condition({ system: ICD10CM, code: 'M80.08XA' }, { onsetDateTime: '2025-05-01' }),
    ]);
    expect(f.features.priorFragilityFracture).toBe(false);
  });

  it('takes the index event from the newest record: a new fracture after an old PVP', () => {
    const oldPvp = {
      resourceType: 'Procedure' as const,
      status: 'completed' as const,
      subject: { reference: 'Patient/p' },
      code: { coding: [{ system: 'http://www.ama-assn.org/go/cpt', code: '22511' }] },
      performedDateTime: '2022-03-01',
      bodySite: [{ text: 'L4' }],
    };
    const newFracture = condition(
      { system: ICD10CM, code: 'M80.08XA' },
      { onsetDateTime: '2025-04-01', bodySite: [{ text: 'T12' }] },
    );
    const f = facts([newFracture], { procedures: [oldPvp] });
    expect(f.indexLevels).toEqual(['T12']);
    expect(f.features.thoracolumbarJunction).toBe(true);
  });

  describe('with a PVP/PKP being ordered', () => {
    const pvpOrder = (level?: string): ServiceRequest => ({
      resourceType: 'ServiceRequest',
      status: 'draft',
      intent: 'order',
      subject: { reference: 'Patient/p' },
      code: { coding: [{ system: 'http://www.ama-assn.org/go/cpt', code: '22510' }] },
      ...(level ? { bodySite: [{ text: level }] } : {}),
    });

    it('does not count the fracture being treated as earlier than itself, however old', () => {
      const treated = condition(
        { system: ICD10CM, code: 'M80.08XA' },
        { onsetDateTime: '2024-01-01', bodySite: [{ text: 'T11' }] },
      );
      expect(facts([treated], { draftOrders: [pvpOrder('T11')] }).features.priorFragilityFracture).toBe(
        false,
      );
    });

    it('counts a fracture at another level more than 90 days before the treated one', () => {
      const earlier = condition(
        { system: ICD10CM, code: 'M80.08XA' },
        { onsetDateTime: '2024-01-01', bodySite: [{ text: 'L3' }] },
      );
      const treated = condition(
        { system: ICD10CM, code: 'M80.08XA' },
        { onsetDateTime: '2025-05-01', bodySite: [{ text: 'T12' }] },
      );
      expect(
        facts([earlier, treated], { draftOrders: [pvpOrder('T12')] }).features.priorFragilityFracture,
      ).toBe(true);
    });

    it('measures from today only when no fracture is dated', () => {
      const undated = condition({ system: ICD10CM, code: 'M80.08XA' }, { bodySite: [{ text: 'L1' }] });
      expect(facts([undated], { draftOrders: [pvpOrder('L1')] }).features.priorFragilityFracture).toBe(false);
    });
  });
});

describe('earlier fragility fracture, before the index event or since (CLINICAL.md 1.1)', () => {
  const CPT = 'http://www.ama-assn.org/go/cpt';
  const pvp = (date: string, level: string): Procedure => ({
    resourceType: 'Procedure',
    status: 'completed',
    subject: { reference: 'Patient/p' },
    code: { coding: [{ system: CPT, code: '22511', display: 'Percutaneous vertebroplasty, lumbosacral' }] },
    performedDateTime: date,
    bodySite: [{ text: level }],
  });
  const pvpOrder = (level: string): ServiceRequest => ({
    resourceType: 'ServiceRequest',
    status: 'draft',
    intent: 'order',
    subject: { reference: 'Patient/p' },
    code: { coding: [{ system: CPT, code: '22511' }] },
    bodySite: [{ text: level }],
  });
  const ovcf = (level: string, onsetDateTime: string) =>
    condition({ system: ICD10CM, code: 'M80.08XA' }, { bodySite: [{ text: level }], onsetDateTime });

  it('counts a wrist fracture recorded after the PVP', () => {
    const wrist = condition(
      {
        system: ICD10CM,
        code: 'M80.031A',
        display: 'Age-related osteoporosis with current pathological fracture, right forearm',
      },
      { onsetDateTime: '2025-03-01' },
    );
    const indexOnly = facts([ovcf('L2', '2024-08-20')], { procedures: [pvp('2024-09-01', 'L2')] });
    expect(indexOnly.features.priorFragilityFracture).toBe(false);
    const withWrist = facts([ovcf('L2', '2024-08-20'), wrist], { procedures: [pvp('2024-09-01', 'L2')] });
    expect(withWrist.features.priorFragilityFracture).toBe(true);
    expect(withWrist.vertebralFractures).toEqual([{ levels: ['L2'], date: '2024-08-20' }]);
  });

  it('reads vertebral fractures within 90 days of the index one as its levels, not as earlier fractures', () => {
    // Ordering PVP at L1 (fractured 2025-05-20); T12 fractured 66 days before, in the same event.
    const f = facts([ovcf('T12', '2025-03-15'), ovcf('L1', '2025-05-20')], { draftOrders: [pvpOrder('L1')] });
    expect(f.features.priorFragilityFracture).toBe(false);
    expect(f.features.fracturedLevelCount).toBe(2);
    expect(f.indexLevels).toEqual(['L1']);
  });

  it('counts a vertebral fracture more than 90 days after the index event', () => {
    // Ordering PVP at T12 (fractured 2024-12-01); a new L3 fracture followed on 2025-05-01.
    const f = facts([ovcf('T12', '2024-12-01'), ovcf('L3', '2025-05-01')], {
      draftOrders: [pvpOrder('T12')],
    });
    expect(f.indexLevels).toEqual(['T12']);
    expect(f.features.priorFragilityFracture).toBe(true);
  });

  it('counts a history code, Z87.310, with no date or site', () => {
    const history = condition(
      {
        system: ICD10CM,
        code: 'Z87.310',
        display: 'Personal history of (healed) osteoporosis fracture',
      },
      { onsetDateTime: undefined, clinicalStatus: undefined },
    );
    const f = facts([history, ovcf('L1', '2025-05-20')]);
    expect(f.features.priorFragilityFracture).toBe(true);
    expect(f.vertebralFractures).toEqual([{ levels: ['L1'], date: '2025-05-20' }]);
  });

  it('counts M80.0AXA (other site)', () => {
    const otherSite = condition({
      system: ICD10CM,
      code: 'M80.0AXA',
      display: 'Age-related osteoporosis with current pathological fracture, other site',
    });
    expect(facts([otherSite, ovcf('L1', '2025-05-20')]).features.priorFragilityFracture).toBe(true);
  });

  it('does not count a hip fracture coded S72.001A alone, whatever its text says', () => {
    const hip = condition(
      {
        system: ICD10CM,
        code: 'S72.001A',
        display: 'Fracture of unspecified part of neck of right femur, initial encounter for closed fracture',
      },
      { onsetDateTime: '2023-02-01' },
    );
    const f = facts([
      { ...hip, code: { ...hip.code, text: 'Osteoporotic hip fracture' } },
      ovcf('L1', '2025-05-20'),
    ]);
    expect(f.features.priorFragilityFracture).toBe(false);
  });
});

describe('depression in remission does not count (CLINICAL.md 1.1)', () => {
  const inRemission = { resourceType: 'Condition', reason: 'in-remission', topic: 'depression' };

  it.each([
    ['F33.41', 'Major depressive disorder, recurrent, in partial remission'],
    ['F33.42', 'Major depressive disorder, recurrent, in full remission'],
    ['F32.4', 'Major depressive disorder, single episode, in partial remission'],
    ['F32.5', 'Major depressive disorder, single episode, in full remission'],
  ])('does not count ICD-10-CM %s (%s), and lists it as in remission', (code, display) => {
    const f = facts([condition({ system: ICD10CM, code, display })]);
    expect(f.features.depression).toBe(false);
    expect(f.depressionDiagnosed).toBe(false);
    expect(f.ignored).toEqual([inRemission]);
  });

  it('does not count a SNOMED CT depression code whose display says "in full remission"', () => {
    const f = facts([
      condition({
        system: SNOMED,
        code: '36923009',
        display: 'Major depression, single episode, in full remission',
      }),
    ]);
    expect(f.depressionDiagnosed).toBe(false);
    expect(f.features.depression).toBe(false);
    expect(f.ignored).toEqual([inRemission]);
  });

  it('does not count a depression coded next to a SNOMED CT remission concept', () => {
    const f = facts([
      condition(undefined, {
        code: {
          coding: [
            { system: SNOMED, code: '36923009' },
            {
              system: SNOMED,
              code: '19527009',
              display: 'Single episode of major depression in full remission',
            },
          ],
        },
      }),
    ]);
    expect(f.depressionDiagnosed).toBe(false);
  });

  it.each(['抑郁症（缓解期）', '复发性抑郁障碍，目前为缓解状态'])(
    'does not count a depression whose Chinese text says it is in remission: %j',
    (text) => {
      const f = facts([
        condition(undefined, { code: { coding: [{ system: SNOMED, code: '35489007' }], text } }),
      ]);
      expect(f.depressionDiagnosed).toBe(false);
      expect(f.ignored).toEqual([inRemission]);
    },
  );

  it('counts a depression whose text says it is not in remission', () => {
    const f = facts([
      condition(undefined, {
        code: {
          coding: [
            { system: ICD10CM, code: 'F33.1', display: 'Major depressive disorder, recurrent, moderate' },
          ],
          text: 'Recurrent depression, not in remission',
        },
      }),
    ]);
    expect(f.depressionDiagnosed).toBe(true);
  });

  it('says depressionDiagnosed only for a current, confirmed diagnosis', () => {
    const current = condition({
      system: ICD10CM,
      code: 'F32.1',
      display: 'Major depressive disorder, single episode, moderate',
    });
    expect(facts([current]).depressionDiagnosed).toBe(true);
    expect(facts([{ ...current, ...status('resolved') }]).depressionDiagnosed).toBe(false);
    expect(facts([{ ...current, ...verification('provisional') }]).depressionDiagnosed).toBe(false);
    expect(facts([condition({ system: ICD10CM, code: 'F33.41' })]).depressionDiagnosed).toBe(false);
    // A remission code beside a current episode: the current one counts.
    expect(facts([current, condition({ system: ICD10CM, code: 'F33.41' })]).depressionDiagnosed).toBe(true);
  });

  it('keeps depressionDiagnosed false when depression comes from a PHQ-9 only', () => {
    const phq9 = {
      resourceType: 'Observation' as const,
      status: 'final' as const,
      code: { coding: [{ system: 'http://loinc.org', code: '44261-6' }] },
      effectiveDateTime: '2025-04-01',
      valueInteger: 15,
    };
    const f = facts([condition({ system: ICD10CM, code: 'F33.41' })], { observations: [phq9] });
    expect(f.features.depression).toBe(true);
    expect(f.depressionDiagnosed).toBe(false);
  });
});
