/**
 * Property-based attack on the running service: at least 10,000 generated requests per run, valid ones
 * from the fixtures and mutated ones (another JSON type anywhere, huge and odd strings, deep nesting,
 * prototype keys, odd Bundles and draft orders, odd headers, bodies, encodings, paths and methods,
 * CDS Hooks feedback). Every answer: below 500, JSON, a hook's 200 valid CDS Hooks, every error an
 * OperationOutcome with a diagnostics string and no stack trace; no error-level log line; the process
 * answers /healthz after each property. A failure prints fast-check's seed and the shrunk request.
 */
import { gzipSync } from 'node:zlib';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Card, hookResponseSchema } from '../../src/cds-hooks/schemas.ts';
import { type RunningApp, startApp, testDate } from '../support/app.ts';
import { readFixture, startFhirServer, type TestFhirServer } from '../support/fhir-server.ts';
import { fullPrefetch, type Hook, hookBody, patientIdOf, serviceIds } from '../support/hook-calls.ts';
import { capturedLogger } from '../support/log-capture.ts';
import { bodyText, hostileValue, type Json, oddHeaderValue, pathsOf, replaceAt } from './arbitraries.ts';

const { logger, lines: errorLines } = capturedLogger('error');
const STACK = /\bat .+\(.*:\d+:\d+\)|\/work\/|node:internal|src\/[\w/-]+\.ts/;
const atLeast = 10_000;
let sent = 0;

let app: RunningApp;
let fhir: TestFhirServer;
interface Seed {
  hook: Hook;
  body: Json;
}
const seeds: Seed[] = [];
const remoteSeeds: Seed[] = [];
/** Cards the service issued (so in its ledger), per service, for feedback that names real cards. */
const issued: Array<{ service: string; card: string; suggestions: string[]; reasons: string[] }> = [];

beforeAll(async () => {
  [app, fhir] = await Promise.all([
    startApp({ RATE_LIMIT_PER_MINUTE: '1000000', FHIR_DEADLINE_MS: '1000' }, { logger }),
    startFhirServer(),
  ]);
  for (const scenario of ['unfamiliar-coding', 'case-report']) await fhir.load(await readFixture(scenario));
  for (const [scenario, hook, draftOrders] of [
    ['unfamiliar-coding', 'patient-view', undefined],
    ['case-report', 'patient-view', undefined],
    ['case-report', 'order-sign', 'case-report.draft-orders'],
  ] as const) {
    const patientId = await patientIdOf(scenario);
    const prefetch = await fullPrefetch(fhir.baseUrl, patientId);
    const local = await hookBody(hook, patientId, { draftOrders, prefetch });
    const remote = await hookBody(hook, patientId, { draftOrders, fhirServer: fhir.baseUrl });
    seeds.push({ hook, body: local as unknown as Json });
    remoteSeeds.push({ hook, body: remote as unknown as Json });
    const { cards } = (await (
      await post(`/cds-services/${serviceIds[hook]}`, JSON.stringify(local))
    ).json()) as {
      cards: Card[];
    };
    for (const card of cards) {
      issued.push({
        service: serviceIds[hook],
        card: card.uuid,
        suggestions: card.suggestions?.map((x) => x.uuid) ?? [],
        reasons: card.overrideReasons?.map((r) => r.code ?? '') ?? [],
      });
    }
  }
});
afterAll(async () => {
  await Promise.all([app.close(), fhir.close()]);
});

/** Checks one answer against the invariants; `hook` when a 200 must be CDS Hooks cards. */
async function expectSound(response: Response, hook: boolean): Promise<void> {
  sent++;
  const text = await response.text();
  expect(response.status, text.slice(0, 300)).toBeLessThan(500);
  expect(text).not.toMatch(STACK);
  const body = JSON.parse(text) as Record<string, unknown>;
  if (response.ok) {
    if (hook) expect(hookResponseSchema.safeParse(body).success, text.slice(0, 300)).toBe(true);
    return;
  }
  expect(response.headers.get('content-type')).toContain('application/fhir+json');
  expect(body.resourceType).toBe('OperationOutcome');
  const [issue] = body.issue as Array<{ code: unknown; diagnostics: unknown }>;
  expect(typeof issue?.code).toBe('string');
  expect(typeof issue?.diagnostics).toBe('string');
}

async function expectAlive(): Promise<void> {
  expect(errorLines).toEqual([]);
  expect((await fetch(`${app.url}/healthz`)).status).toBe(200);
}

