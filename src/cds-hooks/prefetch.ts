/**
 * Prefetch: render each template, take what the client sent, fetch the rest from the FHIR server.
 *
 * Per key, the client may send: nothing (absent: fetch it), `null` or an empty searchset (no data),
 * a resource or a searchset (data; follow `next` links on the same server), or an OperationOutcome
 * (the client failed: fetch it). A value that cannot be read as sent (a Bundle whose `entry` is an
 * object, a `link` holding null, only resources of the wrong type, more entries than the cap) is
 * treated like an OperationOutcome. Each key reads within its caps of pages, entries and bytes. Keys
 * still missing after that are reported with the reason, and the caller answers 412.
 */
import type { Resource } from 'fhir/r4';
import {
  type BatchAnswer,
  type FhirReader,
  FhirReadFailed,
  isObject,
  type ReadBudget,
  type ReadProblem,
  readBudget,
} from '../fhir/client.ts';

export type PrefetchTemplates = Record<string, string>;

/** Prefetch tokens of CDS Hooks 2.0 that our templates may use. */
export interface PrefetchTokens {
  patientId: string;
  userId: string;
  encounterId?: string;
}

export function renderTemplate(template: string, tokens: PrefetchTokens): string | undefined {
  const [userType, userRef] = tokens.userId.split('/', 2);
  const values: Record<string, string | undefined> = {
    'context.patientId': tokens.patientId,
    'context.userId': tokens.userId,
    'context.encounterId': tokens.encounterId,
    userPractitionerId: userType === 'Practitioner' ? userRef : undefined,
    userPractitionerRoleId: userType === 'PractitionerRole' ? userRef : undefined,
    userPatientId: userType === 'Patient' ? userRef : undefined,
    userRelatedPersonId: userType === 'RelatedPerson' ? userRef : undefined,
  };
  let complete = true;
  const rendered = template.replace(/\{\{\s*([\w.]+)\s*\}\}/g, (_, token: string) => {
    const value = values[token];
    if (value === undefined) complete = false;
    return encodeURIComponent(value ?? '');
  });
  return complete ? rendered : undefined;
}

/** Why a key could not be had: where it was looked for, and what was wrong there. */
export interface KeyProblem {
  from: 'prefetch' | 'fhir-server';
  problem: string;
}

export interface PrefetchOutcome {
  /** Resources per key; a key with no data maps to []. */
  data: Record<string, Resource[]>;
  /** Keys that could not be had from the request nor from the FHIR server. */
  missing: string[];
  /** Why each missing key could not be had (key names and problems only: no URL, no data). */
  problems: Record<string, KeyProblem>;
  /** Keys fetched from the FHIR server (for logs and metrics: key names only). */
  fetched: string[];
  /** Per key, the entries left out because they were not resources of the types the key holds. */
  misfiled: Record<string, number>;
}

/** Per prefetch key, all its pages together. */
export interface PrefetchLimits {
  maxPages: number;
  maxEntries: number;
  maxBytes: number;
}

export interface PrefetchOptions {
  templates: PrefetchTemplates;
  tokens: PrefetchTokens;
  provided: Record<string, unknown> | undefined;
  /** The FHIR server to fetch missing keys from, if the request named one we may call. */
  reader: FhirReader | undefined;
  /** One deadline for all the request's FHIR reads. */
  signal: AbortSignal;
  limits: PrefetchLimits;
  /** The resource types each key holds; other entries are left out and counted. Unlisted keys: any. */
  resourceTypes?: Readonly<Record<string, readonly string[]>>;
}

/** One page: the usable resources, what was left out, and where the next page is. */
interface Page {
  resources: Resource[];
  misfiled: number;
  next?: string;
}

type Classified = ({ kind: 'data' } & Page) | { kind: 'unusable'; problem: string };

type Resolved = { ok: true; resources: Resource[]; misfiled: number } | { ok: false; problem: string };

function isResource(value: unknown): value is Resource {
  return isObject(value) && typeof value.resourceType === 'string' && value.resourceType !== '';
}

