/**
 * The demo and test FHIR server answers a form-encoded `POST [type]/_search` (how the CDS Hooks sandbox
 * fetches prefetch) exactly like the GET search, for every search our prefetch templates make; and its
 * `ignoreFilters` fault imitates a server that ignores the form body and returns every patient's data.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { renderTemplate } from '../../src/cds-hooks/prefetch.ts';
import { prefetchTemplates } from '../../src/services/patient-data.ts';
import { readFixture, startFhirServer, type TestFhirServer } from './fhir-server.ts';

let fhir: TestFhirServer;
/** Between them, these fixtures hold every resource type our prefetch searches for. */
const scenarios = [
  'case-report',
  'denosumab-stopped',
  'unfamiliar-coding',
  'prior-fragility-fracture',
  'prednisone-burst',
];
const patients = scenarios.map((scenario) => `pvp-${scenario}`);

beforeAll(async () => {
  fhir = await startFhirServer();
  for (const scenario of scenarios) await fhir.load(await readFixture(scenario));
});
afterAll(() => fhir.close());

interface SearchAnswer {
  status: number;
  ids: string[];
  subjects: Set<string | undefined>;
  total: unknown;
}

async function answer(response: Response): Promise<SearchAnswer> {
  const bundle = (await response.json()) as {
    total?: unknown;
    entry?: Array<{ resource?: { resourceType: string; id?: string; subject?: { reference?: string } } }>;
  };
  const entries = bundle.entry ?? [];
  return {
    status: response.status,
    ids: entries.map((e) => `${e.resource?.resourceType}/${e.resource?.id}`),
    subjects: new Set(entries.map((e) => e.resource?.subject?.reference)),
    total: bundle.total,
  };
}

const searches = Object.entries(prefetchTemplates).filter(([, template]) => template.includes('?'));

describe.each(searches)('prefetch key %s', (_key, template) => {
  it.each(patients)('POST _search with a form body answers like GET, for %s', async (patientId) => {
    const rendered = renderTemplate(template, { patientId, userId: 'Practitioner/x' }) ?? '';
    const [type, query = ''] = rendered.split('?');
    const viaGet = await answer(await fetch(`${fhir.baseUrl}/${type}?${query}`));
    const viaPost = await answer(
      await fetch(`${fhir.baseUrl}/${type}/_search`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: query,
      }),
    );
    expect(viaGet.status).toBe(200);
    expect(viaPost).toEqual(viaGet);
    expect([...viaPost.subjects].filter((s) => s !== `Patient/${patientId}`)).toEqual([]);
  });

  it('returns something for at least one fixture patient, so the comparison is not of two empty answers', async () => {
    const counts = await Promise.all(
      patients.map(async (patientId) => {
        const rendered = renderTemplate(template, { patientId, userId: 'Practitioner/x' }) ?? '';
        const [type, query = ''] = rendered.split('?');
        const response = await fetch(`${fhir.baseUrl}/${type}/_search`, {
          method: 'POST',
          headers: { 'content-type': 'application/x-www-form-urlencoded' },
          body: query,
        });
        return (await answer(response)).ids.length;
      }),
    );
    expect(Math.max(...counts)).toBeGreaterThan(0);
  });
});

describe('POST _search', () => {
  it('takes parameters from the query string and the form body together', async () => {
    const response = await fetch(`${fhir.baseUrl}/Condition/_search?patient=pvp-case-report`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: '_count=1',
    });
    const found = await answer(response);
    expect(found.ids).toHaveLength(1);
    expect(found.total).toBeGreaterThan(1);
  });

  it('refuses a body that is not form-encoded with 415', async () => {
    const response = await fetch(`${fhir.baseUrl}/Condition/_search`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ patient: 'pvp-case-report' }),
    });
    expect(response.status).toBe(415);
  });

  it('rejects an unknown search parameter in the body as GET does', async () => {
    const response = await fetch(`${fhir.baseUrl}/Condition/_search`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'colour=blue',
    });
    expect(response.status).toBe(400);
  });
});

describe('ignoreFilters fault', () => {
  it("returns every patient's resources of the type, whatever the filters", async () => {
    fhir.setFaults({ ignoreFilters: true });
    try {
      const found = await answer(await fetch(`${fhir.baseUrl}/Condition?patient=pvp-case-report`));
      expect(found.subjects).toEqual(new Set(patients.map((p) => `Patient/${p}`)));
    } finally {
      fhir.setFaults({});
    }
  });
});
