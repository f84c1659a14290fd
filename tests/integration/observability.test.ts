import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Card } from '../../src/cds-hooks/schemas.ts';
import { type RunningApp, startApp, testDate } from '../support/app.ts';
import { clientToken, type SigningKey, signingKey, writeClientsFile } from '../support/ehr-client.ts';
import { readFixture, startFhirServer, type TestFhirServer } from '../support/fhir-server.ts';
import { fullPrefetch, hookBody } from '../support/hook-calls.ts';
import { capturedLogger } from '../support/log-capture.ts';

const issuer = 'https://ehr.example-hospital.org';
const patientId = 'pvp-high-rbp-risk';
/** What identifies the fixture's patient, and the secrets of the calls. */
const identifying = ['pvp-high-rbp-risk', 'MRN-PVP-HIGH-RBP-RISK', 'High-RBP', '1952-06-02'];
const accessToken = 'ehr-access-token-4f1c9a7e2b';

const { logger, lines } = capturedLogger();
let app: RunningApp;
let fhir: TestFhirServer;
let key: SigningKey;
const tokens: string[] = [];

function signed(path: string): Record<string, string> {
  const token = clientToken({ iss: issuer, aud: `${app.url}${path}`, key });
  tokens.push(token);
  return { authorization: `Bearer ${token}` };
}

async function hook(path: string, body: unknown, headers: Record<string, string> = {}) {
  return app.post(path, body, { ...signed(path), ...headers });
}

const patientView = '/cds-services/pvp-risk-patient-view';
const orderSign = '/cds-services/pvp-risk-order-sign';

const logged = () => lines.map((line) => JSON.parse(line) as Record<string, unknown>);
const requestLines = () => logged().filter((line) => line.msg === 'request');

let prefetchAnswer: Response;
let fallbackAnswer: Response;
let metricsText: string;

beforeAll(async () => {
  key = signingKey('ES384');
  fhir = await startFhirServer();
  await fhir.load(await readFixture('high-rbp-risk'));
  const clientsFile = await writeClientsFile([
    { iss: issuer, jwks: { keys: [key.publicJwk] }, fhirServers: [fhir.baseUrl] },
  ]);
  app = await startApp({ CDS_AUTH: 'on', CDS_CLIENTS_FILE: clientsFile, LOG_LEVEL: 'info' }, { logger });

  const prefetch = await fullPrefetch(fhir.baseUrl, patientId);
  prefetchAnswer = await hook(
    patientView,
    await hookBody('patient-view', patientId, { prefetch, fhirServer: fhir.baseUrl, token: accessToken }),
    { 'x-request-id': 'ehr-trace-0001' },
  );
  fallbackAnswer = await hook(
    patientView,
    await hookBody('patient-view', patientId, { fhirServer: fhir.baseUrl, token: accessToken }),
  );
  const signedOrder = await hook(
    orderSign,
    await hookBody('order-sign', patientId, {
      prefetch,
      draftOrders: 'high-rbp-risk.draft-orders',
      fhirServer: fhir.baseUrl,
      token: accessToken,
    }),
  );
  const { cards } = (await signedOrder.json()) as { cards: Card[] };
  const feedbackPath = `${orderSign}/feedback`;
  const feedback = await app.post(
    feedbackPath,
    {
      feedback: [{ card: cards[0]?.uuid, outcome: 'overridden', outcomeTimestamp: testDate.toISOString() }],
    },
    signed(feedbackPath),
  );
  expect(feedback.status).toBe(200);
  // Neither prefetch nor a fhirServer: 412.
  expect((await hook(patientView, await hookBody('patient-view', patientId))).status).toBe(412);
  // A token for another URL: 401 (audience).
  const misdirected = clientToken({ iss: issuer, aud: `${app.url}/elsewhere`, key });
  tokens.push(misdirected);
  const refused = await app.post(patientView, await hookBody('patient-view', patientId, { prefetch }), {
    authorization: `Bearer ${misdirected}`,
  });
  expect(refused.status).toBe(401);
  metricsText = await (await fetch(`${app.url}/metrics`)).text();
});

afterAll(async () => {
  await Promise.all([app.close(), fhir.close()]);
});

