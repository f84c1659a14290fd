import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { discoveryResponseSchema, hookResponseSchema } from '../../src/cds-hooks/schemas.ts';
import { type RunningApp, startApp } from '../support/app.ts';
import { readFixture } from '../support/fhir-server.ts';
import { hookBody } from '../support/hook-calls.ts';

let app: RunningApp;
beforeAll(async () => {
  app = await startApp({ PUBLIC_BASE_URL: 'https://cds.example.org/pvp/' });
});
afterAll(() => app.close());

/** A prefetch as a client would send it, straight from a fixture (no FHIR server involved). */
async function prefetchFrom(scenario: string) {
  const bundle = await readFixture(scenario);
  const resources = (bundle.entry ?? []).flatMap((e) => (e.resource ? [e.resource] : []));
  const searchset = (type: string) => ({
    resourceType: 'Bundle',
    type: 'searchset',
    entry: resources.filter((r) => r.resourceType === type).map((resource) => ({ resource })),
  });
  return {
    patient: resources.find((r) => r.resourceType === 'Patient'),
    observations: searchset('Observation'),
    conditions: searchset('Condition'),
    procedures: searchset('Procedure'),
    medicationRequests: searchset('MedicationRequest'),
    medicationStatements: searchset('MedicationStatement'),
    medicationAdministrations: searchset('MedicationAdministration'),
    medicationDispenses: searchset('MedicationDispense'),
    serviceRequests: searchset('ServiceRequest'),
    imagingFindings: null,
  };
}

describe('GET /cds-services', () => {
  it('lists the three services with title, description and prefetch templates', async () => {
    const res = await fetch(`${app.url}/cds-services`);
    expect(res.status).toBe(200);
    const { services } = discoveryResponseSchema.parse(await res.json());
    expect(services.map((s) => [s.id, s.hook])).toEqual([
      ['pvp-risk-patient-view', 'patient-view'],
      ['pvp-risk-order-sign', 'order-sign'],
      ['pvp-risk-order-select', 'order-select'],
    ]);
    for (const service of services) {
      expect(service.title).toBeTruthy();
      expect(service.description.length).toBeGreaterThan(40);
      expect(service.prefetch?.patient).toBe('Patient/{{context.patientId}}');
      expect(service.prefetch?.observations).toMatch(
        /^Observation\?patient=\{\{context\.patientId\}\}&code=http:\/\/loinc\.org\|38267-1,.*http:\/\/loinc\.org\|72166-2&_sort=-date/,
      );
      expect(service.prefetch?.observations, 'DXA panels reporting T-scores as components').toContain(
        'http://loinc.org|83311-1',
      );
      expect(service.prefetch?.medicationDispenses).toBe(
        'MedicationDispense?patient={{context.patientId}}&_count=200',
      );
      expect(Object.keys(service.prefetch ?? {})).toEqual(
        expect.arrayContaining([
          'conditions',
          'procedures',
          'medicationRequests',
          'medicationStatements',
          'medicationAdministrations',
          'medicationDispenses',
        ]),
      );
    }
  });
});

describe('locale', () => {
  it('answers in Simplified Chinese when Accept-Language prefers it, in English otherwise', async () => {
    const body = await hookBody('patient-view', 'pvp-unfamiliar-coding', {
      prefetch: await prefetchFrom('unfamiliar-coding'),
    });
    const zh = hookResponseSchema.parse(
      await (
        await app.post('/cds-services/pvp-risk-patient-view', body, {
          'accept-language': 'zh-CN,zh;q=0.9,en;q=0.5',
        })
      ).json(),
    );
    expect(zh.cards[0]?.summary).toBe(
      '椎体强化术后新发或再发椎体骨折：高风险（14 分）：长期全身性糖皮质激素、目前无有效的抗骨质疏松药物治疗、责任椎位于胸腰段',
    );
    const en = hookResponseSchema.parse(
      await (
        await app.post('/cds-services/pvp-risk-patient-view', body, { 'accept-language': 'fr-FR, en;q=0.8' })
      ).json(),
    );
    expect(en.cards[0]?.summary).toMatch(
      /^New or repeat vertebral fracture after augmentation: high risk \(14 pts\)/,
    );
  });

  it('links cards to the model description under the public base URL', async () => {
    const body = await hookBody('patient-view', 'pvp-unfamiliar-coding', {
      prefetch: await prefetchFrom('unfamiliar-coding'),
    });
    const { cards } = hookResponseSchema.parse(
      await (await app.post('/cds-services/pvp-risk-patient-view', body)).json(),
    );
    expect(cards[0]?.source.url).toBe('https://cds.example.org/pvp/models/refracture-v1');
  });
});

describe('GET /models/{id}', () => {
  it('serves the versioned model with its citations', async () => {
    const res = await fetch(`${app.url}/models/rbp-v1`);
    expect(res.status).toBe(200);
    const model = (await res.json()) as {
      id: string;
      factors: Array<{ id: string; citation: { short: string } }>;
    };
    expect(model.id).toBe('rbp-v1');
    expect(model.factors.find((f) => f.id === 'depression')?.citation.short).toBe('Yang 2019');
  });

  it('404 with an OperationOutcome for an unknown model', async () => {
    const res = await fetch(`${app.url}/models/nope-v9`);
    expect(res.status).toBe(404);
    expect(await res.json()).toMatchObject({ resourceType: 'OperationOutcome' });
  });
});
