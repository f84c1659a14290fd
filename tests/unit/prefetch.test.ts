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
      if (!(url in pages)) throw new FhirReadFailed({ kind: 'status', status: 404 });
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
  const limits = { maxPages: 5, maxEntries: 100, maxBytes: 1_000_000 };
  const base = { templates, tokens, signal, limits };

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
      problems: {},
      fetched: [],
      misfiled: {},
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

  it('follows next links of a paged searchset on the same server; more pages than the cap: not read', async () => {
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
      limits: { ...limits, maxPages: 2 },
      reader,
      provided: { patient, conditions: searchset([condition], second) },
    });
    expect(capped.missing).toEqual(['conditions']);
    expect(capped.problems.conditions).toEqual({ from: 'fhir-server', problem: 'HTTP 404' });
    expect(capped.data.conditions).toBeUndefined();
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

describe('values that cannot be read as sent', () => {
  const limits = { maxPages: 3, maxEntries: 2, maxBytes: 1_000_000 };
  const base = { templates, tokens, signal, limits, resourceTypes: { conditions: ['Condition'] } };
  const conditionsProblem = async (conditions: unknown) => {
    const outcome = await resolvePrefetch({ ...base, reader: undefined, provided: { patient, conditions } });
    expect(outcome.missing).toEqual(['conditions']);
    return outcome.problems.conditions;
  };

  it('a Bundle whose entry is an object, or whose link is not a list of objects', async () => {
    const one = { resourceType: 'Bundle', type: 'searchset', entry: { resource: condition } };
    expect(await conditionsProblem(one)).toEqual({
      from: 'prefetch',
      problem: 'not a valid Bundle (entry must be an array)',
    });
    expect(
      (await conditionsProblem({ ...searchset([condition]), link: { relation: 'next' } }))?.problem,
    ).toBe('not a valid Bundle (link must be an array)');
    expect((await conditionsProblem({ ...searchset([condition]), link: [null] }))?.problem).toBe(
      'not a valid Bundle (every link must be an object)',
    );
    expect((await conditionsProblem({ ...searchset([]), entry: [null, 3] }))?.problem).toBe(
      'not a valid Bundle (every entry must be an object)',
    );
  });

  it('is fetched from the FHIR server instead, when there is one', async () => {
    const { reader, asked } = fakeServer({ 'Condition?patient=p1': searchset([condition]) });
    const outcome = await resolvePrefetch({
      ...base,
      reader,
      provided: { patient, conditions: { resourceType: 'Bundle', entry: { resource: condition } } },
    });
    expect(outcome.missing).toEqual([]);
    expect(outcome.data.conditions).toEqual([condition]);
    expect(asked).toEqual(['Condition?patient=p1']);
  });

  it('more entries than the cap', async () => {
    const three = searchset(['c1', 'c2', 'c3'].map((id) => ({ ...condition, id })));
    expect(await conditionsProblem(three)).toEqual({ from: 'prefetch', problem: 'more than 2 entries' });
  });

  it('leaves out resources of the wrong type and counts them; only wrong types: not usable', async () => {
    const observation: Resource = { resourceType: 'Observation', id: 'o1' };
    const mixed = await resolvePrefetch({
      ...base,
      reader: undefined,
      provided: { patient, conditions: searchset([observation, condition]) },
    });
    expect(mixed.data.conditions).toEqual([condition]);
    expect(mixed.misfiled).toEqual({ conditions: 1 });
    expect((await conditionsProblem(searchset([observation])))?.problem).toBe(
      '1 entries, none of them Condition',
    );
    expect((await conditionsProblem(observation))?.problem).toBe('Observation instead of Condition');
    const named = { resourceType: 'Zhang San, MRN 12345' };
    expect((await conditionsProblem(named))?.problem).toBe('a resource of unknown type instead of Condition');
  });

  it('next links that loop, or more pages than the cap', async () => {
    const loop = 'https://ehr.example/fhir/Condition?page=2';
    const { reader } = fakeServer({ [loop]: searchset([{ ...condition, id: 'c2' }], loop) });
    const looping = await resolvePrefetch({
      ...base,
      reader,
      provided: { patient, conditions: searchset([condition], loop) },
    });
    expect(looping.missing).toEqual(['conditions']);
    const endless = fakeServer(
      Object.fromEntries(
        [2, 3, 4].map((n) => [
          `https://ehr.example/fhir/Condition?page=${n}`,
          searchset([], `https://ehr.example/fhir/Condition?page=${n + 1}`),
        ]),
      ),
    );
    const paged = await resolvePrefetch({
      ...base,
      reader: endless.reader,
      provided: { patient, conditions: searchset([], 'https://ehr.example/fhir/Condition?page=2') },
    });
    expect(paged.missing).toEqual(['conditions']);
    expect(endless.asked).toEqual([
      'https://ehr.example/fhir/Condition?page=2',
      'https://ehr.example/fhir/Condition?page=3',
      'Condition?patient=p1',
    ]);
  });
});