describe('logs', () => {
  it('answer with the caller’s request id, or a new one, and log it on every line of the request', async () => {
    expect(prefetchAnswer.status).toBe(200);
    expect(prefetchAnswer.headers.get('x-request-id')).toBe('ehr-trace-0001');
    const made = fallbackAnswer.headers.get('x-request-id');
    expect(made).toMatch(/^[0-9a-f-]{36}$/);
    const ofFallback = logged().filter((line) => line.requestId === made);
    expect(ofFallback.map((line) => line.msg)).toEqual(['prefetch resolved', 'request']);
    // All of its data in the prefetch as sent: the request line alone says what there is to say.
    const ofPrefetch = logged().filter((line) => line.requestId === 'ehr-trace-0001');
    expect(ofPrefetch.map((line) => line.msg)).toEqual(['request']);
    expect(ofPrefetch[0]).toMatchObject({ dataSource: 'prefetch', fhirCalls: 0 });
    const hostile = await fetch(`${app.url}/healthz`, { headers: { 'x-request-id': 'a b\u00e9<script>' } });
    expect(hostile.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('say per hook call the service, hook, status, duration, data source and FHIR calls', () => {
    const hooks = requestLines().filter((line) => line.cdsService !== undefined);
    const byId = (id: string | null) => hooks.find((line) => line.requestId === id);
    expect(byId('ehr-trace-0001')).toMatchObject({
      route: '/cds-services/:id',
      method: 'POST',
      status: 200,
      cdsService: 'pvp-risk-patient-view',
      hook: 'patient-view',
      dataSource: 'prefetch',
      fhirCalls: 0,
      fhirErrors: 0,
      ms: expect.any(Number),
    });
    const fallback = byId(fallbackAnswer.headers.get('x-request-id'));
    expect(fallback).toMatchObject({ status: 200, dataSource: 'fhir-server', fhirErrors: 0 });
    expect(fallback?.fhirCalls).toBeGreaterThanOrEqual(8);
    expect(fallback?.fhirMs).toEqual(expect.any(Number));
    expect(hooks.map((line) => line.status)).toEqual([200, 200, 200, 412]);
    expect(requestLines().map((line) => line.status)).toContain(401);
  });

  it('carry no patient identifier, name, birth date, access token or JWT', () => {
    const text = lines.join('\n');
    expect(lines.length).toBeGreaterThan(10);
    for (const value of [...identifying, accessToken]) expect(text).not.toContain(value);
    for (const token of tokens) {
      for (const part of token.split('.')) expect(text).not.toContain(part);
    }
  });
});

describe('metrics', () => {
  it('are Prometheus text with the named families', async () => {
    const response = await fetch(`${app.url}/metrics`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    const families = new Set(
      metricsText.split('\n').flatMap((line) => /^# TYPE (\S+) /.exec(line)?.slice(1) ?? []),
    );
    for (const family of [
      'pvp_cds_hook_duration_seconds',
      'pvp_cds_fhir_request_duration_seconds',
      'pvp_cds_fhir_request_errors_total',
      'pvp_cds_cards_issued_total',
      'pvp_cds_prefetch_unavailable_total',
      'pvp_cds_client_tokens_refused_total',
      'pvp_cds_rate_limited_total',
      'pvp_cds_foreign_patient_resources_dropped_total',
      'pvp_cds_feedback_items_total',
      'pvp_cds_feedback_refused_total',
      'pvp_cds_ledger_write_failures_total',
      'pvp_cds_database_errors_total',
      'pvp_cds_http_responses_total',
      'nodejs_eventloop_lag_seconds',
      'process_cpu_seconds_total',
      'process_resident_memory_bytes',
    ]) {
      expect(families, family).toContain(family);
    }
  });

  it('count what the calls did, by bounded labels', () => {
    const value = (series: string) => {
      const line = metricsText.split('\n').find((l) => l.startsWith(`${series} `));
      return line === undefined ? undefined : Number(line.split(' ')[1]);
    };
    expect(value('pvp_cds_hook_duration_seconds_count{service="pvp-risk-patient-view",status="200"}')).toBe(
      2,
    );
    expect(value('pvp_cds_hook_duration_seconds_count{service="pvp-risk-patient-view",status="412"}')).toBe(
      1,
    );
    expect(value('pvp_cds_prefetch_unavailable_total{service="pvp-risk-patient-view"}')).toBe(1);
    expect(value('pvp_cds_client_tokens_refused_total{check="audience"}')).toBe(1);
    expect(value('pvp_cds_feedback_items_total{outcome="overridden"}')).toBe(1);
    expect(
      value('pvp_cds_fhir_request_duration_seconds_count{resource_type="Observation",outcome="ok"}'),
    ).toBeGreaterThanOrEqual(1);
    expect(metricsText).toMatch(
      /^pvp_cds_cards_issued_total\{service="pvp-risk-order-sign",kind="[a-z-]+",tier="(low|moderate|high|none)"\} \d+$/m,
    );
    expect(value('pvp_cds_ledger_write_failures_total')).toBe(0);
  });

  it('carry no patient identifier, access token or JWT', () => {
    for (const value of [...identifying, accessToken, ...tokens]) expect(metricsText).not.toContain(value);
  });
});
