/**
 * Issue 7: the service against real FHIR servers that misbehave on the wire (tests/support/misbehaving-fhir.ts).
 * Whatever the server does, a hook answers within FHIR_DEADLINE_MS + 10%: 412 naming the required keys and
 * the reason when they all fail, 200 with a card saying what could not be read when only an optional key
 * fails; redirects are never followed; a huge answer is cut at the cap, not buffered; and the app stays
 * responsive (GET /healthz) while such hooks are in flight.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { hookResponseSchema } from '../../src/cds-hooks/schemas.ts';
import { type RunningApp, startApp } from '../support/app.ts';
import { readFixture, startFhirServer, type TestFhirServer } from '../support/fhir-server.ts';
import { type Hook, hookBody, serviceIds } from '../support/hook-calls.ts';
import { capturedLogger } from '../support/log-capture.ts';
import {
  type MisbehavingFhir,
  type MisbehavingOptions,
  type StreamRecord,
  startMisbehavingFhir,
} from '../support/misbehaving-fhir.ts';

const patientId = 'pvp-unfamiliar-coding';
const deadlineMs = 1000;
const allowedMs = deadlineMs * 1.1;
const requiredKeys = ['patient', 'observations', 'conditions', 'procedures', 'medicationRequests'];
const MiB = 1024 * 1024;
/** The reads stop at 90% of the deadline, leaving the rest for scoring what arrived. */
const deadlinePassed = /did not answer within 900 ms, the reads' share of the 1000 ms deadline/;

let app: RunningApp;
/** A well-behaved FHIR server with the patient's record: the upstream of `only`, and the last, valid hook. */
let upstream: TestFhirServer;
/** Where `redirect` points: it has the record too, so following the redirect would "work". */
let redirectTarget: TestFhirServer;
const started: MisbehavingFhir[] = [];

beforeAll(async () => {
  [app, upstream, redirectTarget] = await Promise.all([
    startApp({ FHIR_DEADLINE_MS: String(deadlineMs) }),
    startFhirServer(),
    startFhirServer(),
  ]);
  const fixture = await readFixture('unfamiliar-coding');
  await Promise.all([upstream.load(fixture), redirectTarget.load(fixture)]);
});
afterEach(async () => {
  await Promise.all(started.splice(0).map((server) => server.close()));
  redirectTarget.requests.length = 0;
});
afterAll(async () => {
  await Promise.all([app.close(), upstream.close(), redirectTarget.close()]);
});

async function misbehaving(options: MisbehavingOptions): Promise<MisbehavingFhir> {
  const server = await startMisbehavingFhir(options);
  started.push(server);
  return server;
}

interface HookAnswer {
  status: number;
  contentType: string | null;
  body: Record<string, unknown>;
  /** From sending the request to the end of the response body. */
  elapsedMs: number;
}

async function callHook(fhirServer: string, hook: Hook = 'patient-view'): Promise<HookAnswer> {
  const body = await hookBody(hook, patientId, {
    fhirServer,
    ...(hook === 'order-sign' ? { draftOrders: 'unfamiliar-coding.draft-orders' } : {}),
  });
  const sent = performance.now();
  const response = await app.post(`/cds-services/${serviceIds[hook]}`, body);
  const text = await response.text();
  const elapsedMs = performance.now() - sent;
  return {
    status: response.status,
    contentType: response.headers.get('content-type'),
    body: JSON.parse(text) as Record<string, unknown>,
    elapsedMs,
  };
}

interface HealthCheck {
  status: number;
  ms: number;
}

/** Rounds of three concurrent GET /healthz, every 100 ms, while `work` is in flight (at least one round). */
async function healthWhile(work: Promise<unknown>): Promise<HealthCheck[]> {
  let settled = false;
  work.then(
    () => {
      settled = true;
    },
    () => {
      settled = true;
    },
  );
  await sleep(50);
  const checks: HealthCheck[] = [];
  do {
    const round = await Promise.all(
      [1, 2, 3].map(async () => {
        const sent = performance.now();
        const response = await fetch(`${app.url}/healthz`);
        await response.text();
        return { status: response.status, ms: performance.now() - sent };
      }),
    );
    checks.push(...round);
    await sleep(100);
  } while (!settled);
  return checks;
}