/** What makes a Bundle unreadable as a whole: an XML-to-JSON converter writes one entry as an object. */
function bundleProblem(bundle: Record<string, unknown>): string | undefined {
  for (const field of ['entry', 'link'] as const) {
    const list = bundle[field];
    if (list === undefined) continue;
    if (!Array.isArray(list)) return `not a valid Bundle (${field} must be an array)`;
    if (!list.every(isObject)) return `not a valid Bundle (every ${field} must be an object)`;
  }
  return undefined;
}

function nextLink(links: unknown[] | undefined): string | undefined {
  const next = links?.find((l) => isObject(l) && l.relation === 'next' && typeof l.url === 'string');
  return next === undefined ? undefined : String((next as { url: string }).url);
}

/** A resource type as it may be quoted in a message or a log: a FHIR type name, never arbitrary text. */
function typeName(resource: Resource): string {
  return /^[A-Z][A-Za-z]{1,63}$/.test(resource.resourceType)
    ? resource.resourceType
    : 'a resource of unknown type';
}

function accepts(types: readonly string[] | undefined, resource: Resource): boolean {
  return types === undefined || types.includes(resource.resourceType);
}

function bundlePage(entries: Array<Record<string, unknown>>, types: readonly string[] | undefined): Page {
  const page: Page = { resources: [], misfiled: 0 };
  for (const entry of entries) {
    const resource = entry.resource;
    const search = isObject(entry.search) ? entry.search.mode : undefined;
    if (search === 'outcome' || (isResource(resource) && resource.resourceType === 'OperationOutcome'))
      continue;
    if (isResource(resource) && accepts(types, resource)) page.resources.push(resource);
    else if (search !== 'include') page.misfiled++;
  }
  return page;
}

/** A value given for a key, or a FHIR server's answer to it. */
function classify(value: unknown, limits: PrefetchLimits, types: readonly string[] | undefined): Classified {
  if (value === null) return { kind: 'data', resources: [], misfiled: 0 };
  if (!isResource(value)) return { kind: 'unusable', problem: 'not a FHIR resource' };
  if (value.resourceType === 'OperationOutcome') return { kind: 'unusable', problem: 'an OperationOutcome' };
  if (value.resourceType !== 'Bundle') {
    return accepts(types, value)
      ? { kind: 'data', resources: [value], misfiled: 0 }
      : { kind: 'unusable', problem: `${typeName(value)} instead of ${types?.join(' or ')}` };
  }
  const bundle = value as unknown as Record<string, unknown>;
  const problem = bundleProblem(bundle);
  if (problem) return { kind: 'unusable', problem };
  const entries = (bundle.entry ?? []) as Array<Record<string, unknown>>;
  if (entries.length > limits.maxEntries) {
    return { kind: 'unusable', problem: `more than ${limits.maxEntries} entries` };
  }
  const next = nextLink(bundle.link as unknown[] | undefined);
  return { kind: 'data', ...bundlePage(entries, types), ...(next ? { next } : {}) };
}

function describe(problem: ReadProblem): string {
  switch (problem.kind) {
    case 'status':
      return `HTTP ${problem.status}`;
    case 'redirect':
      return `redirected with HTTP ${problem.status} (not followed)`;
    case 'not-json':
      return 'not FHIR JSON';
    case 'invalid-json':
      return 'not valid JSON';
    case 'too-many-entries':
      return `more than ${problem.limit} entries`;
    case 'too-many-bytes':
      return `more than ${problem.limit} bytes`;
    case 'connection':
      return 'connection failed';
    case 'deadline':
      return 'no answer before the deadline';
    case 'abandoned':
      return 'stopped: the caller left';
    case 'not-batch-response':
      return 'not a batch-response';
  }
}

/** Only follow `next` links on the server we were allowed to call; never wherever a bundle points. */
function onServer(url: string, reader: FhirReader): boolean {
  return (
    url === reader.baseUrl || url.startsWith(`${reader.baseUrl}/`) || url.startsWith(`${reader.baseUrl}?`)
  );
}

/**
 * The first page and every `next` page after it, within the key's caps: more pages than allowed, a
 * link that loops, or a page over the byte or entry budget make the whole key unusable (a truncated
 * medication list would read as "no treatment").
 */