function post(path: string, body: string | Uint8Array, headers: Record<string, string> = {}) {
  return fetch(`${app.url}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body,
  });
}

/**
 * One part of a seed replaced by a hostile value. The generated value is the seed's index, the path
 * and the replacement, so a counterexample prints small; the body is built when sent.
 */
function mutated(from: Seed[]) {
  return fc
    .record({ index: fc.nat({ max: from.length - 1 }), pick: fc.nat(), value: hostileValue })
    .map(({ index, pick, value }) => {
      const seed = from[index] as Seed;
      const paths = pathsOf(seed.body);
      return { index, path: paths[pick % paths.length] ?? [], value };
    });
}

function sendMutated(from: Seed[], call: { index: number; path: Array<string | number>; value: Json }) {
  const seed = from[call.index] as Seed;
  return post(
    `/cds-services/${serviceIds[seed.hook]}`,
    bodyText(replaceAt(seed.body, call.path, call.value)),
  );
}

const runs = { local: 1600, remote: 150, raw: 1000, feedback: 500 };
const perRun = 4;

describe('generated hook requests', () => {
  it('valid and mutated requests with prefetch: never a 5xx, always a sound answer', {
    timeout: 180_000,
  }, async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(mutated(seeds), { minLength: perRun, maxLength: perRun }), async (calls) => {
        const answers = await Promise.all(calls.map((c) => sendMutated(seeds, c)));
        for (const answer of answers) await expectSound(answer, true);
      }),
      { numRuns: runs.local, endOnFailure: true },
    );
    const valid = await Promise.all(
      seeds.map((s) => post(`/cds-services/${serviceIds[s.hook]}`, bodyText(s.body))),
    );
    expect(valid.map((r) => r.status)).toEqual([200, 200, 200]);
    for (const answer of valid) await expectSound(answer, true);
    await expectAlive();
  });

  it('mutated requests that make the service read the FHIR server', { timeout: 180_000 }, async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(mutated(remoteSeeds), { minLength: perRun, maxLength: perRun }),
        async (calls) => {
          const answers = await Promise.all(calls.map((c) => sendMutated(remoteSeeds, c)));
          for (const answer of answers) await expectSound(answer, true);
        },
      ),
      { numRuns: runs.remote, endOnFailure: true },
    );
    await expectAlive();
  });
});

const rawRequest = fc.oneof(
  fc.record({
    kind: fc.constant('body' as const),
    body: fc.oneof(
      fc.constantFrom('', '{', '{"hook":', 'null', '[]', '"text"', '1e999', '{"hook":"patient-view"}'),
      fc.string({ unit: 'binary', maxLength: 200 }),
    ),
    contentType: fc.constantFrom(
      'application/json',
      'application/fhir+json',
      'text/plain',
      'application/x-www-form-urlencoded',
      'application/json; charset=latin1',
      'application/json; charset=utf-16',
      'multipart/form-data; boundary=x',
    ),
  }),
  fc.record({
    kind: fc.constant('encoding' as const),
    encoding: fc.constantFrom('gzip', 'deflate', 'br', 'zstd', 'identity', 'x-unknown', 'gzip, gzip'),
    compressed: fc.boolean(),
  }),
  fc.record({
    kind: fc.constant('path' as const),
    method: fc.constantFrom('GET', 'POST', 'PUT', 'DELETE', 'PATCH'),
    path: fc.oneof(
      fc.constantFrom(
        '/models/%ZZ',
        '/models/%E0%A4%A',
        '/cds-services/%ZZ',
        '/cds-services/..%2f..%2fetc',
        '/cds-services/pvp-risk-patient-view/%C0%AF',
        '/models/rbp-v1',
        '/models/__proto__',
        '/cds-services/constructor',
        '/healthz',
        `/cds-services/${'a'.repeat(5000)}`,
      ),
      fc.string({ maxLength: 30 }).map((s) => `/models/${encodeURIComponent(s)}`),
    ),
  }),
  fc.record({
    kind: fc.constant('language' as const),
    language: oddHeaderValue,
  }),
);

describe('generated raw HTTP', () => {
  it('odd bodies, content types, encodings, paths, methods and headers', { timeout: 180_000 }, async () => {
    const valid = () => bodyText(seeds[0]?.body ?? null);
    await fc.assert(
      fc.asyncProperty(fc.array(rawRequest, { minLength: 2, maxLength: 2 }), async (requests) => {
        for (const r of requests) {
          if (r.kind === 'body') {
            await expectSound(
              await post('/cds-services/pvp-risk-patient-view', r.body, { 'content-type': r.contentType }),
              true,
            );
          } else if (r.kind === 'encoding') {
            const body = r.compressed && r.encoding === 'gzip' ? gzipSync(valid()) : valid();
            await expectSound(
              await post('/cds-services/pvp-risk-patient-view', body, { 'content-encoding': r.encoding }),
              true,
            );
          } else if (r.kind === 'path') {
            const answer = await fetch(`${app.url}${r.path}`, {
              method: r.method,
              ...(r.method === 'GET'
                ? {}
                : { headers: { 'content-type': 'application/json' }, body: valid() }),
            });
            await expectSound(answer, r.path.startsWith('/cds-services/') && r.method === 'POST');
          } else {
            await expectSound(
              await post('/cds-services/pvp-risk-patient-view', valid(), { 'accept-language': r.language }),
              true,
            );
          }
        }
      }),
      { numRuns: runs.raw, endOnFailure: true },
    );
    await expectAlive();
  });
});

/** Feedback items naming issued cards and their suggestions, or anything else; timestamps near the card's. */
const feedback = fc.record({
  feedback: fc.array(
    fc.record({
      card: fc.oneof(
        fc.nat().map((n) => issued[n % issued.length]?.card ?? ''),
        fc.uuid(),
        fc.string({ maxLength: 40 }),
      ),
      outcome: fc.constantFrom('accepted', 'overridden', 'ignored', ''),
      acceptedSuggestions: fc.array(
        fc.record({
          id: fc.oneof(
            fc.nat().map((n) => issued.flatMap((i) => i.suggestions)[n % 20] ?? ''),
            fc.uuid(),
          ),
        }),
        { maxLength: 2 },
      ),
      overrideReason: fc.record({
        reason: fc.record({
          code: fc.oneof(
            fc.constantFrom('already-addressed', 'patient-declined'),
            fc.string({ maxLength: 10 }),
          ),
          system: fc.oneof(fc.constant('urn:pvp-cds:override-reason'), fc.webUrl()),
        }),
        userComment: fc.string({ maxLength: 100 }),
      }),
      outcomeTimestamp: fc.oneof(
        fc.integer({ min: 0, max: 240 }).map((s) => new Date(testDate.getTime() + s * 1000).toISOString()),
        fc.date({ noInvalidDate: true }).map((d) => d.toISOString()),
      ),
    }),
    { maxLength: 3 },
  ),
});

/** Feedback that must be stored: overrides of issued cards, to their own service, near their time. */
const validFeedback = fc
  .record({
    pick: fc.nat(),
    reasonPick: fc.option(fc.nat()),
    seconds: fc.integer({ min: 0, max: 240 }),
  })
  .map(({ pick, reasonPick, seconds }) => {
    const card = issued[pick % issued.length] as (typeof issued)[number];
    const reason = reasonPick === null ? undefined : card.reasons[reasonPick % card.reasons.length];
    return {
      service: card.service,
      body: {
        feedback: [
          {
            card: card.card,
            outcome: 'overridden',
            ...(reason ? { overrideReason: { reason: { code: reason } } } : {}),
            outcomeTimestamp: new Date(testDate.getTime() + seconds * 1000).toISOString(),
          },
        ],
      },
    };
  });

const issuedBy = (service: string) => new Set(issued.filter((i) => i.service === service).map((i) => i.card));

describe('generated CDS Hooks feedback', () => {
  it('feedback and mutated feedback to all services: a sound answer, 200 only for cards of the service', {
    timeout: 180_000,
  }, async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(
          fc.record({
            service: fc.constantFrom('pvp-risk-patient-view', 'pvp-risk-order-sign', 'no-such-service'),
            body: feedback,
          }),
          validFeedback,
        ),
        fc.nat(),
        hostileValue,
        fc.boolean(),
        async ({ service, body: valid }, pick, value, mutate) => {
          const body = valid as unknown as Json;
          const paths = pathsOf(body);
          const sentBody = mutate ? replaceAt(body, paths[pick % paths.length] ?? [], value) : body;
          const answer = await post(`/cds-services/${service}/feedback`, bodyText(sentBody));
          if (answer.status === 200) {
            const items = (sentBody as { feedback: Array<{ card: string }> }).feedback;
            expect(items.every((item) => issuedBy(service).has(item.card))).toBe(true);
          }
          await expectSound(answer, false);
          await expectSound(await post(`/cds-services/${service}/feedback`, '{"feedback":'), false);
        },
      ),
      { numRuns: runs.feedback, endOnFailure: true },
    );
    await expectAlive();
  });

  it('stores feedback built to be valid, whatever card, reason and time it picks', async () => {
    await fc.assert(
      fc.asyncProperty(validFeedback, async ({ service, body }) => {
        const answer = await post(`/cds-services/${service}/feedback`, JSON.stringify(body));
        const text = await answer.text();
        expect(answer.status, text).toBe(200);
        sent++;
      }),
      { numRuns: 100 },
    );
  });
});

describe('the count', () => {
  it(`sent at least ${atLeast} generated requests`, () => {
    expect(sent).toBeGreaterThanOrEqual(atLeast);
  });
});