function expectResponsive(checks: HealthCheck[]): void {
  expect(checks.length).toBeGreaterThanOrEqual(3);
  for (const check of checks) {
    expect(check.status).toBe(200);
    expect(check.ms).toBeLessThan(250);
  }
}

function diagnosticsOf(body: Record<string, unknown>): string {
  const issue = (body.issue as Array<{ diagnostics?: unknown }> | undefined)?.[0];
  return typeof issue?.diagnostics === 'string' ? issue.diagnostics : '';
}

function expect412(answer: HookAnswer, keys: string[], reason: RegExp): void {
  expect(answer.status).toBe(412);
  expect(answer.contentType).toMatch(/^application\/fhir\+json/);
  expect(answer.body).toMatchObject({
    resourceType: 'OperationOutcome',
    issue: [{ severity: 'error', code: 'incomplete', expression: keys }],
  });
  const diagnostics = diagnosticsOf(answer.body);
  expect(diagnostics).toMatch(new RegExp(`^Could not obtain prefetch data for: ${keys.join(', ')}\\. `));
  expect(diagnostics, diagnostics).toMatch(reason);
  expect(answer.elapsedMs).toBeLessThanOrEqual(allowedMs);
}

function expectMedicationListUnread(answer: HookAnswer): void {
  expect(answer.status).toBe(200);
  const { cards } = hookResponseSchema.parse(answer.body);
  expect(cards.length).toBeGreaterThan(0);
  expect(cards[0]?.detail).toContain('**Could not be read from the FHIR server:** medication list');
  expect(answer.elapsedMs).toBeLessThanOrEqual(allowedMs);
}

/** Waits until every stream has ended or closed, or has written nothing more for 500 ms (at most 3 s). */
async function settled(streams: StreamRecord[]): Promise<void> {
  let last = -1;
  let stillFor = 0;
  for (let waited = 0; waited < 3000 && stillFor < 500; waited += 50) {
    if (streams.every((s) => s.finished || s.clientClosedEarly)) return;
    const written = streams.reduce((sum, s) => sum + s.bytesWritten, 0);
    stillFor = written === last ? stillFor + 50 : 0;
    last = written;
    await sleep(50);
  }
}

function expectCutShort(streams: StreamRecord[]): void {
  expect(streams.length).toBeGreaterThan(0);
  for (const stream of streams) {
    expect(stream.finished, `${stream.path} was read to the end`).toBe(false);
    expect(
      stream.clientClosedEarly || stream.bytesWritten < stream.totalBytes / 4,
      `${stream.path}: ${stream.bytesWritten} of ${stream.totalBytes} bytes written, connection still open`,
    ).toBe(true);
  }
}