async function readPages(
  first: Page,
  firstUrl: string | undefined,
  types: readonly string[] | undefined,
  options: PrefetchOptions,
  budget: ReadBudget,
): Promise<Resolved> {
  const { reader, limits } = options;
  const resources = [...first.resources];
  let misfiled = first.misfiled;
  const visited = new Set(firstUrl === undefined ? [] : [firstUrl]);
  let next = first.next;
  for (let pages = 1; next !== undefined; pages++) {
    if (pages >= limits.maxPages) return { ok: false, problem: `more than ${limits.maxPages} pages` };
    if (!reader || !onServer(next, reader)) return { ok: false, problem: 'a next link off the FHIR server' };
    if (visited.has(next)) return { ok: false, problem: 'next links loop' };
    visited.add(next);
    const page = classify(await reader.get(next, options.signal, budget), limits, types);
    if (page.kind === 'unusable') return { ok: false, problem: page.problem };
    resources.push(...page.resources);
    misfiled += page.misfiled;
    next = page.next;
  }
  if (resources.length === 0 && misfiled > 0) {
    return {
      ok: false,
      problem: `${misfiled} entries, none of them ${types?.join(' or ')}`,
    };
  }
  return { ok: true, resources, misfiled };
}

function failed(error: unknown): { ok: false; problem: string } {
  return {
    ok: false,
    problem: error instanceof FhirReadFailed ? describe(error.problem) : 'could not be read',
  };
}

function keyBudget(limits: PrefetchLimits): ReadBudget {
  return readBudget({ bytes: limits.maxBytes, entries: limits.maxEntries });
}

/** A key's first page, read, then its `next` pages; a failed page read is the key's problem. */
async function fromPage(
  first: Page,
  url: string | undefined,
  types: readonly string[] | undefined,
  options: PrefetchOptions,
  budget: ReadBudget,
): Promise<Resolved> {
  try {
    return await readPages(first, url, types, options, budget);
  } catch (error) {
    return failed(error);
  }
}

/** A key's first page as fetched (a value to classify), then its `next` pages. */
function fromFirstPage(
  value: unknown,
  url: string | undefined,
  types: readonly string[] | undefined,
  options: PrefetchOptions,
  budget: ReadBudget,
): Promise<Resolved> {
  const first = classify(value, options.limits, types);
  if (first.kind === 'unusable') return Promise.resolve({ ok: false, problem: first.problem });
  return fromPage(first, url, types, options, budget);
}

type KeyResult = (Resolved & { ok: true; source: KeyProblem['from'] }) | { ok: false; why: KeyProblem };

/** A key to fetch from the FHIR server, and its rendered search. */
interface Fetch {
  key: string;
  query: string;
}

function fetchedResult(result: Resolved): KeyResult {
  return result.ok
    ? { ...result, source: 'fhir-server' }
    : { ok: false, why: { from: 'fhir-server', problem: result.problem } };
}

async function fetchOne(fetch: Fetch, reader: FhirReader, options: PrefetchOptions): Promise<KeyResult> {
  const types = options.resourceTypes?.[fetch.key];
  const budget = keyBudget(options.limits);
  let value: unknown;
  try {
    value = await reader.get(fetch.query, options.signal, budget);
  } catch (error) {
    return fetchedResult(failed(error));
  }
  return fetchedResult(
    await fromFirstPage(value, `${reader.baseUrl}/${fetch.query}`, types, options, budget),
  );
}

/**
 * All the keys in one batch request. Each answer is then read as that key's first page, within the
 * key's caps (the batch's bytes are charged to its keys in equal shares), and its `next` pages are
 * fetched one by one. A batch that fails as a whole, but not for the deadline, is read key by key.
 */
