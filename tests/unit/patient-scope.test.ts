import type { Resource } from 'fhir/r4';
import { describe, expect, it } from 'vitest';
import {
  belongsTo,
  onlyPatient,
  ownDraftOrders,
  referencedPatientId,
} from '../../src/cds-hooks/patient-scope.ts';

const condition = (subject: unknown) => ({ resourceType: 'Condition', subject }) as unknown as Resource;

describe('referencedPatientId', () => {
  it.each([
    ['Patient/p1', 'p1'],
    ['  Patient/p1 ', 'p1'],
    ['https://ehr.example.org/fhir/Patient/p1', 'p1'],
    ['Patient/p1/_history/3', 'p1'],
    ['https://ehr.example.org/fhir/Patient/p1/_history/3', 'p1'],
  ])('%s names %s', (reference, id) => {
    expect(referencedPatientId(reference)).toBe(id);
  });

  it.each([
    'Group/p1',
    'urn:uuid:5f1d0c3e-2b7a-4c1e-9a77-1f2e3d4c5b6a',
    '#p1',
    'Patient/',
    'Patient/p1/extra',
    'Practitioner/p1',
    'XPatient/p1',
  ])('%s names no patient we can confirm', (reference) => {
    expect(referencedPatientId(reference)).toBeUndefined();
  });
});

describe('belongsTo', () => {
  it('keeps a resource whose subject is the patient in context', () => {
    expect(belongsTo(condition({ reference: 'Patient/p1' }), 'p1')).toBe(true);
  });

  it('drops a resource whose subject is another patient, in any reference form', () => {
    for (const reference of ['Patient/p2', 'https://x.org/fhir/Patient/p2', 'Patient/p2/_history/1']) {
      expect(belongsTo(condition({ reference }), 'p1')).toBe(false);
    }
  });

  it('does not take a patient id that only starts like ours', () => {
    expect(belongsTo(condition({ reference: 'Patient/p10' }), 'p1')).toBe(false);
  });

  it('drops a subject it cannot confirm: a Group, an identifier or display only, a non-object', () => {
    expect(belongsTo(condition({ reference: 'Group/p1' }), 'p1')).toBe(false);
    expect(belongsTo(condition({ identifier: { value: 'MRN-1' } }), 'p1')).toBe(false);
    expect(belongsTo(condition({ display: 'Jane' }), 'p1')).toBe(false);
    expect(belongsTo(condition('Patient/p1'), 'p1')).toBe(false);
  });

  it('checks `patient` as well as `subject`', () => {
    const allergy = { resourceType: 'AllergyIntolerance', patient: { reference: 'Patient/p2' } };
    expect(belongsTo(allergy, 'p1')).toBe(false);
    expect(belongsTo({ ...allergy, patient: { reference: 'Patient/p1' } }, 'p1')).toBe(true);
  });

  it('keeps a Patient with our id or none, drops a Patient with another id', () => {
    expect(belongsTo({ resourceType: 'Patient', id: 'p1' }, 'p1')).toBe(true);
    expect(belongsTo({ resourceType: 'Patient' }, 'p1')).toBe(true);
    expect(belongsTo({ resourceType: 'Patient', id: 'p2' }, 'p1')).toBe(false);
  });

  it('keeps resources that name no patient at all (a Medication)', () => {
    expect(belongsTo({ resourceType: 'Medication', id: 'm1' }, 'p1')).toBe(true);
  });
});

describe('onlyPatient', () => {
  it('drops foreign resources and counts them per key; keys with none are not counted', () => {
    const scoped = onlyPatient(
      {
        conditions: [
          condition({ reference: 'Patient/p1' }),
          condition({ reference: 'Patient/p2' }),
          condition({ reference: 'Patient/p3' }),
        ],
        patient: [{ resourceType: 'Patient', id: 'p2' } as Resource],
        observations: [],
      },
      'p1',
    );
    expect(scoped.data.conditions).toHaveLength(1);
    expect(scoped.data.patient).toEqual([]);
    expect(scoped.data.observations).toEqual([]);
    expect(scoped.foreign).toEqual({ conditions: 2, patient: 1 });
  });
});

describe('ownDraftOrders', () => {
  const draft = (subject?: string) => ({
    resource: {
      resourceType: 'ServiceRequest',
      status: 'draft',
      ...(subject ? { subject: { reference: subject } } : {}),
    },
  });

  it('removes draft orders for another patient and keeps ours and those naming nobody', () => {
    const context = {
      patientId: 'p1',
      draftOrders: { resourceType: 'Bundle', entry: [draft('Patient/p1'), draft('Patient/p2'), draft()] },
    };
    const { context: own, foreign } = ownDraftOrders(context, 'p1');
    expect(foreign).toBe(1);
    expect(own.draftOrders.entry).toEqual([draft('Patient/p1'), draft()]);
    expect(context.draftOrders.entry).toHaveLength(3);
  });

  it('leaves a context without draft orders as it is', () => {
    const context = { patientId: 'p1' };
    expect(ownDraftOrders(context, 'p1')).toEqual({ context, foreign: 0 });
  });
});
