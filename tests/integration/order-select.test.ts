/**
 * pvp-risk-order-select, with requests shaped exactly like the CDS Hooks sandbox's order-select calls
 * (its PAMA Imaging screen and its Rx View) and prefetch the sandbox fills in itself: the advice of
 * order-sign before signing, nothing for orders that are not ours, and no FHIR call.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Card, hookResponseSchema } from '../../src/cds-hooks/schemas.ts';
import { type RunningApp, startApp } from '../support/app.ts';
import { readFixture, startFhirServer, type TestFhirServer } from '../support/fhir-server.ts';
import { cardKind, fullPrefetch, patientIdOf } from '../support/hook-calls.ts';

const service = '/cds-services/pvp-risk-order-select';
let app: RunningApp;
let fhir: TestFhirServer;
const prefetch: Record<string, Record<string, unknown>> = {};

beforeAll(async () => {
  [app, fhir] = await Promise.all([startApp(), startFhirServer()]);
  for (const scenario of ['high-rbp-risk', 'no-spine-disease', 'case-report']) {
    await fhir.load(await readFixture(scenario));
    const patientId = await patientIdOf(scenario);
    prefetch[patientId] = await fullPrefetch(fhir.baseUrl, patientId);
  }
});
afterAll(async () => {
  await Promise.all([app.close(), fhir.close()]);
});

/** The PAMA Imaging screen's order-select: one draft ServiceRequest, `intent: plan`, SNOMED reasons. */
function pama(patientId: string, study: Record<string, string>) {
  return {
    hook: 'order-select',
    hookInstance: 'b8f1a1c2-3d4e-4f50-8a6b-7c8d9e0f1a2b',
    fhirServer: fhir.baseUrl,
    context: {
      userId: 'Practitioner/COREPRACTITIONER1',
      patientId,
      selections: ['ServiceRequest/example-request-id'],
      draftOrders: {
        resourceType: 'Bundle',
        entry: [
          {
            resource: {
              resourceType: 'ServiceRequest',
              id: 'example-request-id',
              status: 'draft',
              intent: 'plan',
              code: { coding: [study], ...(study.display ? { text: study.display } : {}) },
              subject: { reference: `Patient/${patientId}` },
              reasonCode: [
                {
                  coding: [{ system: 'http://snomed.info/sct', code: '279039007', display: 'Low back pain' }],
                  text: 'Low back pain',
                },
              ],
            },
          },
        ],
      },
    },
    prefetch: prefetch[patientId],
  };
}

const lumbarMri = {
  system: 'http://www.ama-assn.org/go/cpt',
  code: '72148',
  display:
    'Magnetic resonance (eg, proton) imaging, spinal canal and contents, lumbar; without contrast material',
};

async function select(body: unknown): Promise<Card[]> {
  const before = fhir.requests.length;
  const response = await app.post(service, body);
  expect(response.status).toBe(200);
  expect(fhir.requests.length).toBe(before);
  return hookResponseSchema.parse(await response.json()).cards;
}

describe('the sandbox PAMA Imaging screen', () => {
  it('its first call, before a study is picked (an empty coding), is 200 with no cards', async () => {
    expect(await select(pama('pvp-high-rbp-risk', {}))).toEqual([]);
  });

  it('an MRI of the lumbar spine for a patient with an OVCF shows the residual back pain card', async () => {
    const cards = await select(pama('pvp-high-rbp-risk', lumbarMri));
    expect(cards.map(cardKind)).toContain('residual-pain-risk');
    const risk = cards.find((c) => cardKind(c) === 'residual-pain-risk');
    expect(risk?.detail).toContain('MRI');
  });

  it('the same study for a patient without spine disease shows nothing, nor a head CT for the OVCF patient', async () => {
    expect(await select(pama('pvp-no-spine-disease', lumbarMri))).toEqual([]);
    const headCt = {
      system: 'http://www.ama-assn.org/go/cpt',
      code: '70450',
      display: 'Computed tomography, head or brain; without contrast material',
    };
    expect(await select(pama('pvp-high-rbp-risk', headCt))).toEqual([]);
  });

  it('answers the same cards for the same selection, every time the form changes', async () => {
    const first = await select(pama('pvp-high-rbp-risk', lumbarMri));
    const second = await select(pama('pvp-high-rbp-risk', lumbarMri));
    const strip = (cards: Card[]) =>
      JSON.stringify(cards).replace(/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/g, '*');
    expect(strip(second)).toBe(strip(first));
  });

  it('advises on the selected order only', async () => {
    const body = pama('pvp-high-rbp-risk', lumbarMri);
    body.context.selections = ['ServiceRequest/another-order'];
    expect(await select(body)).toEqual([]);
  });
});

describe('the sandbox Rx View', () => {
  it('a prednisone course selected after a PVP warns before signing', async () => {
    const body = {
      hook: 'order-select',
      hookInstance: 'c9e2b3d4-5f6a-4b7c-8d9e-0f1a2b3c4d5e',
      fhirServer: fhir.baseUrl,
      context: {
        userId: 'Practitioner/COREPRACTITIONER1',
        patientId: 'pvp-case-report',
        selections: ['MedicationRequest/request-123'],
        draftOrders: {
          resourceType: 'Bundle',
          entry: [
            {
              resource: {
                resourceType: 'MedicationRequest',
                id: 'request-123',
                status: 'draft',
                subject: { reference: 'Patient/pvp-case-report' },
                dosageInstruction: [{ timing: { repeat: { frequency: 1, period: 1, periodUnit: 'd' } } }],
                dispenseRequest: {
                  expectedSupplyDuration: {
                    value: 30,
                    unit: 'days',
                    system: 'http://unitsofmeasure.org',
                    code: 'd',
                  },
                },
                medicationCodeableConcept: {
                  text: 'Prednisone 20 MG Oral Tablet',
                  coding: [
                    {
                      display: 'Prednisone 20 MG Oral Tablet',
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
      prefetch: prefetch['pvp-case-report'],
    };
    const cards = await select(body);
    expect(cards.map(cardKind)).toEqual(['glucocorticoid-order']);
  });
});

describe('discovery', () => {
  it('lists the order-select service with the same prefetch templates as order-sign', async () => {
    const { services } = (await (await fetch(`${app.url}/cds-services`)).json()) as {
      services: Array<{ id: string; hook: string; prefetch: Record<string, string> }>;
    };
    const select = services.find((s) => s.id === 'pvp-risk-order-select');
    const sign = services.find((s) => s.id === 'pvp-risk-order-sign');
    expect(select?.hook).toBe('order-select');
    expect(select?.prefetch).toEqual(sign?.prefetch);
  });
});
