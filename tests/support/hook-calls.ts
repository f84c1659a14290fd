/**
 * Hook calls as an EHR makes them, for the fixture scenarios: the request body, and a full prefetch
 * computed the way an EHR computes it, by running the service's own templates against a FHIR server.
 */
import { randomUUID } from 'node:crypto';
import type { Bundle, Patient } from 'fhir/r4';
import { renderTemplate } from '../../src/cds-hooks/prefetch.ts';
import type { Card } from '../../src/cds-hooks/schemas.ts';
import { prefetchTemplates } from '../../src/services/patient-data.ts';
import { readFixture, startFhirServer, type TestFhirServer } from './fhir-server.ts';

export type Hook = 'patient-view' | 'order-sign';

export const serviceIds: Record<Hook, string> = {
  'patient-view': 'pvp-risk-patient-view',
  'order-sign': 'pvp-risk-order-sign',
};

export async function patientIdOf(scenario: string): Promise<string> {
  const bundle = await readFixture(scenario);
  const patient = bundle.entry?.find((e) => e.resource?.resourceType === 'Patient')?.resource as
    | Patient
    | undefined;
  if (!patient?.id) throw new Error(`fixture ${scenario} has no Patient`);
  return patient.id;
}

export interface HookBody {
  hook: Hook;
  hookInstance: string;
  fhirServer?: string;
  fhirAuthorization?: {
    access_token: string;
    token_type: 'Bearer';
    expires_in: number;
    scope: string;
    subject: string;
  };
  context: Record<string, unknown>;
  prefetch?: Record<string, unknown>;
}

export async function hookBody(
  hook: Hook,
  patientId: string,
  options: {
    draftOrders?: string;
    fhirServer?: string;
    token?: string;
    prefetch?: Record<string, unknown>;
  } = {},
): Promise<HookBody> {
  const context: Record<string, unknown> = { userId: 'Practitioner/pvp-demo-clinician', patientId };
  if (hook === 'order-sign') {
    context.draftOrders = options.draftOrders
      ? await readFixture(options.draftOrders)
      : ({ resourceType: 'Bundle', type: 'collection', entry: [] } satisfies Bundle);
  }
  return {
    hook,
    hookInstance: randomUUID(),
    ...(options.fhirServer ? { fhirServer: options.fhirServer } : {}),
    ...(options.token
      ? {
          fhirAuthorization: {
            access_token: options.token,
            token_type: 'Bearer' as const,
            expires_in: 300,
            scope: 'patient/*.read',
            subject: 'pvp-cds',
          },
        }
      : {}),
    context,
    ...(options.prefetch ? { prefetch: options.prefetch } : {}),
  };
}

/** Runs every prefetch template against the FHIR server, as an EHR fulfilling prefetch would. */
export async function fullPrefetch(fhirBaseUrl: string, patientId: string): Promise<Record<string, unknown>> {
  const entries = await Promise.all(
    Object.entries(prefetchTemplates).map(async ([key, template]) => {
      const query = renderTemplate(template, { patientId, userId: 'Practitioner/pvp-demo-clinician' });
      const response = await fetch(`${fhirBaseUrl}/${query}`, {
        headers: { accept: 'application/fhir+json' },
      });
      if (!response.ok) throw new Error(`prefetch ${key} failed: ${response.status}`);
      return [key, await response.json()] as const;
    }),
  );
  return Object.fromEntries(entries);
}

/** A FHIR server holding one scenario, and the full prefetch an EHR would send for its patient. */
export async function scenarioPrefetch(
  scenario: string,
): Promise<{ fhir: TestFhirServer; patientId: string; prefetch: Record<string, unknown> }> {
  const fhir = await startFhirServer();
  await fhir.load(await readFixture(scenario));
  const patientId = await patientIdOf(scenario);
  return { fhir, patientId, prefetch: await fullPrefetch(fhir.baseUrl, patientId) };
}

/** The machine-readable assessment every card of ours carries (`extension["pvp-cds.assessment"]`). */
export interface CardAssessment {
  kind: string;
  model?: string;
  points?: number;
  tier?: string;
  factors: Array<{ id: string; points: number }>;
  notAssessed: string[];
}

export function assessmentOf(card: Card): CardAssessment {
  const assessment = card.extension?.['pvp-cds.assessment'];
  if (!assessment) throw new Error(`card "${card.summary}" carries no pvp-cds.assessment`);
  return assessment as CardAssessment;
}

export function cardKind(card: Card): string {
  return assessmentOf(card).kind;
}

/** Cards without what changes between calls (uuids, and the explain links that name them), for comparing two answers. */
export function stable(cards: Card[]): unknown {
  return JSON.parse(
    JSON.stringify(cards)
      .replace(/"uuid":"[0-9a-f-]{36}"/g, '"uuid":"*"')
      .replace(/\/explain\/[0-9a-f-]{36}"/g, '/explain/*"'),
  );
}

export interface ExpectedAssessment {
  model: string;
  points: number;
  tier: string;
  factors: Record<string, number>;
  notAssessed: string[];
}

export interface ExpectedHook {
  draftOrders?: string;
  cards: string[];
  [kind: string]: unknown;
}

export interface Expectations {
  asOf: string;
  scenarios: Record<string, Partial<Record<Hook, ExpectedHook>>>;
}

export async function readExpectations(): Promise<Expectations> {
  return (await readFixture('expectations')) as unknown as Expectations;
}

/** One hook call per scenario and hook of the expectations, with its draft orders and expected cards. */
export interface ScenarioCall {
  scenario: string;
  hook: Hook;
  draftOrders: string | undefined;
  expected: ExpectedHook;
}

export function scenarioCalls(expectations: Expectations): ScenarioCall[] {
  return Object.entries(expectations.scenarios).flatMap(([scenario, hooks]) =>
    (Object.keys(hooks) as Hook[]).flatMap((hook) => {
      const expected = hooks[hook];
      return expected ? [{ scenario, hook, draftOrders: expected.draftOrders, expected }] : [];
    }),
  );
}
