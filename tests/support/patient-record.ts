/** A PatientRecord with nothing in it but the parts a test gives. */
import type { PatientRecord } from '../../src/clinical/patient-facts.ts';

export function record(parts: Partial<PatientRecord>): PatientRecord {
  return {
    observations: [],
    conditions: [],
    procedures: [],
    medications: [],
    medicationResources: [],
    serviceRequests: [],
    draftOrders: [],
    ...parts,
  };
}
