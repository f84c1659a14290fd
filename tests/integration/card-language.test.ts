/**
 * Cards a clinician reads without translation (CLINICAL.md 1.1): for every fixture scenario and hook, in
 * both locales, no internal key reaches a card (a factor id, a feature name, a FHIR status code, a
 * "kind:value" concept), and a Chinese card carries no English word other than abbreviations, codes,
 * author names and journal names a Chinese spine surgeon writes as they are.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Card, hookResponseSchema } from '../../src/cds-hooks/schemas.ts';
import { loadModels } from '../../src/clinical/model-files.ts';
import { type RunningApp, startApp } from '../support/app.ts';
import { readFixture, startFhirServer, type TestFhirServer } from '../support/fhir-server.ts';
import {
  type Expectations,
  type Hook,
  hookBody,
  patientIdOf,
  readExpectations,
  scenarioCalls,
  serviceIds,
} from '../support/hook-calls.ts';

const expectations: Expectations = await readExpectations();
const calls = scenarioCalls(expectations);

/** Latin words a Chinese card may carry: abbreviations, units, code systems, journals, the service's name. */
const ALLOWED_IN_CHINESE = new Set([
  ...[
    'PVP',
    'PKP',
    'DXA',
    'MRI',
    'CT',
    'STIR',
    'PHQ',
    'BMI',
    'CI',
    'eGFR',
    'NPEC',
    'CPT',
    'FHIR',
    'EHR',
    'X',
  ],
  ...['mg', 'mL', 'min', 'SD', 'T', 'L', 'C', 'S', 'D', 'Kümmell', 'pvp', 'cds', 'rbp', 'refracture', 'v'],
  ...['J', 'Bone', 'Miner', 'Res', 'doi', 'PMID'],
]);
/** Authors of the model files' citations ("Liu 2025"). */
const AUTHORS = new Set(
  Object.values(loadModels())
    .flatMap((m) =>
      m.factors.flatMap((f) => [
        f.citation,
        ...(f.rule.type === 'bands' ? f.rule.bands.map((b) => b.citation) : []),
      ]),
    )
    .flatMap((c) => (c ? c.short.split(/\s+/) : []))
    .concat(['Conley', 'Tsourdi', 'Humphrey']),
);

/** Internal keys: feature names in camelCase, "kind:value" concepts, FHIR status codes with hyphens. */
const INTERNAL_KEY =
  /\b[a-z]{2,}[A-Z][a-z][A-Za-z]*\b|\b[a-z]+:[a-z-]+\b|\b(entered-in-error|not-done|on-hold|in-progress|not-taken)\b/;

function texts(card: Card): string[] {
  return [
    card.summary,
    card.detail ?? '',
    card.source.label,
    ...(card.suggestions ?? []).flatMap((s) => [s.label, ...(s.actions ?? []).map((a) => a.description)]),
    ...(card.overrideReasons ?? []).map((r) => r.display ?? ''),
  ];
}

/** Text without link targets and DOIs: those are addresses, not words. */
function words(text: string): string[] {
  const prose = text
    .replace(/\]\([^)]*\)/g, ']')
    .replace(/doi:\S+/g, 'doi')
    .replace(/\[PMID \d+\]/g, 'PMID');
  return prose.match(/[A-Za-zÀ-ÿ]+/g) ?? [];
}

let app: RunningApp;
let fhir: TestFhirServer;

beforeAll(async () => {
  [app, fhir] = await Promise.all([startApp(), startFhirServer()]);
  for (const scenario of Object.keys(expectations.scenarios)) await fhir.load(await readFixture(scenario));
});
afterAll(async () => {
  await Promise.all([app.close(), fhir.close()]);
});

async function cards(
  hook: Hook,
  scenario: string,
  draftOrders: string | undefined,
  locale: string,
): Promise<Card[]> {
  const body = await hookBody(hook, await patientIdOf(scenario), { draftOrders, fhirServer: fhir.baseUrl });
  const response = await app.post(`/cds-services/${serviceIds[hook]}`, body, { 'accept-language': locale });
  expect(response.status).toBe(200);
  return hookResponseSchema.parse(await response.json()).cards;
}

describe.each(calls)('$scenario, $hook', ({ scenario, hook, draftOrders }) => {
  it('no internal key reaches an English card', async () => {
    for (const card of await cards(hook, scenario, draftOrders, 'en')) {
      for (const text of texts(card))
        expect(text.replace(/\]\([^)]*\)/g, ']'), card.summary).not.toMatch(INTERNAL_KEY);
    }
  });

  it('a Chinese card is Chinese: no English word but abbreviations, codes and names', async () => {
    for (const card of await cards(hook, scenario, draftOrders, 'zh-CN')) {
      const english = texts(card)
        .flatMap(words)
        .filter((w) => !ALLOWED_IN_CHINESE.has(w) && !AUTHORS.has(w));
      expect(english, card.summary).toEqual([]);
    }
  });
});
