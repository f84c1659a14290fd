import type { Condition, Procedure, ServiceRequest } from 'fhir/r4';
import { describe, expect, it } from 'vitest';
import { extractFacts } from '../../src/clinical/facts.ts';
import type { PatientRecord } from '../../src/clinical/patient-facts.ts';
import { record } from '../support/patient-record.ts';

const AS_OF = new Date('2025-06-15T10:00:00Z');
const CPT = 'http://www.ama-assn.org/go/cpt';
const LOINC = 'http://loinc.org';
const patient = { reference: 'Patient/p' };

function procedure(code: Procedure['code'], fields: Partial<Procedure> = {}): Procedure {
  return {
    resourceType: 'Procedure',
    status: 'completed',
    subject: patient,
    code,
    performedDateTime: '2024-09-01',
    ...fields,
  };
}

function order(code: ServiceRequest['code'], fields: Partial<ServiceRequest> = {}): ServiceRequest {
  return {
    resourceType: 'ServiceRequest',
    status: 'active',
    intent: 'order',
    subject: patient,
    code,
    ...fields,
  };
}

const ICD10PCS = 'http://www.cms.gov/Medicare/Coding/ICD10';
const ICD10CM = 'http://hl7.org/fhir/sid/icd-10-cm';
const cpt = (code: string) => ({ coding: [{ system: CPT, code }] });
const draftOrder = (code: ServiceRequest['code'], fields: Partial<ServiceRequest> = {}) =>
  order(code, { status: 'draft', ...fields });
const fracture = (code: string, level: string, onsetDateTime: string): Condition => ({
  resourceType: 'Condition',
  clinicalStatus: { coding: [{ code: 'active' }] },
  subject: patient,
  code: { coding: [{ system: ICD10CM, code }] },
  bodySite: [{ text: level }],
  onsetDateTime,
});
const facts = (parts: Partial<PatientRecord>) => extractFacts(record(parts), AS_OF, 'UTC');

describe('past augmentations', () => {
  it.each([
    ['22510', 'vertebroplasty'],
    ['22511', 'vertebroplasty'],
    ['22512', 'vertebroplasty'],
    ['22513', 'kyphoplasty'],
    ['22514', 'kyphoplasty'],
    ['22515', 'kyphoplasty'],
  ])('recognises CPT %s as %s', (code, kind) => {
    const f = facts({ procedures: [procedure(cpt(code), { bodySite: [{ text: 'L1' }] })] });
    expect(f.augmentations).toEqual([
      { kind, date: '2024-09-01', levels: ['L1'], additionalLevels: 0, matchedBy: 'cpt' },
    ]);
    expect(f.hasSpineDisease).toBe(true);
  });

  it.each([
    ['经皮椎体后凸成形术', 'kyphoplasty'],
    ['经皮球囊扩张椎体后凸成形术（PKP）', 'kyphoplasty'],
    ['经皮椎体成形术', 'vertebroplasty'],
    ['Balloon kyphoplasty, lumbar', 'kyphoplasty'],
    ['Percutaneous vertebroplasty', 'vertebroplasty'],
    ['PVP', 'vertebroplasty'],
  ])('recognises %j by text as %s and records it', (text, kind) => {
    const f = facts({ procedures: [procedure({ text })] });
    expect(f.augmentations).toEqual([
      { kind, date: '2024-09-01', levels: [], additionalLevels: 0, matchedBy: 'text' },
    ]);
    expect(f.textMatches).toEqual([
      { resourceType: 'Procedure', concept: { kind: 'augmentation', augmentation: kind } },
    ]);
  });

  it('does not read PVP inside another word, nor an unrelated procedure', () => {
    const f = facts({
      procedures: [procedure({ text: 'PVPX catheter' }), procedure({ text: 'Lumbar fusion L4-L5' })],
    });
    expect(f.augmentations).toEqual([]);
    expect(f.hasSpineDisease).toBe(false);
  });

  it('takes levels from the body site and the text, and the date from performedPeriod', () => {
    const f = facts({
      procedures: [
        procedure(
          { text: '腰1、2椎体成形术' },
          {
            performedDateTime: undefined,
            performedPeriod: { start: '2024-10-02T08:00:00+08:00' },
            bodySite: [{ text: 'T12' }],
          },
        ),
      ],
    });
    expect(f.augmentations).toEqual([
      {
        kind: 'vertebroplasty',
        date: '2024-10-02',
        levels: ['T12', 'L1', 'L2'],
        additionalLevels: 0,
        matchedBy: 'text',
      },
    ]);
    expect(f.features.fracturedLevelCount).toBe(3);
  });

  it('counts in-progress and status-less procedures, not not-done, entered-in-error or preparation', () => {
    const f = facts({
      procedures: [
        procedure(cpt('22510'), { status: 'in-progress' }),
        { ...procedure(cpt('22511')), status: undefined } as unknown as Procedure,
        procedure(cpt('22513'), { status: 'not-done' }),
        procedure(cpt('22514'), { status: 'entered-in-error' }),
        procedure(cpt('22515'), { status: 'preparation' }),
      ],
    });
    expect(f.augmentations.map((a) => a.kind)).toEqual(['vertebroplasty', 'vertebroplasty']);
    expect(f.ignored).toEqual([
      { resourceType: 'Procedure', reason: 'status', status: 'not-done' },
      { resourceType: 'Procedure', reason: 'status', status: 'entered-in-error' },
      { resourceType: 'Procedure', reason: 'status', topic: 'augmentation', status: 'preparation' },
    ]);
  });

  it('counts the same procedure recorded twice once, but keeps an additional level', () => {
    const f = facts({
      procedures: [procedure(cpt('22510')), procedure(cpt('22510')), procedure(cpt('22512'))],
    });
    expect(f.augmentations).toHaveLength(2);
    expect(f.ignored).toEqual([{ resourceType: 'Procedure', reason: 'duplicate', topic: 'augmentation' }]);
  });

  it('ignores an augmentation dated in the future', () => {
    const f = facts({ procedures: [procedure(cpt('22510'), { performedDateTime: '2025-12-01' })] });
    expect(f.augmentations).toEqual([]);
  });
});