describe('the misbehaving servers themselves', () => {
  it('answer html, cut-short JSON, an OperationOutcome, a status with Retry-After and a redirect', async () => {
    const get = async (options: MisbehavingOptions) => {
      const server = await misbehaving(options);
      return fetch(`${server.baseUrl}/Condition?patient=p1`, { redirect: 'manual' });
    };
    expect((await get({ behaviour: 'html' })).headers.get('content-type')).toMatch(/^text\/html/);
    const cut = await get({ behaviour: 'invalid-json' });
    expect(cut.headers.get('content-type')).toBe('application/fhir+json');
    await expect(cut.json()).rejects.toThrow();
    expect(await (await get({ behaviour: 'outcome-200' })).json()).toMatchObject({
      resourceType: 'OperationOutcome',
    });
    const throttled = await get({ behaviour: 'status', status: 429 });
    expect([throttled.status, throttled.headers.get('retry-after')]).toEqual([429, '120']);
    expect(await throttled.json()).toMatchObject({ resourceType: 'OperationOutcome' });
    const redirected = await get({ behaviour: 'redirect', redirectTo: 'http://127.0.0.1:9/fhir' });
    expect(redirected.status).toBe(302);
    expect(redirected.headers.get('location')).toBe('http://127.0.0.1:9/fhir/Condition?patient=p1');
    const bomb = await get({ behaviour: 'gzip-bomb' });
    expect(bomb.headers.get('content-encoding')).toBe('gzip');
    expect(Number(bomb.headers.get('content-length'))).toBeLessThan(100 * 1024);
    expect((await bomb.arrayBuffer()).byteLength).toBeGreaterThan(64 * MiB);
  });

  it('loop next links onto the same URL, reset sockets, and give the wrong type', async () => {
    const looping = await misbehaving({ behaviour: 'looping-next' });
    const url = `${looping.baseUrl}/Procedure?patient=p1&_count=100`;
    const bundle = (await (await fetch(url)).json()) as { link: Array<{ relation: string; url: string }> };
    expect(bundle.link.find((l) => l.relation === 'next')?.url).toBe(url);
    const reset = await misbehaving({ behaviour: 'reset' });
    await expect(fetch(`${reset.baseUrl}/Patient/p1`)).rejects.toThrow();
    const wrong = await misbehaving({ behaviour: 'wrong-type' });
    expect(await (await fetch(`${wrong.baseUrl}/Patient/p1`)).json()).toMatchObject({
      resourceType: 'Observation',
      subject: { reference: 'Patient/p1' },
    });
  });

  it('stream a huge searchset of the right type, and see a client that hangs up early', async () => {
    const small = await misbehaving({ behaviour: 'huge-searchset', entries: 1000 });
    const bundle = (await (await fetch(`${small.baseUrl}/MedicationRequest?patient=p1`)).json()) as {
      entry: Array<{ resource: { resourceType: string } }>;
    };
    expect(bundle.entry).toHaveLength(1000);
    expect(new Set(bundle.entry.map((e) => e.resource.resourceType))).toEqual(new Set(['MedicationRequest']));
    expect(small.streams[0]).toMatchObject({ finished: true, clientClosedEarly: false });
    expect(small.streams[0]?.bytesWritten).toBe(small.streams[0]?.totalBytes);

    const huge = await misbehaving({ behaviour: 'huge-searchset' });
    const response = await fetch(`${huge.baseUrl}/Condition?patient=p1`);
    const reader = response.body?.getReader();
    await reader?.read();
    await reader?.cancel();
    await settled(huge.streams);
    expect(huge.streams[0]?.clientClosedEarly).toBe(true);
    expect(huge.streams[0]?.totalBytes).toBeGreaterThan(20 * MiB);
  });

  it('proxy what `only` does not match to the upstream, and close with requests hanging', async () => {
    const server = await misbehaving({
      behaviour: 'silent',
      only: /^\/MedicationStatement/,
      upstream: upstream.baseUrl,
    });
    const patient = await fetch(`${server.baseUrl}/Patient/${patientId}`);
    expect(await patient.json()).toMatchObject({ resourceType: 'Patient', id: patientId });
    const hanging = fetch(`${server.baseUrl}/MedicationStatement?patient=${patientId}`);
    const trickle = await misbehaving({ behaviour: 'trickle' });
    const headers = await fetch(`${trickle.baseUrl}/Condition?patient=p1`);
    expect(headers.status).toBe(200);
    const closing = performance.now();
    await Promise.all([server.close(), trickle.close()]);
    expect(performance.now() - closing).toBeLessThan(500);
    await expect(hanging).rejects.toThrow();
    await expect(headers.text()).rejects.toThrow();
    expect(server.requests.map((r) => [r.path, r.proxied])).toEqual([
      [`/Patient/${patientId}`, true],
      ['/MedicationStatement', false],
    ]);
  });
});

