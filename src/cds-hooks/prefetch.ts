/**
 * Prefetch: render each template, take what the client sent, fetch the rest from the FHIR server.
 *
 * Per key, the client may send: nothing (absent: fetch it), `null` or an empty searchset (no data),
 * a resource or a searchset (data; follow `next` links on the same server), or an OperationOutcome
 * (the client failed: fetch it). Keys still missing after that are reported, and the caller answers 412.
 */
import type { Bundle, Resource } from 'fhir/r4';
import type { FhirReader } from '../fhir/client.ts';

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

export interface PrefetchOutcome {
  /** Resources per key; a key with no data maps to []. */
  data: Record<string, Resource[]>;
  /** Keys that could not be had from the request nor from the FHIR server. */
  missing: string[];
  /** Keys fetched from the FHIR server (for logs and metrics: key names only). */
  fetched: string[];
}

export interface PrefetchOptions {
  templates: PrefetchTemplates;
  tokens: PrefetchTokens;
  provided: Record<string, unknown> | undefined;
  /** The FHIR server to fetch missing keys from, if the request named one we may call. */
  reader: FhirReader | undefined;
  /** One deadline for all the request's FHIR reads. */
  signal: AbortSignal;
  /** Most pages to read for one key (the first included). */
  maxPages: number;
}

type Provided =
  | { kind: 'absent' }
  | { kind: 'data'; resources: Resource[]; next?: string }
  | { kind: 'unusable' };

function isResource(value: unknown): value is Resource {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as { resourceType?: unknown }).resourceType === 'string'
  );
}

function nextLink(bundle: Bundle): string | undefined {
  return bundle.link?.find((l) => l.relation === 'next' && typeof l.url === 'string')?.url;
}

function bundleResources(bundle: Bundle): Resource[] {
  const resources: Resource[] = [];
  for (const entry of bundle.entry ?? []) {
    const resource: unknown = entry?.resource;
    if (!isResource(resource)) continue;
    if (entry.search?.mode === 'outcome' || resource.resourceType === 'OperationOutcome') continue;
    resources.push(resource);
  }
  return resources;
}

function classify(value: unknown, present: boolean): Provided {
  if (!present) return { kind: 'absent' };
  if (value === null) return { kind: 'data', resources: [] };
  if (!isResource(value) || value.resourceType === 'OperationOutcome') return { kind: 'unusable' };
  if (value.resourceType !== 'Bundle') return { kind: 'data', resources: [value] };
  const bundle = value as Bundle;
  const next = nextLink(bundle);
  return { kind: 'data', resources: bundleResources(bundle), ...(next ? { next } : {}) };
}

/** Only follow `next` links on the server we were allowed to call; never wherever a bundle points. */
function onServer(url: string, reader: FhirReader): boolean {
  return (
    url === reader.baseUrl || url.startsWith(`${reader.baseUrl}/`) || url.startsWith(`${reader.baseUrl}?`)
  );
}

async function readPages(
  first: Provided & { kind: 'data' },
  options: PrefetchOptions,
): Promise<Resource[] | undefined> {
  const resources = [...first.resources];
  let next = first.next;
  for (let page = 1; next !== undefined && page < options.maxPages; page++) {
    if (!options.reader || !onServer(next, options.reader)) return undefined;
    const body = await options.reader.get(next, options.signal);
    const classified = classify(body, true);
    if (classified.kind !== 'data') return undefined;
    resources.push(...classified.resources);
    next = classified.next;
  }
  return resources;
}

interface ResolvedKey {
  resources: Resource[];
  source: 'prefetch' | 'fhir-server';
}

async function resolveKey(key: string, options: PrefetchOptions): Promise<ResolvedKey | undefined> {
  const provided = options.provided ?? {};
  const given = classify(provided[key], Object.hasOwn(provided, key));
  if (given.kind === 'data') {
    const pages = await readPages(given, options).catch(() => undefined);
    if (pages) return { resources: pages, source: 'prefetch' };
  }
  const template = options.templates[key];
  const query = template === undefined ? undefined : renderTemplate(template, options.tokens);
  if (!options.reader || query === undefined) return undefined;
  try {
    const fetched = classify(await options.reader.get(query, options.signal), true);
    const resources = fetched.kind === 'data' ? await readPages(fetched, options) : undefined;
    return resources && { resources, source: 'fhir-server' };
  } catch {
    return undefined;
  }
}

export async function resolvePrefetch(options: PrefetchOptions): Promise<PrefetchOutcome> {
  const keys = Object.keys(options.templates);
  const resolved = await Promise.all(keys.map((key) => resolveKey(key, options)));
  const outcome: PrefetchOutcome = { data: {}, missing: [], fetched: [] };
  keys.forEach((key, i) => {
    const result = resolved[i];
    if (!result) {
      outcome.missing.push(key);
      return;
    }
    outcome.data[key] = result.resources;
    if (result.source === 'fhir-server') outcome.fetched.push(key);
  });
  return outcome;
}