describe('approach of the latest augmentation', () => {
  it('is unilateral when the latest says so, even after a bilateral one', () => {
    const f = facts({
      procedures: [
        procedure({ text: 'Bilateral PKP' }, { performedDateTime: '2022-01-01' }),
        procedure(cpt('22510'), {
          note: [{ text: '单侧穿刺，骨水泥3.5 mL' }],
          performedDateTime: '2024-01-01',
        }),
      ],
    });
    expect(f.features.unilateralApproach).toBe(true);
  });

  it('is false for bilateral, and unassessed when not said or when both are said', () => {
    expect(
      facts({ procedures: [procedure({ text: '双侧经皮椎体成形术' })] }).features.unilateralApproach,
    ).toBe(false);
    expect(facts({ procedures: [procedure(cpt('22510'))] }).features.unilateralApproach).toBeUndefined();
    const both = procedure({ text: 'PVP, unilateral then bilateral' });
    expect(facts({ procedures: [both] }).features.unilateralApproach).toBeUndefined();
  });
});

describe('the augmentation being ordered', () => {
  it('reads a draft ServiceRequest by CPT with its body site', () => {
    const f = facts({ draftOrders: [order(cpt('22513'), { status: 'draft', bodySite: [{ text: 'L1' }] })] });
    expect(f.draft.augmentation).toEqual({
      kind: 'kyphoplasty',
      levels: ['L1'],
      additionalLevels: 0,
      matchedBy: 'cpt',
    });
    expect(f.augmentations).toEqual([]);
    expect(f.hasSpineDisease).toBe(false);
    expect(f.indexLevels).toEqual(['L1']);
    expect(f.features.thoracolumbarJunction).toBe(true);
    expect(f.features.fracturedLevelCount).toBe(1);
  });

  it('tolerates a draft without status or intent, and merges the levels of several drafts', () => {
    const bare = {
      resourceType: 'ServiceRequest',
      code: { text: '经皮椎体后凸成形术' },
      bodySite: [{ text: '第3腰椎' }],
    };
    const second = order(cpt('22515'), { status: 'draft', bodySite: [{ text: 'L4' }] });
    const f = facts({ draftOrders: [bare, second] as PatientRecord['draftOrders'] });
    expect(f.draft.augmentation).toEqual({
      kind: 'kyphoplasty',
      levels: ['L3', 'L4'],
      additionalLevels: 0,
      matchedBy: 'text',
    });
  });

  it('is absent when the draft is something else', () => {
    expect(
      facts({ draftOrders: [order({ text: 'MRI lumbar spine' }, { status: 'draft' })] }).draft.augmentation,
    ).toBeUndefined();
  });
});