describe('a FHIR server that misbehaves on every read: 412 naming the required keys, within the deadline', () => {
  const cases: Array<[string, MisbehavingOptions, RegExp]> = [
    ['an HTML page', { behaviour: 'html' }, /not FHIR JSON/],
    ['JSON cut short', { behaviour: 'invalid-json' }, /not valid JSON/],
    ['a 200 OperationOutcome', { behaviour: 'outcome-200' }, /an OperationOutcome/],
    [
      'next links that loop onto themselves',
      { behaviour: 'looping-next' },
      /next links loop|more than \d+ pages/,
    ],
    ['HTTP 401', { behaviour: 'status', status: 401 }, /HTTP 401/],
    ['HTTP 403', { behaviour: 'status', status: 403 }, /HTTP 403/],
    ['HTTP 404', { behaviour: 'status', status: 404 }, /HTTP 404/],
    ['HTTP 429 with Retry-After: 120', { behaviour: 'status', status: 429 }, /HTTP 429/],
    ['HTTP 500', { behaviour: 'status', status: 500 }, /HTTP 500/],
    ['HTTP 503 with Retry-After: 120', { behaviour: 'status', status: 503 }, /HTTP 503/],
    ['a reset connection', { behaviour: 'reset' }, /connection failed/],
    ['a gzip bomb (64 KiB that decode to 64 MiB)', { behaviour: 'gzip-bomb' }, /more than \d+ bytes/],
  ];
  for (const [what, options, reason] of cases) {
    it(`${what}: 412, the reason says ${reason.source}`, async () => {
      const server = await misbehaving(options);
      const answer = await callHook(server.baseUrl);
      expect412(answer, requiredKeys, reason);
      expect(server.requests.length).toBeGreaterThan(0);
    });
  }

  it('a redirect to a server that has the record: 412, never followed (the target sees no request)', async () => {
    const server = await misbehaving({ behaviour: 'redirect', redirectTo: redirectTarget.baseUrl });
    const answer = await callHook(server.baseUrl);
    expect412(answer, requiredKeys, /redirect/i);
    expect(server.requests.length).toBeGreaterThan(0);
    expect(redirectTarget.requests).toEqual([]);
  });

  it('only Observations, and an Observation for the Patient read: 412 naming every key but observations', async () => {
    const server = await misbehaving({ behaviour: 'wrong-type' });
    const answer = await callHook(server.baseUrl);
    expect412(
      answer,
      requiredKeys.filter((key) => key !== 'observations'),
      /patient: Observation instead of Patient; conditions: 2 entries, none of them Condition/,
    );
  });

  for (const behaviour of ['trickle', 'silent'] as const) {
    it(`${behaviour === 'trickle' ? 'one byte a second' : 'never an answer'}: 412 at the deadline, and /healthz stays quick meanwhile`, async () => {
      const server = await misbehaving({ behaviour });
      const hook = callHook(server.baseUrl);
      const health = await healthWhile(hook);
      expect412(await hook, requiredKeys, deadlinePassed);
      expectResponsive(health);
    });
  }

  it('a searchset of 50,000 entries on every key: 412 over the cap, read cut short, little memory, /healthz quick', async () => {
    const server = await misbehaving({ behaviour: 'huge-searchset' });
    const rssBefore = process.memoryUsage().rss;
    let rssPeak = rssBefore;
    const sampler = setInterval(() => {
      rssPeak = Math.max(rssPeak, process.memoryUsage().rss);
    }, 10);
    try {
      const hook = callHook(server.baseUrl);
      const health = await healthWhile(hook);
      expect412(await hook, requiredKeys, /more than \d+ (entries|bytes)/);
      expectResponsive(health);
      await settled(server.streams);
      rssPeak = Math.max(rssPeak, process.memoryUsage().rss);
    } finally {
      clearInterval(sampler);
    }
    expectCutShort(server.streams);
    expect(rssPeak - rssBefore).toBeLessThan(150 * MiB);
  });
});

