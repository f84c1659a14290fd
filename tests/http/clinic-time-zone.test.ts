/**
 * Dates as the clinic sees them: the service's clock reads 2026-11-22T10:00Z (tests/support/app.ts), which
 * is already 23 November in Kiritimati (UTC+14). A patient born on 23 November 1946 is 79 in a UTC clinic
 * and 80 there, which moves the re-fracture age factor from 1 to 2 points.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { hookResponseSchema } from '../../src/cds-hooks/schemas.ts';
import { type RunningApp, startApp } from '../support/app.ts';
import { assessmentOf, cardKind } from '../support/hook-calls.ts';

const patientId = 'tz-patient';
const prefetch = {
  patient: { resourceType: 'Patient', id: patientId, gender: 'male', birthDate: '1946-11-23' },
  observations: null,
  imagingFindings: null,
  conditions: null,
  procedures: {
    resourceType: 'Bundle',
    type: 'searchset',
    entry: [
      {
        resource: {
          resourceType: 'Procedure',
          status: 'completed',
          subject: { reference: `Patient/${patientId}` },
          code: { coding: [{ system: 'http://www.ama-assn.org/go/cpt', code: '22511' }] },
          bodySite: [{ text: 'L4' }],
          performedDateTime: '2025-03-01',
        },
      },
    ],
  },
  medicationRequests: null,
  medicationStatements: null,
  medicationAdministrations: null,
  medicationDispenses: null,
  serviceRequests: null,
};

let app: RunningApp | undefined;
afterEach(async () => {
  await app?.close();
  app = undefined;
});

async function ageFactor(timeZone: string): Promise<number | undefined> {
  app = await startApp({ CLINIC_TIME_ZONE: timeZone });
  const response = await app.post('/cds-services/pvp-risk-patient-view', {
    hook: 'patient-view',
    hookInstance: '0d7bd1b6-5d8b-4a4e-a0a8-7f3c8d6c7a11',
    context: { userId: 'Practitioner/dr1', patientId },
    prefetch,
  });
  expect(response.status).toBe(200);
  const { cards } = hookResponseSchema.parse(await response.json());
  const risk = cards.find((c) => cardKind(c) === 'refracture-risk');
  if (!risk) throw new Error('no re-fracture card');
  return assessmentOf(risk).factors.find((f) => f.id === 'age')?.points;
}

describe('CLINIC_TIME_ZONE', () => {
  it('a patient is 79 on the day before her 80th birthday in a UTC clinic', async () => {
    expect(await ageFactor('UTC')).toBe(1);
  });

  it('and 80 in a clinic where that birthday has already begun', async () => {
    expect(await ageFactor('Pacific/Kiritimati')).toBe(2);
  });
});
