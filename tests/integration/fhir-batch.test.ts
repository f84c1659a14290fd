/**
 * The FHIR fallback in one round trip: against a real FHIR server whose CapabilityStatement declares
 * `batch`, every key missing from prefetch is read with one batch request (once the statement, read
 * once per server, is known); against one that does not, or that refuses a batch, key by key. The
 * cards are the same as with full prefetch in every case.
 */

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Card } from '../../src/cds-hooks/schemas.ts';
import { prefetchTemplates } from '../../src/services/patient-data.ts';
import { type RunningApp, startApp } from '../support/app.ts';
import { readFixture, startFhirServer, type TestFhirServer } from '../support/fhir-server.ts';
import { fullPrefetch, hookBody, stable } from '../support/hook-calls.ts';

const patientId = 'pvp-high-rbp-risk';
/** The GET each prefetch key of patient-view is, without its query. */
const keyPaths = Object.values(prefetchTemplates)
  .map((template) => `GET /${template.split('?')[0]?.replace('{{context.patientId}}', patientId)}`)
  .sort();

let app: RunningApp;
let batching: TestFhirServer;
let plain: TestFhirServer;
let expected: unknown;

async function patientView(fhir: TestFhirServer, prefetch?: Record<string, unknown>) {
  const response = await app.post(
    '/cds-services/pvp-risk-patient-view',
    await hookBody('patient-view', patientId, {
      fhirServer: fhir.baseUrl,
      ...(prefetch ? { prefetch } : {}),
    }),
  );
  const body = (await response.json()) as { cards?: Card[]; issue?: Array<{ expression?: string[] }> };
  return { status: response.status, body };
}

/** Calls until the app has read the server's CapabilityStatement and batches (at most 20 calls). */
async function untilBatching(fhir: TestFhirServer): Promise<void> {
  for (let i = 0; i < 20; i++) {
    fhir.requests.length = 0;
    await patientView(fhir);
    if (fhir.requests.some((r) => r.method === 'POST' && r.path === '/')) return;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  throw new Error('the app never sent a batch');
}

beforeAll(async () => {
  [app, batching, plain] = await Promise.all([
    startApp(),
    startFhirServer({ batch: true }),
    startFhirServer(),
  ]);
  const fixture = await readFixture('high-rbp-risk');
  await Promise.all([batching.load(fixture), plain.load(fixture)]);
  const withPrefetch = await patientView(plain, await fullPrefetch(plain.baseUrl, patientId));
  expect(withPrefetch.status).toBe(200);
  expected = stable(withPrefetch.body.cards ?? []);
  expect((withPrefetch.body.cards ?? []).length).toBeGreaterThan(0);
});
afterAll(async () => {
  await Promise.all([app.close(), batching.close(), plain.close()]);
});

describe('FHIR fallback in one batch', () => {
  it('reads every missing key with one batch request once the server says it takes batches', async () => {
    await untilBatching(batching);
    batching.requests.length = 0;
    const { status, body } = await patientView(batching);
    expect(status).toBe(200);
    expect(stable(body.cards ?? [])).toEqual(expected);
    expect(batching.requests.map((r) => `${r.method} ${r.path}`)).toEqual(['POST /']);
  });

  it('reads the CapabilityStatement once per server, not per call', async () => {
    await untilBatching(batching);
    batching.requests.length = 0;
    for (let i = 0; i < 3; i++) await patientView(batching);
    expect(batching.requests.filter((r) => r.path === '/metadata')).toEqual([]);
  });

  it('batches only the keys the request did not give', async () => {
    await untilBatching(batching);
    const full = await fullPrefetch(batching.baseUrl, patientId);
    batching.requests.length = 0;
    const { status, body } = await patientView(batching, {
      patient: full.patient,
      observations: full.observations,
      conditions: full.conditions,
    });
    expect(status).toBe(200);
    expect(stable(body.cards ?? [])).toEqual(expected);
    expect(batching.requests.map((r) => `${r.method} ${r.path}`)).toEqual(['POST /']);
  });

  it('a single missing key is a plain GET', async () => {
    await untilBatching(batching);
    const { medicationRequests: _, ...rest } = await fullPrefetch(batching.baseUrl, patientId);
    batching.requests.length = 0;
    const { status, body } = await patientView(batching, rest);
    expect(status).toBe(200);
    expect(stable(body.cards ?? [])).toEqual(expected);
    expect(batching.requests.map((r) => `${r.method} ${r.path}`)).toEqual(['GET /MedicationRequest']);
  });

  it('follows next links of a batched searchset page by page', async () => {
    const paging = await startFhirServer({ batch: true, maxPageSize: 2 });
    try {
      await paging.load(await readFixture('high-rbp-risk'));
      await untilBatching(paging);
      paging.requests.length = 0;
      const { status, body } = await patientView(paging);
      expect(status).toBe(200);
      expect(stable(body.cards ?? [])).toEqual(expected);
      const seen = paging.requests.map((r) => `${r.method} ${r.path}`);
      expect(seen[0]).toBe('POST /');
      expect(seen.slice(1).length).toBeGreaterThan(0);
      expect(seen.slice(1).every((s) => s.startsWith('GET /'))).toBe(true);
    } finally {
      await paging.close();
    }
  });

  it('a key whose batch entry fails is named in the 412, from that one request', async () => {
    await untilBatching(batching);
    batching.requests.length = 0;
    batching.setFaults({ failWith: 500, failOnly: /^\/Observation/ });
    try {
      const { status, body } = await patientView(batching);
      expect(status).toBe(412);
      expect(body.issue?.[0]?.expression).toEqual(['observations']);
      expect(JSON.stringify(body)).toMatch(/observations: HTTP 500/);
      expect(batching.requests.map((r) => `${r.method} ${r.path}`)).toEqual(['POST /']);
    } finally {
      batching.setFaults({});
    }
  });

  it('a server that declares batch but refuses one is read key by key, in that call and the next', async () => {
    const refusing = await startFhirServer({ batch: true });
    try {
      await refusing.load(await readFixture('high-rbp-risk'));
      await untilBatching(refusing);
      refusing.setFaults({ failWith: 405, failOnly: /^\/\?$/ });
      refusing.requests.length = 0;
      const first = await patientView(refusing);
      expect(first.status).toBe(200);
      expect(stable(first.body.cards ?? [])).toEqual(expected);
      const seen = refusing.requests.map((r) => `${r.method} ${r.path}`);
      expect(seen[0]).toBe('POST /');
      expect(seen.slice(1).sort()).toEqual(keyPaths);
      refusing.requests.length = 0;
      const second = await patientView(refusing);
      expect(stable(second.body.cards ?? [])).toEqual(expected);
      expect(refusing.requests.some((r) => r.method === 'POST')).toBe(false);
      expect(refusing.requests).toHaveLength(keyPaths.length);
    } finally {
      await refusing.close();
    }
  });

  it('a server whose CapabilityStatement does not declare batch is never sent one', async () => {
    plain.requests.length = 0;
    for (let i = 0; i < 3; i++) {
      const { status, body } = await patientView(plain);
      expect(status).toBe(200);
      expect(stable(body.cards ?? [])).toEqual(expected);
    }
    expect(plain.requests.some((r) => r.method === 'POST')).toBe(false);
    expect(plain.requests.filter((r) => r.path === '/metadata').length).toBeLessThanOrEqual(1);
    expect(plain.requests.filter((r) => r.path !== '/metadata')).toHaveLength(3 * keyPaths.length);
  });
});