describe('a FHIR server that misbehaves only on the optional medication list: 200, the card says so', () => {
  const only = /^\/MedicationStatement/;
  const cases: Array<[string, MisbehavingOptions]> = [
    ['JSON cut short', { behaviour: 'invalid-json' }],
    ['HTTP 503', { behaviour: 'status', status: 503 }],
    ['a reset connection', { behaviour: 'reset' }],
    ['never an answer (the deadline passes)', { behaviour: 'silent' }],
    ['a searchset of 50,000 entries', { behaviour: 'huge-searchset' }],
  ];
  for (const [what, options] of cases) {
    it(`${what}: 200 with cards, within the deadline`, async () => {
      const server = await misbehaving({ ...options, only, upstream: upstream.baseUrl });
      const answer = await callHook(server.baseUrl);
      expectMedicationListUnread(answer);
      expect(server.requests.filter((r) => !r.proxied).map((r) => r.path)).toContain('/MedicationStatement');
      if (options.behaviour === 'huge-searchset') {
        await settled(server.streams);
        expectCutShort(server.streams);
      }
    });
  }

  it('a redirect: 200 with cards, and the redirect target sees no request', async () => {
    const server = await misbehaving({
      behaviour: 'redirect',
      redirectTo: redirectTarget.baseUrl,
      only,
      upstream: upstream.baseUrl,
    });
    expectMedicationListUnread(await callHook(server.baseUrl));
    expect(redirectTarget.requests).toEqual([]);
  });
});

describe('order-sign against a FHIR server that never answers', () => {
  it('412 naming the required keys at the deadline', async () => {
    const server = await misbehaving({ behaviour: 'silent' });
    const answer = await callHook(server.baseUrl, 'order-sign');
    expect412(answer, requiredKeys, deadlinePassed);
  });
});

describe('a caller that gives up', () => {
  it('stops the reads it was waiting for, long before the deadline, and says so without blaming the server', async () => {
    const closed: number[] = [];
    const hanging = createServer((req) => {
      req.socket.once('close', () => closed.push(performance.now()));
    });
    await new Promise<void>((resolve) => hanging.listen(0, '127.0.0.1', () => resolve()));
    const { logger, lines } = capturedLogger('info');
    const watched = await startApp({ FHIR_DEADLINE_MS: String(deadlineMs) }, { logger });
    try {
      const { port } = hanging.address() as AddressInfo;
      const body = await hookBody('patient-view', patientId, { fhirServer: `http://127.0.0.1:${port}/fhir` });
      const gaveUp = new AbortController();
      const call = fetch(`${watched.url}/cds-services/${serviceIds['patient-view']}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
        signal: gaveUp.signal,
      }).catch(() => 'aborted');
      await sleep(150);
      const abortedAt = performance.now();
      gaveUp.abort();
      expect(await call).toBe('aborted');
      await sleep(300);
      expect(closed.length).toBeGreaterThanOrEqual(5);
      for (const at of closed) expect(at - abortedAt).toBeLessThan(300);
      const logged = lines.map((line) => JSON.parse(line) as { level: number; msg: string });
      expect(logged.filter((line) => line.msg === 'the caller left before the answer')).toHaveLength(1);
      expect(logged.filter((line) => line.level >= 40).map((line) => line.msg)).not.toContain(
        'prefetch resolved',
      );
      const metrics = await (await fetch(`${watched.url}/metrics`)).text();
      expect(metrics).toMatch(/pvp_cds_fhir_request_errors_total\{[^}]*problem="abandoned"[^}]*\} [1-9]/);
      expect(metrics).not.toMatch(/pvp_cds_fhir_request_errors_total\{[^}]*problem="deadline"/);
      expect(metrics).not.toMatch(/pvp_cds_prefetch_unavailable_total\{[^}]*\} [1-9]/);
    } finally {
      await watched.close();
      hanging.closeAllConnections();
      await new Promise((resolve) => hanging.close(resolve));
    }
  });
});

describe('after every attack', () => {
  it('the app still answers a valid hook with cards', async () => {
    const answer = await callHook(upstream.baseUrl);
    expect(answer.status).toBe(200);
    const { cards } = hookResponseSchema.parse(answer.body);
    expect(cards.length).toBeGreaterThan(0);
    const health = await fetch(`${app.url}/healthz`);
    expect(health.status).toBe(200);
  });
});
