import type { Procedure, ServiceRequest } from 'fhir/r4';
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

const cpt = (code: string) => ({ coding: [{ system: CPT, code }] });
const facts = (parts: Partial<PatientRecord>) => extractFacts(record(parts), AS_OF);

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
    expect(f.augmentations).toEqual([{ kind, date: '2024-09-01', levels: ['L1'], matchedBy: 'cpt' }]);
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
    expect(f.augmentations).toEqual([{ kind, date: '2024-09-01', levels: [], matchedBy: 'text' }]);
    expect(f.textMatches).toEqual([{ resourceType: 'Procedure', concept: `augmentation:${kind}` }]);
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
      { kind: 'vertebroplasty', date: '2024-10-02', levels: ['T12', 'L1', 'L2'], matchedBy: 'text' },
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
    expect(f.ignored.map((i) => i.reason)).toEqual([
      'status not-done',
      'status entered-in-error',
      'augmentation: status preparation',
    ]);
  });

  it('counts the same procedure recorded twice once, but keeps an additional level', () => {
    const f = facts({
      procedures: [procedure(cpt('22510')), procedure(cpt('22510')), procedure(cpt('22512'))],
    });
    expect(f.augmentations).toHaveLength(2);
    expect(f.ignored).toEqual([{ resourceType: 'Procedure', reason: 'augmentation: duplicate' }]);
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
    expect(f.draft.augmentation).toEqual({ kind: 'kyphoplasty', levels: ['L1'], matchedBy: 'cpt' });
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
    expect(f.draft.augmentation).toEqual({ kind: 'kyphoplasty', levels: ['L3', 'L4'], matchedBy: 'text' });
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
    expect(f.textMatches).toEqual([{ resourceType: 'ServiceRequest', concept: 'order:dxa' }]);
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
