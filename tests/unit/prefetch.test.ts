import type { Bundle, OperationOutcome, Resource } from 'fhir/r4';
import { describe, expect, it } from 'vitest';
import { renderTemplate, resolvePrefetch } from '../../src/cds-hooks/prefetch.ts';
import { type FhirReader, FhirReadFailed } from '../../src/fhir/client.ts';

const tokens = { patientId: 'p1', userId: 'Practitioner/dr9' };
const templates = {
  patient: 'Patient/{{context.patientId}}',
  conditions: 'Condition?patient={{context.patientId}}',
};
const patient: Resource = { resourceType: 'Patient', id: 'p1' };
const condition: Resource = { resourceType: 'Condition', id: 'c1' };

function searchset(resources: Resource[], next?: string): Bundle {
  return {
    resourceType: 'Bundle',
    type: 'searchset',
    entry: resources.map((resource) => ({ resource, search: { mode: 'match' } })),
    ...(next ? { link: [{ relation: 'next', url: next }] } : {}),
  };
}

/** An in-process FHIR server stand-in: answers by URL, records what was asked. */
function fakeServer(pages: Record<string, unknown>, baseUrl = 'https://ehr.example/fhir') {
  const asked: string[] = [];
  const reader: FhirReader = {
    baseUrl,
    async get(url) {
      asked.push(url);
      if (!(url in pages)) throw new FhirReadFailed(404);
      return pages[url];
    },
  };
  return { reader, asked };
}

const signal = new AbortController().signal;

describe('prefetch templates', () => {
  it('renders the CDS Hooks tokens, URL-encoded', () => {
    expect(renderTemplate('Patient/{{context.patientId}}', tokens)).toBe('Patient/p1');
    expect(renderTemplate('Practitioner/{{userPractitionerId}}', tokens)).toBe('Practitioner/dr9');
    expect(renderTemplate('X?user={{context.userId}}', tokens)).toBe('X?user=Practitioner%2Fdr9');
  });

  it('cannot render a token the context lacks', () => {
    expect(renderTemplate('Encounter/{{context.encounterId}}', tokens)).toBeUndefined();
    expect(renderTemplate('PractitionerRole/{{userPractitionerRoleId}}', tokens)).toBeUndefined();
  });
});

describe('resolving prefetch key by key', () => {
  const base = { templates, tokens, signal, maxPages: 5 };

  it('takes every key from the request and calls no server', async () => {
    const { reader, asked } = fakeServer({});
    const outcome = await resolvePrefetch({
      ...base,
      reader,
      provided: { patient, conditions: searchset([condition]) },
    });
    expect(outcome).toEqual({
      data: { patient: [patient], conditions: [condition] },
      missing: [],
      fetched: [],
    });
    expect(asked).toEqual([]);
  });

  it('reads null and an empty searchset as "no data", without fetching', async () => {
    const { reader, asked } = fakeServer({});
    const outcome = await resolvePrefetch({ ...base, reader, provided: { patient, conditions: null } });
    expect(outcome.data.conditions).toEqual([]);
    const empty = await resolvePrefetch({
      ...base,
      reader,
      provided: { patient, conditions: searchset([]) },
    });
    expect(empty.data.conditions).toEqual([]);
    expect(asked).toEqual([]);
  });

  it('fetches an absent key, and a key the client answered with an OperationOutcome', async () => {
    const { reader, asked } = fakeServer({
      'Condition?patient=p1': searchset([condition]),
      'Patient/p1': patient,
    });
    const outcome = await resolvePrefetch({
      ...base,
      reader,
      provided: { patient: { resourceType: 'OperationOutcome', issue: [] } },
    });
    expect(outcome.data).toEqual({ patient: [patient], conditions: [condition] });
    expect(outcome.fetched.sort()).toEqual(['conditions', 'patient']);
    expect(asked.sort()).toEqual(['Condition?patient=p1', 'Patient/p1']);
  });

  it('names the keys it could not get when there is no FHIR server', async () => {
    const outcome = await resolvePrefetch({ ...base, reader: undefined, provided: { patient } });
    expect(outcome.missing).toEqual(['conditions']);
  });

  it('names the keys the FHIR server failed on', async () => {
    const { reader } = fakeServer({ 'Patient/p1': patient });
    const outcome = await resolvePrefetch({ ...base, reader, provided: {} });
    expect(outcome.missing).toEqual(['conditions']);
    expect(outcome.data.patient).toEqual([patient]);
  });

  it('follows next links of a paged searchset on the same server, up to the page cap', async () => {
    const second = 'https://ehr.example/fhir/Condition?page=2';
    const third = 'https://ehr.example/fhir/Condition?page=3';
    const c2 = { ...condition, id: 'c2' };
    const c3 = { ...condition, id: 'c3' };
    const { reader } = fakeServer({ [second]: searchset([c2], third), [third]: searchset([c3]) });
    const all = await resolvePrefetch({
      ...base,
      reader,
      provided: { patient, conditions: searchset([condition], second) },
    });
    expect(all.data.conditions?.map((c) => c.id)).toEqual(['c1', 'c2', 'c3']);
    const capped = await resolvePrefetch({
      ...base,
      maxPages: 2,
      reader,
      provided: { patient, conditions: searchset([condition], second) },
    });
    expect(capped.data.conditions?.map((c) => c.id)).toEqual(['c1', 'c2']);
  });

  it('never follows a next link to another server: it searches its own server instead', async () => {
    const { reader, asked } = fakeServer({ 'Condition?patient=p1': searchset([condition]) });
    const outcome = await resolvePrefetch({
      ...base,
      reader,
      provided: { patient, conditions: searchset([], 'https://attacker.example/steal') },
    });
    expect(asked).toEqual(['Condition?patient=p1']);
    expect(outcome.data.conditions).toEqual([condition]);
  });

  it('skips OperationOutcome entries inside a searchset', async () => {
    const bundle = searchset([condition]);
    bundle.entry?.push({
      resource: { resourceType: 'OperationOutcome', issue: [] } as OperationOutcome,
      search: { mode: 'outcome' },
    });
    const outcome = await resolvePrefetch({
      ...base,
      reader: undefined,
      provided: { patient, conditions: bundle },
    });
    expect(outcome.data.conditions).toEqual([condition]);
  });

  it('treats a value that is not a resource as not fulfilled', async () => {
    const outcome = await resolvePrefetch({
      ...base,
      reader: undefined,
      provided: { patient, conditions: 'oops' },
    });
    expect(outcome.missing).toEqual(['conditions']);
  });
});
