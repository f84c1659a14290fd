import type { Condition, Observation, Procedure } from 'fhir/r4';
import { describe, expect, it } from 'vitest';
import { extractFacts } from '../../src/clinical/facts.ts';
import type { PatientRecord } from '../../src/clinical/patient-facts.ts';
import { record } from '../support/patient-record.ts';

const AS_OF = new Date('2025-06-15T10:00:00Z');
const SNOMED = 'http://snomed.info/sct';
const patient = { reference: 'Patient/p' };

const finding = (code: Observation['code'], fields: Partial<Observation> = {}): Observation => ({
  resourceType: 'Observation',
  status: 'final',
  code,
  effectiveDateTime: '2025-05-01',
  ...fields,
});
const diagnosis = (code: Condition['code']): Condition => ({
  resourceType: 'Condition',
  subject: patient,
  code,
});
const priorPvp: Procedure = {
  resourceType: 'Procedure',
  status: 'completed',
  subject: patient,
  code: { coding: [{ system: 'http://www.ama-assn.org/go/cpt', code: '22511' }] },
  performedDateTime: '2024-01-01',
};
const facts = (parts: Partial<PatientRecord>) => extractFacts(record(parts), AS_OF, 'UTC');

describe('imaging findings', () => {
  it('are not assessed when nothing is said about them', () => {
    const f = facts({ procedures: [priorPvp] });
    for (const name of [
      'intravertebralCleft',
      'fasciaInjury',
      'cementMaldistribution',
      'cementLeakage',
      'solidLumpCement',
      'paraspinalFattyDegeneration',
      'cementNotTouchingEndplates',
      'kyphosis',
    ] as const) {
      expect(f.features[name], name).toBeUndefined();
    }
  });

  it('are absent, not unassessed, for cement when there has been no augmentation', () => {
    const f = facts({});
    expect(f.features).toMatchObject({
      cementMaldistribution: false,
      cementLeakage: false,
      solidLumpCement: false,
      cementNotTouchingEndplates: false,
    });
    expect(f.features.intravertebralCleft).toBeUndefined();
  });

  it('reads kyphosis by its SNOMED CT code', () => {
    const f = facts({ conditions: [diagnosis({ coding: [{ system: SNOMED, code: '414564002' }] })] });
    expect(f.features.kyphosis).toBe(true);
    expect(f.textMatches).toEqual([]);
  });

  it.each([
    ['Kümmell disease', 'intravertebralCleft'],
    ['Kummell disease of T12', 'intravertebralCleft'],
    ['椎体内裂隙', 'intravertebralCleft'],
    ['Thoracolumbar fascia injury', 'fasciaInjury'],
    ['胸腰筋膜损伤', 'fasciaInjury'],
    ['椎旁肌脂肪浸润', 'paraspinalFattyDegeneration'],
    ['Multifidus fatty infiltration', 'paraspinalFattyDegeneration'],
    ['后凸畸形', 'kyphosis'],
  ] as const)('reads the diagnosis %j as %s', (text, name) => {
    const f = facts({ conditions: [diagnosis({ text })] });
    expect(f.features[name]).toBe(true);
    expect(f.textMatches).toEqual([
      { resourceType: 'Condition', concept: { kind: 'finding', finding: name } },
    ]);
  });

  it('does not read kyphoplasty as kyphosis', () => {
    expect(
      facts({ procedures: [priorPvp], conditions: [diagnosis({ text: '椎体后凸成形术后' })] }).features
        .kyphosis,
    ).toBeUndefined();
  });

  it('reads an Observation that names the finding, with or without an answer', () => {
    const f = facts({
      observations: [
        finding({ text: 'Intravertebral vacuum cleft' }),
        finding({ text: 'Thoracolumbar fascia oedema' }, { valueBoolean: true }),
      ],
    });
    expect(f.features.intravertebralCleft).toBe(true);
    expect(f.features.fasciaInjury).toBe(true);
  });

  it('reads an explicit absence as false', () => {
    const f = facts({
      observations: [
        finding({ text: 'Intravertebral cleft' }, { valueBoolean: false }),
        finding(
          { text: 'Thoracolumbar fascia injury' },
          { valueCodeableConcept: { coding: [{ system: SNOMED, code: '2667000' }] } },
        ),
        finding({ text: 'MRI' }, { valueString: '未见椎旁肌脂肪浸润' }),
      ],
    });
    expect(f.features.intravertebralCleft).toBe(false);
    expect(f.features.fasciaInjury).toBe(false);
    expect(f.features.paraspinalFattyDegeneration).toBe(false);
  });

  it('reads the finding as the value of an imaging Observation', () => {
    const f = facts({
      observations: [finding({ text: 'MRI finding' }, { valueCodeableConcept: { text: '骨水泥渗漏' } })],
    });
    expect(f.features.cementLeakage).toBe(false);
    expect(f.ignored).toEqual([
      { resourceType: 'Observation', reason: 'no-prior-augmentation', topic: 'cementLeakage' },
    ]);
    const after = facts({
      procedures: [priorPvp],
      observations: [finding({ text: 'MRI finding' }, { valueCodeableConcept: { text: '骨水泥渗漏' } })],
    });
    expect(after.features.cementLeakage).toBe(true);
  });

  it('reads the cement findings only after a prior augmentation', () => {
    const cement = [
      diagnosis({ text: 'Cement leakage into the disc' }),
      diagnosis({ text: '骨水泥分布不均' }),
      diagnosis({ text: '骨水泥呈团块状分布' }),
      diagnosis({ text: 'Cement not touching both endplates (NPEC)' }),
    ];
    const before = facts({ conditions: cement });
    expect(before.features).toMatchObject({ cementLeakage: false, cementMaldistribution: false });
    const after = facts({ conditions: cement, procedures: [priorPvp] });
    expect(after.features).toMatchObject({
      cementLeakage: true,
      cementMaldistribution: true,
      solidLumpCement: true,
      cementNotTouchingEndplates: true,
    });
  });

  it('lets a positive statement win over a negative one', () => {
    const f = facts({
      procedures: [priorPvp],
      observations: [finding({ text: 'CT' }, { valueString: 'no cement leakage' })],
      conditions: [diagnosis({ text: 'Cement leakage' })],
    });
    expect(f.features.cementLeakage).toBe(true);
  });

  it('does not read a measurement as the finding it measures', () => {
    const angle = finding({ text: 'Kyphosis angle (Cobb)' }, { valueQuantity: { value: 12, unit: 'deg' } });
    expect(facts({ observations: [angle] }).features.kyphosis).toBeUndefined();
  });

  it('does not read a finding from a withdrawn Observation', () => {
    const f = facts({
      observations: [finding({ text: 'Intravertebral cleft' }, { status: 'entered-in-error' })],
    });
    expect(f.features.intravertebralCleft).toBeUndefined();
  });
});
