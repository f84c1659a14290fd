/**
 * Only the patient in context (CDS-HOOKS.md; issue: never score the wrong patient). Every fixture
 * scenario is called with other patients' resources mixed in, three ways a real client mixes them: a
 * buggy EHR's prefetch, a FHIR server that ignores a search's filters (as one ignoring the sandbox's
 * POST _search form body does), and draft orders for someone else. The cards must be exactly the clean
 * ones; the drop is counted on the risk cards and logged, without ids.
 */
import type { Bundle, Resource } from 'fhir/r4';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Card, hookResponseSchema } from '../../src/cds-hooks/schemas.ts';
import { startApp } from '../support/app.ts';
import { readFixture, startFhirServer, type TestFhirServer } from '../support/fhir-server.ts';
import {
  cardKind,
  type Expectations,
  fullPrefetch,
  type Hook,
  hookBody,
  patientIdOf,
  readExpectations,
  scenarioCalls,
  serviceIds,
  stable,
} from '../support/hook-calls.ts';
import { capturedLogger } from '../support/log-capture.ts';

const expectations: Expectations = await readExpectations();
const scenarios = scenarioCalls(expectations);
const foreign = ((await readFixture('foreign-records.foreign')).entry ?? []).flatMap((e) =>
  e.resource ? [e.resource] : [],
);
/** A second stranger: another fixture patient's whole chart (the case report's, or for that patient the high-RBP-risk one's). */
async function strangerFor(scenario: string): Promise<Resource[]> {
  const other = scenario === 'case-report' ? 'high-rbp-risk' : 'case-report';
  return ((await readFixture(other)).entry ?? []).flatMap((e) => (e.resource ? [e.resource] : []));
}

/** Which prefetch keys a resource type would come back under. */
const KEYS_OF_TYPE: Record<string, string[]> = {
  Patient: ['patient'],
  Observation: ['observations', 'imagingFindings'],
  Condition: ['conditions'],
  Procedure: ['procedures'],
  MedicationRequest: ['medicationRequests'],
  MedicationStatement: ['medicationStatements'],
  MedicationAdministration: ['medicationAdministrations'],
  MedicationDispense: ['medicationDispenses'],
  ServiceRequest: ['serviceRequests'],
};

const { logger, lines } = capturedLogger();
let app: Awaited<ReturnType<typeof startApp>>;
let fhir: TestFhirServer;

beforeAll(async () => {
  [app, fhir] = await Promise.all([startApp({}, { logger }), startFhirServer()]);
  for (const scenario of Object.keys(expectations.scenarios)) await fhir.load(await readFixture(scenario));
  await fhir.load({
    resourceType: 'Bundle',
    type: 'collection',
    entry: foreign.map((resource) => ({ resource })),
  });
});
afterAll(async () => {
  await Promise.all([app.close(), fhir.close()]);
});

async function cardsFor(hook: Hook, body: unknown): Promise<Card[]> {
  const response = await app.post(`/cds-services/${serviceIds[hook]}`, body);
  const json = await response.json();
  expect(response.status, JSON.stringify(json)).toBe(200);
  return hookResponseSchema.parse(json).cards;
}

/** A prefetch with strangers' resources added to every key of their type (the patient key becomes a two-patient Bundle). */
function salted(prefetch: Record<string, unknown>, strangers: Resource[]): Record<string, unknown> {
  const out: Record<string, unknown> = { ...prefetch };
  for (const resource of strangers) {
    for (const key of KEYS_OF_TYPE[resource.resourceType] ?? []) {
      const value = out[key];
      const entries =
        value && typeof value === 'object' && (value as Bundle).resourceType === 'Bundle'
          ? [...((value as Bundle).entry ?? [])]
          : value
            ? [{ resource: value as Resource }]
            : [];
      entries.unshift({ resource });
      out[key] = { resourceType: 'Bundle', type: 'searchset', entry: entries };
    }
  }
  return out;
}

/** The risk cards' detail without the line that counts left-out records, for comparing with a clean answer. */
function withoutForeignLine(cards: Card[]): unknown {
  return stable(
    cards.map((card) => ({ ...card, detail: card.detail?.replace(/\n\n\*\*Left out:\*\*[^\n]*/, '') })),
  );
}

describe.each(scenarios)('$scenario, $hook', ({ scenario, hook, draftOrders }) => {
  it("gets the same cards when the prefetch holds other patients' resources, and says how many were left out", async () => {
    const patientId = await patientIdOf(scenario);
    const prefetch = await fullPrefetch(fhir.baseUrl, patientId);
    const clean = await cardsFor(hook, await hookBody(hook, patientId, { draftOrders, prefetch }));
    const mixed = await cardsFor(
      hook,
      await hookBody(hook, patientId, {
        draftOrders,
        prefetch: salted(prefetch, [...foreign, ...(await strangerFor(scenario))]),
      }),
    );
    expect(withoutForeignLine(mixed)).toEqual(withoutForeignLine(clean));
    for (const card of mixed.filter((c) => cardKind(c).endsWith('-risk'))) {
      expect(card.detail).toMatch(/\*\*Left out:\*\* \d+ record\(s\) naming another patient/);
    }
  });
});

describe('a FHIR server that ignores search filters', () => {
  it.each(scenarios)(
    "$scenario, $hook: the service drops everyone else's resources and gives the clean cards",
    async ({ scenario, hook, draftOrders }) => {
      const patientId = await patientIdOf(scenario);
      const clean = await cardsFor(
        hook,
        await hookBody(hook, patientId, { draftOrders, fhirServer: fhir.baseUrl }),
      );
      fhir.setFaults({ ignoreFilters: true });
      try {
        const mixed = await cardsFor(
          hook,
          await hookBody(hook, patientId, { draftOrders, fhirServer: fhir.baseUrl }),
        );
        expect(withoutForeignLine(mixed)).toEqual(withoutForeignLine(clean));
      } finally {
        fhir.setFaults({});
      }
    },
  );
});

describe('draft orders and logs', () => {
  it("ignores a draft order for another patient: no PVP card is built from someone else's order", async () => {
    const patientId = await patientIdOf('low-risk');
    const prefetch = await fullPrefetch(fhir.baseUrl, patientId);
    const strangersOrder = await readFixture('pvp-order.draft-orders');
    for (const entry of strangersOrder.entry ?? []) {
      (entry.resource as { subject?: unknown }).subject = { reference: 'Patient/pvp-pvp-order' };
    }
    const body = await hookBody('order-sign', patientId, { prefetch });
    (body.context as { draftOrders: unknown }).draftOrders = strangersOrder;
    expect(await cardsFor('order-sign', body)).toEqual([]);
  });

  it('logs how many resources per key were dropped, and no patient id or reference', async () => {
    lines.length = 0;
    const patientId = await patientIdOf('foreign-records');
    const prefetch = await fullPrefetch(fhir.baseUrl, patientId);
    await cardsFor(
      'order-sign',
      await hookBody('order-sign', patientId, {
        draftOrders: 'foreign-records.draft-orders',
        prefetch: salted(prefetch, foreign),
      }),
    );
    const warning = lines
      .map((line) => JSON.parse(line))
      .find((l) => l.msg === 'resources naming another patient were dropped');
    expect(warning).toMatchObject({
      level: 40,
      cdsService: 'pvp-risk-order-sign',
      foreignResources: { patient: 1, conditions: 10, observations: 5, imagingFindings: 5, procedures: 2 },
      foreignDraftOrders: 2,
    });
    const all = lines.join('\n');
    expect(all).not.toContain('pvp-foreign-records');
    expect(all).not.toContain('Patient/');
  });
});
