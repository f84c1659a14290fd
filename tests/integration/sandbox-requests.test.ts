/**
 * Requests shaped exactly like the CDS Hooks sandbox's own (captured from a local build): its Rx Sign
 * draft MedicationRequest (a Bundle without `type`, `category` as an object, a `{pill}` dose, a fixed id,
 * no `fhirAuthorization`), sent for patients of the demo FHIR server.
 */
import { randomUUID } from 'node:crypto';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SignJWT } from 'jose';
import nock from 'nock';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hookResponseSchema } from '../../src/cds-hooks/schemas.ts';
import { type RunningApp, startApp } from '../support/app.ts';
import { signingKey } from '../support/ehr-client.ts';
import { readFixture, startFhirServer, type TestFhirServer } from '../support/fhir-server.ts';
import { cardKind, fullPrefetch } from '../support/hook-calls.ts';

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

describe("a token shaped like the sandbox's, offline", () => {
  /**
   * A key made for this test stands in for the sandbox's, configured inline for a client shaped like the
   * development default (the sandbox's issuer, its jku listed): the token names that jku, as the
   * sandbox's always does, and must verify with the inline copy alone.
   */
  const key = signingKey('ES384', '44823f3d-0b01-4a6c-a80e-b9d3e8a7226f');
  const jkuUrl = 'https://sandbox.cds-hooks.org/.well-known/jwks.json';

  /** As the sandbox's jwt-generator signs: ES384, its kid, its jku, exp = iat + 300. */
  async function sandboxToken(audience: string): Promise<string> {
    const iat = Math.round(Date.now() / 1000);
    return new SignJWT({
      iss: 'https://sandbox.cds-hooks.org',
      aud: audience,
      exp: iat + 300,
      iat,
      jti: randomUUID(),
    })
      .setProtectedHeader({ alg: 'ES384', typ: 'JWT', kid: key.kid, jku: jkuUrl })
      .sign(key.privateKey);
  }

  async function sandboxLikeClients(): Promise<string> {
    const file = join(await mkdtemp(join(tmpdir(), 'pvp-cds-sandbox-like-')), 'clients.json');
    const client = {
      iss: 'https://sandbox.cds-hooks.org',
      jwksUrls: [jkuUrl],
      jwks: { keys: [key.publicJwk] },
      fhirServers: [],
    };
    await writeFile(file, JSON.stringify({ clients: [client] }));
    return file;
  }

  it('verifies with the configured copy of its key set: discovery, hook and feedback, no fetch of its jku', async () => {
    const jku = nock('https://sandbox.cds-hooks.org').get('/.well-known/jwks.json').reply(503);
    const secured = await startApp({ CDS_AUTH: 'on', CDS_CLIENTS_FILE: await sandboxLikeClients() });
    try {
      const discovery = await fetch(`${secured.url}/cds-services`, {
        headers: { authorization: `Bearer ${await sandboxToken(`${secured.url}/cds-services`)}` },
      });
      expect(discovery.status).toBe(200);
      const path = '/cds-services/pvp-risk-order-sign';
      // The sandbox prefetches in the browser; this FHIR server is not one the sandbox client may name.
      const body = {
        ...rxSign('pvp-case-report', 30),
        prefetch: await fullPrefetch(fhir.baseUrl, 'pvp-case-report'),
      };
      const signed = await secured.post(path, body, {
        authorization: `Bearer ${await sandboxToken(`${secured.url}${path}`)}`,
      });
      expect(signed.status).toBe(200);
      const [card] = hookResponseSchema.parse(await signed.json()).cards;
      const feedback = await secured.post(
        `${path}/feedback`,
        {
          feedback: [
            { card: card?.uuid, outcome: 'overridden', outcomeTimestamp: '2026-11-22T10:01:00.000Z' },
          ],
        },
        { authorization: `Bearer ${await sandboxToken(`${secured.url}${path}/feedback`)}` },
      );
      expect(feedback.status).toBe(200);
      expect(jku.isDone()).toBe(false);
    } finally {
      nock.cleanAll();
      await secured.close();
    }
  });
});