describe('tests already ordered', () => {
  it('finds an active DXA order by CPT and a PHQ-9 by LOINC', () => {
    const f = facts({
      serviceRequests: [order(cpt('77080')), order({ coding: [{ system: LOINC, code: '44249-1' }] })],
    });
    expect(f.dxaOrdered).toBe(true);
    expect(f.phq9Ordered).toBe(true);
  });

  it('finds a DXA order in Chinese text and records it', () => {
    const f = facts({ serviceRequests: [order({ text: '双能X线骨密度检查' }, { status: 'on-hold' })] });
    expect(f.dxaOrdered).toBe(true);
    expect(f.textMatches).toEqual([{ resourceType: 'ServiceRequest', concept: { kind: 'dxa-order' } }]);
  });

  it('finds a DXA being ordered now', () => {
    expect(facts({ draftOrders: [order({ text: 'DEXA scan' }, { status: 'draft' })] }).dxaOrdered).toBe(true);
  });

  it('does not count a completed or revoked order', () => {
    const f = facts({
      serviceRequests: [
        order(cpt('77080'), { status: 'completed' }),
        order(cpt('77080'), { status: 'revoked' }),
      ],
    });
    expect(f.dxaOrdered).toBe(false);
    expect(f.phq9Ordered).toBe(false);
  });
});

describe('levels: a CPT add-on line (22512, 22515) is one more level', () => {
  it('counts a 22511 line at L3 and a 22512 line without a body site as two levels', () => {
    const f = facts({
      draftOrders: [draftOrder(cpt('22511'), { bodySite: [{ text: 'L3' }] }), draftOrder(cpt('22512'))],
    });
    expect(f.draft.augmentation).toEqual({
      kind: 'vertebroplasty',
      levels: ['L3'],
      additionalLevels: 1,
      matchedBy: 'cpt',
    });
    expect(f.features.fracturedLevelCount).toBe(2);
    expect(f.indexLevels).toEqual(['L3']);
  });

  it('counts two levels when neither the primary line nor the add-on line names a level', () => {
    const f = facts({ draftOrders: [draftOrder(cpt('22511')), draftOrder(cpt('22512'))] });
    expect(f.features.fracturedLevelCount).toBe(2);
  });

  it('does not count an add-on line twice when it names its level', () => {
    const f = facts({
      draftOrders: [
        draftOrder(cpt('22511'), { bodySite: [{ text: 'L3' }] }),
        draftOrder(cpt('22512'), { bodySite: [{ text: 'L4' }] }),
      ],
    });
    expect(f.draft.augmentation?.additionalLevels).toBe(0);
    expect(f.features.fracturedLevelCount).toBe(2);
  });

  it('adds one level for a past 22515 without a body site', () => {
    const f = facts({
      procedures: [
        procedure(cpt('22514'), { id: 'pkp-1', bodySite: [{ text: 'L1' }] }),
        procedure(cpt('22515'), { id: 'pkp-2' }),
      ],
    });
    expect(f.augmentations).toEqual([
      { kind: 'kyphoplasty', date: '2024-09-01', levels: ['L1'], additionalLevels: 0, matchedBy: 'cpt' },
      { kind: 'kyphoplasty', date: '2024-09-01', levels: [], additionalLevels: 1, matchedBy: 'cpt' },
    ]);
    expect(f.features.fracturedLevelCount).toBe(2);
  });

  it('counts two add-on lines of the same day as two more levels', () => {
    const f = facts({
      procedures: [
        procedure(cpt('22514'), { id: 'pkp-1', bodySite: [{ text: 'L1' }] }),
        procedure(cpt('22515'), { id: 'pkp-2' }),
        procedure(cpt('22515'), { id: 'pkp-3' }),
      ],
    });
    expect(f.features.fracturedLevelCount).toBe(3);
  });

  it('reads ICD-10-PCS 0QU03JZ as a past PVP, with the level from a Chinese body site', () => {
    const pcs = procedure(
      {
        coding: [
          {
            system: ICD10PCS,
            code: '0QU03JZ',
            display: 'Supplement Lumbar Vertebra with Synthetic Substitute, Percutaneous Approach',
          },
        ],
      },
      { bodySite: [{ text: '腰2椎体' }] },
    );
    const f = facts({ procedures: [pcs] });
    expect(f.augmentations).toEqual([
      {
        kind: 'vertebroplasty',
        date: '2024-09-01',
        levels: ['L2'],
        additionalLevels: 0,
        matchedBy: 'icd10pcs',
      },
    ]);
    expect(f.hasPriorAugmentation).toBe(true);
    expect(f.indexLevels).toEqual(['L2']);
    expect(f.textMatches).toEqual([]);
  });

  it('takes kyphoplasty from the text of an ICD-10-PCS procedure, still matched by code', () => {
    const pcs = procedure({ coding: [{ system: ICD10PCS, code: '0QU03JZ' }], text: '经皮椎体后凸成形术' });
    expect(facts({ procedures: [pcs] }).augmentations).toEqual([
      { kind: 'kyphoplasty', date: '2024-09-01', levels: [], additionalLevels: 0, matchedBy: 'icd10pcs' },
    ]);
  });
});

