import type { Observation } from 'fhir/r4';
import { describe, expect, it } from 'vitest';
import { patientRecord } from '../../src/services/patient-data.ts';

const dxa: Observation = {
  resourceType: 'Observation',
  id: 'dxa-1',
  status: 'final',
  category: [{ coding: [{ code: 'imaging' }] }],
  code: { coding: [{ system: 'http://loinc.org', code: '38267-1' }] },
};

describe('assembling the record from prefetch keys', () => {
  it('keeps one copy of a resource that two keys returned', () => {
    const record = patientRecord({ observations: [dxa], imagingFindings: [dxa, { ...dxa, id: 'cleft' }] });
    expect(record.observations.map((o) => o.id)).toEqual(['dxa-1', 'cleft']);
  });

  it('keeps resources without an id, and sorts resources to their place by type', () => {
    const { id: _, ...anonymous } = dxa;
    const record = patientRecord({
      observations: [anonymous, anonymous],
      medicationRequests: [{ resourceType: 'Medication', id: 'm1' }],
      patient: [{ resourceType: 'Patient', id: 'p1' }],
    });
    expect(record.observations).toHaveLength(2);
    expect(record.medicationResources.map((m) => m.id)).toEqual(['m1']);
    expect(record.patient?.id).toBe('p1');
  });
});