async function fetchBatch(
  fetches: Fetch[],
  reader: FhirReader,
  batch: NonNullable<FhirReader['batch']>,
  options: PrefetchOptions,
): Promise<KeyResult[]> {
  const { limits } = options;
  const total = readBudget({ bytes: limits.maxBytes * fetches.length, entries: fetches.length });
  let answers: BatchAnswer[];
  try {
    answers = await batch(
      fetches.map((f) => f.query),
      options.signal,
      total,
    );
  } catch (error) {
    if (options.signal.aborted) return fetches.map(() => fetchedResult(failed(error)));
    return Promise.all(fetches.map((f) => fetchOne(f, reader, options)));
  }
  const share = Math.ceil((total.limits.bytes - total.bytes) / fetches.length);
  return Promise.all(
    fetches.map((fetch, i) => {
      const answer = answers[i] as BatchAnswer;
      if (answer.status < 200 || answer.status > 299) {
        return fetchedResult({ ok: false, problem: `HTTP ${answer.status}` });
      }
      const budget = keyBudget(limits);
      budget.bytes -= share;
      const entries = (answer.resource as { entry?: unknown } | null)?.entry;
      budget.entries -= Array.isArray(entries) ? entries.length : 0;
      const types = options.resourceTypes?.[fetch.key];
      return fromFirstPage(answer.resource, `${reader.baseUrl}/${fetch.query}`, types, options, budget).then(
        fetchedResult,
      );
    }),
  );
}

/** The FHIR server's answers for the keys to fetch: one batch when it takes them, else in parallel. */
function fetchAll(fetches: Fetch[], reader: FhirReader, options: PrefetchOptions): Promise<KeyResult>[] {
  if (fetches.length > 1 && reader.batch && reader.canBatch?.()) {
    const batch = fetchBatch(fetches, reader, reader.batch, options);
    return fetches.map((_, i) => batch.then((results) => results[i] as KeyResult));
  }
  return fetches.map((f) => fetchOne(f, reader, options));
}

/** A key the request gave, read as given; when that fails, fetched from the FHIR server on its own. */
async function fromRequest(key: string, first: Page, options: PrefetchOptions): Promise<KeyResult> {
  const given = await fromPage(
    first,
    undefined,
    options.resourceTypes?.[key],
    options,
    keyBudget(options.limits),
  );
  if (given.ok) return { ...given, source: 'prefetch' };
  const why: KeyProblem = { from: 'prefetch', problem: given.problem };
  const fetch = toFetch(key, options);
  if (!fetch || !options.reader) return { ok: false, why };
  return fetchOne(fetch, options.reader, options);
}

function toFetch(key: string, options: PrefetchOptions): Fetch | undefined {
  const template = options.templates[key];
  const query = template === undefined ? undefined : renderTemplate(template, options.tokens);
  return query === undefined ? undefined : { key, query };
}

/**
 * Every key: what the request gave, where it can be read (a value whose first page cannot be read
 * as sent joins the keys to fetch, so that one batch can carry them all), else the FHIR server.
 */
function resolveKeys(keys: string[], options: PrefetchOptions): Promise<KeyResult>[] {
  const provided = options.provided ?? {};
  const results = new Map<string, Promise<KeyResult>>();
  const fetches: Fetch[] = [];
  for (const key of keys) {
    let why: KeyProblem | undefined;
    if (Object.hasOwn(provided, key)) {
      const first = classify(provided[key], options.limits, options.resourceTypes?.[key]);
      if (first.kind === 'data') {
        results.set(key, fromRequest(key, first, options));
        continue;
      }
      why = { from: 'prefetch', problem: first.problem };
    }
    const fetch = options.reader ? toFetch(key, options) : undefined;
    if (fetch) fetches.push(fetch);
    else
      results.set(key, Promise.resolve({ ok: false, why: why ?? { from: 'prefetch', problem: 'not sent' } }));
  }
  if (options.reader) {
    const fetched = fetchAll(fetches, options.reader, options);
    fetches.forEach((f, i) => {
      results.set(f.key, fetched[i] as Promise<KeyResult>);
    });
  }
  return keys.map((key) => results.get(key) as Promise<KeyResult>);
}

export async function resolvePrefetch(options: PrefetchOptions): Promise<PrefetchOutcome> {
  const keys = Object.keys(options.templates);
  const resolved = await Promise.all(resolveKeys(keys, options));
  const outcome: PrefetchOutcome = { data: {}, missing: [], problems: {}, fetched: [], misfiled: {} };
  keys.forEach((key, i) => {
    const result = resolved[i] as KeyResult;
    if (!result.ok) {
      outcome.missing.push(key);
      outcome.problems[key] = result.why;
      return;
    }
    outcome.data[key] = result.resources;
    if (result.misfiled > 0) outcome.misfiled[key] = result.misfiled;
    if (result.source === 'fhir-server') outcome.fetched.push(key);
  });
  return outcome;
}