describe('repeat augmentation at a cemented level (facts.repeatAugmentation)', () => {
  const pvpAtL3 = procedure(cpt('22511'), { performedDateTime: '2022-03-01', bodySite: [{ text: 'L3' }] });

  it('is "ordered-again" when the draft PVP is at a level already augmented', () => {
    const f = facts({
      procedures: [pvpAtL3],
      draftOrders: [draftOrder(cpt('22511'), { bodySite: [{ text: '第3腰椎' }] })],
    });
    expect(f.repeatAugmentation).toEqual({
      reason: 'ordered-again',
      levels: ['L3'],
      augmentedOn: '2022-03-01',
    });
  });

  it('is absent when the draft is at another level', () => {
    const f = facts({
      procedures: [pvpAtL3],
      draftOrders: [draftOrder(cpt('22511'), { bodySite: [{ text: 'L4' }] })],
    });
    expect(f.repeatAugmentation).toBeUndefined();
  });

  it('is "new-fracture" for a non-traumatic fracture at the augmented level dated after the augmentation', () => {
    const f = facts({ procedures: [pvpAtL3], conditions: [fracture('M80.08XA', 'L3', '2025-04-01')] });
    expect(f.repeatAugmentation).toEqual({
      reason: 'new-fracture',
      levels: ['L3'],
      augmentedOn: '2022-03-01',
    });
  });

  it('is absent for the fracture that was augmented (dated before the augmentation)', () => {
    const f = facts({ procedures: [pvpAtL3], conditions: [fracture('M80.08XA', 'L3', '2022-02-10')] });
    expect(f.repeatAugmentation).toBeUndefined();
  });

  it('is absent for a new fracture at another level, or a traumatic one at the cemented level', () => {
    expect(
      facts({ procedures: [pvpAtL3], conditions: [fracture('M80.08XA', 'T12', '2025-04-01')] })
        .repeatAugmentation,
    ).toBeUndefined();
    expect(
      facts({ procedures: [pvpAtL3], conditions: [fracture('S32.030A', 'L3', '2025-04-01')] })
        .repeatAugmentation,
    ).toBeUndefined();
  });
});

describe('spine imaging being ordered (facts.draft.spineImaging)', () => {
  it.each([
    ['72148', { modality: 'MRI' }],
    ['72146', { modality: 'MRI' }],
    ['72131', { modality: 'CT' }],
    ['72128', { modality: 'CT' }],
  ])('reads CPT %s as %o', (code, imaging) => {
    const f = facts({ draftOrders: [draftOrder(cpt(code))] });
    expect(f.draft.spineImaging).toEqual(imaging);
    expect(f.draft.augmentation).toBeUndefined();
    expect(f.textMatches).toEqual([]);
  });

  it('reads nothing from a draft whose code has an empty coding (as PAMA-style drafts may send)', () => {
    const f = facts({ draftOrders: [draftOrder({ coding: [{}] })] });
    expect(f.draft.spineImaging).toBeUndefined();
    expect(f.draft.augmentation).toBeUndefined();
  });

  it('does not read a cervical spine MRI (CPT 72141) or a head MRI as spine imaging before augmentation', () => {
    expect(facts({ draftOrders: [draftOrder(cpt('72141'))] }).draft.spineImaging).toBeUndefined();
    expect(facts({ draftOrders: [draftOrder({ text: '头颅MRI平扫' })] }).draft.spineImaging).toBeUndefined();
  });

  it('reads "腰椎MRI平扫" as a lumbar MRI, and records the text match', () => {
    const f = facts({ draftOrders: [draftOrder({ text: '腰椎MRI平扫' })] });
    expect(f.draft.spineImaging).toEqual({ modality: 'MRI' });
    expect(f.textMatches).toEqual([{ resourceType: 'ServiceRequest', concept: { kind: 'spine-imaging' } }]);
  });

  it('reads "MRI lumbar spine" in English, and not as an augmentation', () => {
    const f = facts({ draftOrders: [draftOrder({ text: 'MRI lumbar spine with STIR' })] });
    expect(f.draft.spineImaging).toEqual({ modality: 'MRI' });
    expect(f.draft.augmentation).toBeUndefined();
  });

  it('ignores an imaging draft entered in error', () => {
    expect(
      facts({ draftOrders: [draftOrder(cpt('72148'), { status: 'entered-in-error' })] }).draft.spineImaging,
    ).toBeUndefined();
  });
});
