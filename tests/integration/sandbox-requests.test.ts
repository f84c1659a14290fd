/**
 * Requests shaped exactly like the CDS Hooks sandbox's own (captured from a local build): its Rx Sign
 * draft MedicationRequest (a Bundle without `type`, `category` as an object, a `{pill}` dose, a fixed id,
 * no `fhirAuthorization`), sent for patients of the demo FHIR server.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hookResponseSchema } from '../../src/cds-hooks/schemas.ts';
import { type RunningApp, startApp } from '../support/app.ts';
import { readFixture, startFhirServer, type TestFhirServer } from '../support/fhir-server.ts';
import { cardKind } from '../support/hook-calls.ts';

let app: RunningApp;
let fhir: TestFhirServer;

beforeAll(async () => {
  [app, fhir] = await Promise.all([startApp(), startFhirServer()]);
  for (const scenario of ['case-report', 'no-spine-disease']) await fhir.load(await readFixture(scenario));
});
afterAll(async () => {
  await Promise.all([app.close(), fhir.close()]);
});

/** The sandbox's Rx Sign draft for "Prednisone 20 MG Oral Tablet", 1 daily, with the supply it lets one pick. */
function rxSign(patientId: string, supplyDays: number, strength = 20) {
  return {
    hookInstance: 'd2a4b6c8-1e3f-4a5b-8c7d-9e0f1a2b3c4d',
    fhirServer: fhir.baseUrl,
    hook: 'order-sign',
    context: {
      userId: 'Practitioner/COREPRACTITIONER1',
      patientId,
      draftOrders: {
        resourceType: 'Bundle',
        entry: [
          {
            resource: {
              resourceType: 'MedicationRequest',
              id: 'request-123',
              status: 'draft',
              subject: { reference: `Patient/${patientId}` },
              authoredOn: '2026-11-22',
              dosageInstruction: [
                {
                  timing: { repeat: { frequency: 1, period: 1, periodUnit: 'd' } },
                  doseAndRate: [
                    { doseQuantity: { value: 1, system: 'http://unitsofmeasure.org', code: '{pill}' } },
                  ],
                },
              ],
              dispenseRequest: {
                expectedSupplyDuration: {
                  value: supplyDays,
                  unit: 'days',
                  system: 'http://unitsofmeasure.org',
                  code: 'd',
                },
              },
              intent: 'order',
              category: {
                coding: [
                  {
                    system: 'http://terminology.hl7.org/CodeSystem/medicationrequest-category',
                    code: 'community',
                  },
                ],
              },
              medicationCodeableConcept: {
                text: `Prednisone ${strength} MG Oral Tablet`,
                coding: [
                  {
                    display: `Prednisone ${strength} MG Oral Tablet`,
                    system: 'http://www.nlm.nih.gov/research/umls/rxnorm',
                    code: '312615',
                  },
                ],
              },
            },
          },
        ],
      },
    },
  };
}

async function sign(body: unknown) {
  const response = await app.post('/cds-services/pvp-risk-order-sign', body);
  expect(response.status).toBe(200);
  return hookResponseSchema.parse(await response.json()).cards;
}

describe('the sandbox Rx Sign screen', () => {
  it('a 30-day prednisone course after a PVP warns, states the course and does not count it as long-term', async () => {
    const [card, ...others] = await sign(rxSign('pvp-case-report', 30));
    expect(others).toEqual([]);
    expect(card && cardKind(card)).toBe('glucocorticoid-order');
    expect(card?.detail).toContain('Planned course: 30 days.');
    expect(card?.detail).toContain(
      'This course is shorter than 3 months, so the re-fracture score does not count it',
    );
  });

  it('a 90-day course is scored "if continued for 3 months or more"', async () => {
    const [card] = await sign(rxSign('pvp-case-report', 90));
    expect(card?.detail).toMatch(
      /If continued for 3 months or more, the re-fracture risk is high \(13 points/,
    );
  });

  it('a 7-day course gives no card at all, and neither does any course for a patient without spine disease', async () => {
    expect(await sign(rxSign('pvp-case-report', 7))).toEqual([]);
    expect(await sign(rxSign('pvp-no-spine-disease', 90))).toEqual([]);
  });
});
