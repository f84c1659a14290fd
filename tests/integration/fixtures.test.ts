/**
 * Every fixture scenario end to end: the real app over HTTP, a real in-memory FHIR server process
 * serving the fixtures, and the expectations table of fhir-fixtures/README.md (expectations.json).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Card, hookResponseSchema } from '../../src/cds-hooks/schemas.ts';
import { type RunningApp, startApp } from '../support/app.ts';
import { readFixture, startFhirServer, type TestFhirServer } from '../support/fhir-server.ts';
import {
  assessmentOf,
  type Expectations,
  type ExpectedAssessment,
  fullPrefetch,
  type Hook,
  hookBody,
  patientIdOf,
  readExpectations,
  scenarioCalls,
  serviceIds,
  stable,
} from '../support/hook-calls.ts';

const expectations: Expectations = await readExpectations();
const scenarios = scenarioCalls(expectations);

let app: RunningApp;
let fhir: TestFhirServer;

beforeAll(async () => {
  [app, fhir] = await Promise.all([startApp(), startFhirServer()]);
  for (const scenario of Object.keys(expectations.scenarios)) await fhir.load(await readFixture(scenario));
});
afterAll(async () => {
  await Promise.all([app.close(), fhir.close()]);
});

async function callHook(hook: Hook, body: unknown): Promise<Card[]> {
  const response = await app.post(`/cds-services/${serviceIds[hook]}`, body);
  const json = await response.json();
  expect(response.status, JSON.stringify(json)).toBe(200);
  return hookResponseSchema.parse(json).cards;
}

function expectCardsToMatch(cards: Card[], expected: NonNullable<(typeof scenarios)[number]['expected']>) {
  expect(cards.map((c) => assessmentOf(c).kind).sort()).toEqual([...expected.cards].sort());
  for (const card of cards) {
    const assessment = assessmentOf(card);
    const want = expected[assessment.kind] as ExpectedAssessment | undefined;
    if (!want) continue;
    expect({
      model: assessment.model,
      points: assessment.points,
      tier: assessment.tier,
      factors: Object.fromEntries(assessment.factors.map((f) => [f.id, f.points])),
      notAssessed: [...assessment.notAssessed].sort(),
    }).toEqual({ ...want, notAssessed: [...want.notAssessed].sort() });
  }
}

describe.each(scenarios)('$scenario, $hook', ({ scenario, hook, expected }) => {
  if (!expected) throw new Error(`no expectation for ${scenario} ${hook}`);

  it('no prefetch: the service reads the FHIR server with the bearer token and gets the expected cards', async () => {
    const patientId = await patientIdOf(scenario);
    const token = `token-${scenario}`;
    const before = fhir.requests.length;
    const body = await hookBody(hook, patientId, {
      draftOrders: expected.draftOrders,
      fhirServer: fhir.baseUrl,
      token,
    });
    const cards = await callHook(hook, body);
    expectCardsToMatch(cards, expected);
    const calls = fhir.requests.slice(before).filter((r) => r.authorization === `Bearer ${token}`);
    expect(calls.map((r) => r.path)).toContain(`/Patient/${patientId}`);
  });

  it('full prefetch: the same cards, and no FHIR call at all', async () => {
    const patientId = await patientIdOf(scenario);
    const prefetch = await fullPrefetch(fhir.baseUrl, patientId);
    const before = fhir.requests.length;
    const withPrefetch = await callHook(
      hook,
      await hookBody(hook, patientId, { draftOrders: expected.draftOrders, prefetch }),
    );
    expect(fhir.requests.length).toBe(before);
    expectCardsToMatch(withPrefetch, expected);
    const fetched = await callHook(
      hook,
      await hookBody(hook, patientId, { draftOrders: expected.draftOrders, fhirServer: fhir.baseUrl }),
    );
    expect(stable(withPrefetch)).toEqual(stable(fetched));
  });

  it('partial prefetch: the missing keys are fetched, the cards are the same', async () => {
    const patientId = await patientIdOf(scenario);
    const {
      conditions: _c,
      medicationRequests: _m,
      ...partial
    } = await fullPrefetch(fhir.baseUrl, patientId);
    const before = fhir.requests.length;
    const cards = await callHook(
      hook,
      await hookBody(hook, patientId, {
        draftOrders: expected.draftOrders,
        fhirServer: fhir.baseUrl,
        prefetch: partial,
      }),
    );
    expectCardsToMatch(cards, expected);
    expect(
      fhir.requests
        .slice(before)
        .map((r) => r.path)
        .sort(),
    ).toEqual(['/Condition', '/MedicationRequest']);
  });
});
