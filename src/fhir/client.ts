/**
 * Reads from an EHR's FHIR server with the request's bearer token, under the request's deadline and
 * within a budget of bytes and Bundle entries that the caller shares across the pages of one prefetch
 * key. The body is counted while it arrives and the read stops at the budget: a 50 MB searchset is
 * never buffered. Redirects are not followed (a trusted server must not send us, or our token's
 * answer, elsewhere). Failures are reduced to a problem; the URL, and with it the patient id, never
 * leaves this module.
 */
import { Agent as HttpAgent, request as httpRequest, type IncomingMessage } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { pipeline, type Readable, type Transform } from 'node:stream';
import { createBrotliDecompress, createGunzip, createInflate } from 'node:zlib';
import { EntryCounter } from './entry-counter.ts';

export type ReadProblem =
  | { kind: 'status'; status: number }
  | { kind: 'redirect'; status: number }
  | { kind: 'not-json' }
  | { kind: 'invalid-json' }
  | { kind: 'too-many-entries'; limit: number }
  | { kind: 'too-many-bytes'; limit: number }
  | { kind: 'connection' }
  | { kind: 'deadline' }
  /** The caller of the hook left (its own timeout) and the read was stopped: no fault of the server. */
  | { kind: 'abandoned' }
  | { kind: 'not-batch-response' };

export class FhirReadFailed extends Error {
  readonly problem: ReadProblem;
  constructor(problem: ReadProblem) {
    super(`FHIR read failed: ${problem.kind}`);
    this.name = 'FhirReadFailed';
    this.problem = problem;
  }
}

/** What one prefetch key may still read: both counts go down with every page. */
export interface ReadBudget {
  bytes: number;
  entries: number;
  /** The caps the budget started from, for the messages. */
  readonly limits: { bytes: number; entries: number };
}

export function readBudget(limits: { bytes: number; entries: number }): ReadBudget {
  return { bytes: limits.bytes, entries: limits.entries, limits };
}

/** One answer of a batch: the entry's HTTP status and its resource (a searchset, a resource, an OperationOutcome). */
export interface BatchAnswer {
  status: number;
  resource: unknown;
}

export interface FhirReader {
  /** The server's base URL, normalised without a trailing slash. */
  readonly baseUrl: string;
  /** GET a path relative to the base (`Patient/1`, `Observation?patient=1`) or an absolute URL on it. */
  get(pathOrUrl: string, signal: AbortSignal, budget: ReadBudget): Promise<unknown>;
  /**
   * Whether the server is known to take `batch` Bundles (its CapabilityStatement, read once per
   * server in the background and cached). `false` until that is known.
   */
  canBatch?(): boolean;
  /**
   * The GETs of `paths` (relative to the base) in one batch: their answers in the same order. Throws
   * FhirReadFailed when the batch as a whole fails; `not-batch-response` when the answer is not one
   * (the server is then not asked for batches again until its capabilities are read anew).
   */
  batch?(paths: readonly string[], signal: AbortSignal, budget: ReadBudget): Promise<BatchAnswer[]>;
}

const JSON_TYPE = /^application\/(?:fhir\+json|json|json\+fhir|[\w.-]+\+json)\s*(?:;|$)/i;

function overBudget(budget: ReadBudget, kind: 'bytes' | 'entries'): FhirReadFailed {
  return new FhirReadFailed(
    kind === 'bytes'
      ? { kind: 'too-many-bytes', limit: budget.limits.bytes }
      : { kind: 'too-many-entries', limit: budget.limits.entries },
  );
}

/**
 * Connections to FHIR servers, kept alive between hook calls (one call reads its keys in parallel, so a
 * server sees as many connections as keys), and closed after 4 s unused, as fetch did: before most
 * servers close theirs. node:http rather than fetch: for the ten reads of a hook call, fetch's WHATWG
 * streams cost about twice the CPU of the reads themselves.
 */
const idleMs = 4000;
const agents = {
  'http:': new HttpAgent({ keepAlive: true, timeout: idleMs }),
  'https:': new HttpsAgent({ keepAlive: true, timeout: idleMs }),
};

/** What a server may compress its answer with (fetch asked for these too); the budget counts decoded bytes. */
const ACCEPT_ENCODING = 'gzip, deflate, br';

const DECODERS: Readonly<Record<string, () => Transform>> = {
  gzip: () => createGunzip(),
  'x-gzip': () => createGunzip(),
  deflate: () => createInflate(),
  br: () => createBrotliDecompress(),
};

/**
 * The answer's body decoded as its Content-Encoding says (codings applied in order are undone in
 * reverse). A coding we did not ask for is left as it is, and fails as JSON.
 */
function decoded(response: IncomingMessage): Readable {
  const codings = String(response.headers['content-encoding'] ?? '')
    .split(',')
    .map((coding) => coding.trim().toLowerCase())
    .filter((coding) => coding !== '' && coding !== 'identity');
  if (codings.length === 0 || !codings.every((coding) => Object.hasOwn(DECODERS, coding))) return response;
  const streams: [IncomingMessage, ...Transform[]] = [
    response,
    ...codings.reverse().map((coding) => (DECODERS[coding] as () => Transform)()),
  ];
  // pipeline destroys every stream when one fails; the last one reports the error to readBody.
  pipeline(streams, () => undefined);
  return streams[streams.length - 1] as Readable;
}

/**
 * Bytes of an answer read before its entries are counted as they arrive. A smaller answer (an ordinary
 * chart's searchset: the heavy bench patient's 200 Observations are 110 KiB) is parsed whole and its
 * entries counted then, which costs less than scanning it byte by byte first; a larger one is scanned
 * from its first byte once it gets here, so a searchset of 50,000 entries still stops at the entry cap.
 */
export const COUNT_ENTRIES_FROM_BYTES = 256 * 1024;

/** The body, read chunk by chunk until the budget says stop (then the connection is closed). */
function readBody(response: IncomingMessage, budget: ReadBudget): Promise<Buffer> {
  const body = decoded(response);
  return new Promise((resolve, reject) => {
    const counter = new EntryCounter();
    const chunks: Buffer[] = [];
    let counted = 0;
    let size = 0;
    let ended = false;
    const entriesOver = (): boolean => {
      let entries = counter.count;
      for (; counted < chunks.length; counted++) entries = counter.push(chunks[counted] as Buffer);
      return entries > budget.entries;
    };
    body.on('data', (chunk: Buffer) => {
      size += chunk.byteLength;
      chunks.push(chunk);
      const exceeded =
        size > budget.bytes ? 'bytes' : size > COUNT_ENTRIES_FROM_BYTES && entriesOver() ? 'entries' : null;
      if (!exceeded) return;
      ended = true;
      reject(overBudget(budget, exceeded));
      response.destroy();
      body.destroy();
    });
    body.once('end', () => {
      ended = true;
      resolve(Buffer.concat(chunks, size));
    });
    body.once('error', (error) => {
      ended = true;
      reject(error);
    });
    // Cut off (the deadline, a reset): closed without an end or an error of its own.
    body.once('close', () => {
      if (!ended) reject(new Error('the answer was cut off'));
    });
  });
}

function entriesOf(json: unknown): number {
  if (typeof json !== 'object' || json === null) return 0;
  const entry = (json as { entry?: unknown }).entry;
  return Array.isArray(entry) ? entry.length : 0;
}

interface Post {
  method: 'POST';
  body: string;
}

/**
 * Sends the request; resolves with the answer's head (its body not read yet). Redirects are not followed.
 * A kept-alive connection the server closed just as the request went out on it (reset before any answer)
 * is not the server's failure: the request is sent once more, on a new connection.
 */
function send(
  url: string,
  headers: Record<string, string>,
  signal: AbortSignal,
  post?: Post,
  again = false,
): Promise<IncomingMessage> {
  return new Promise((resolve, reject) => {
    const target = new URL(url);
    const protocol = target.protocol;
    if (protocol !== 'http:' && protocol !== 'https:') {
      reject(new Error(`unsupported protocol ${protocol}`));
      return;
    }
    const request = (protocol === 'https:' ? httpsRequest : httpRequest)(target, {
      method: post?.method ?? 'GET',
      headers: {
        ...headers,
        'accept-encoding': ACCEPT_ENCODING,
        ...(post ? { 'content-length': String(Buffer.byteLength(post.body)) } : {}),
      },
      agent: agents[protocol],
      signal,
    });
    let answered = false;
    request.once('response', (response) => {
      answered = true;
      resolve(response);
    });
    request.once('error', (error: NodeJS.ErrnoException) => {
      const closedUnderUs = request.reusedSocket && error.code === 'ECONNRESET' && !answered;
      if (closedUnderUs && !again && !signal.aborted)
        send(url, headers, signal, post, true).then(resolve, reject);
      else reject(error);
    });
    request.end(post?.body);
  });
}

async function read(
  url: string,
  headers: Record<string, string>,
  signal: AbortSignal,
  budget: ReadBudget,
  post?: Post,
) {
  const response = await send(url, headers, signal, post);
  const status = response.statusCode ?? 0;
  const refuse = (problem: ReadProblem): never => {
    response.destroy();
    throw new FhirReadFailed(problem);
  };
  if (status >= 300 && status < 400) return refuse({ kind: 'redirect', status });
  if (status !== 200) return refuse({ kind: 'status', status });
  if (!JSON_TYPE.test(response.headers['content-type'] ?? '')) return refuse({ kind: 'not-json' });
  const declared = Number(response.headers['content-length'] ?? Number.NaN);
  if (declared > budget.bytes) return refuse({ kind: 'too-many-bytes', limit: budget.limits.bytes });
  const body = await readBody(response, budget);
  let json: unknown;
  try {
    json = JSON.parse(body.toString('utf8'));
  } catch {
    throw new FhirReadFailed({ kind: 'invalid-json' });
  }
  const entries = entriesOf(json);
  if (entries > budget.entries) throw overBudget(budget, 'entries');
  budget.bytes -= body.byteLength;
  budget.entries -= entries;
  return json;
}

/** A JSON object (not an array, not null): what FHIR resources and their elements are. */
export function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** A batch-response's answers, one per request in order, or undefined when the body is not that. */
function batchAnswers(json: unknown, count: number): BatchAnswer[] | undefined {
  if (!isObject(json) || json.resourceType !== 'Bundle' || json.type !== 'batch-response') return undefined;
  const entries = json.entry;
  if (!Array.isArray(entries) || entries.length !== count || !entries.every(isObject)) return undefined;
  const answers: BatchAnswer[] = [];
  for (const entry of entries) {
    const response = entry.response;
    const status = isObject(response) ? /^\s*(\d{3})\b/.exec(String(response.status ?? '')) : null;
    if (!status) return undefined;
    answers.push({
      status: Number(status[1]),
      resource: entry.resource ?? (isObject(response) ? response.outcome : undefined),
    });
  }
  return answers;
}

function declaresBatch(json: unknown): boolean {
  if (!isObject(json) || json.resourceType !== 'CapabilityStatement' || !Array.isArray(json.rest))
    return false;
  return json.rest.some(
    (rest) =>
      isObject(rest) &&
      rest.mode === 'server' &&
      Array.isArray(rest.interaction) &&
      rest.interaction.some((i) => isObject(i) && i.code === 'batch'),
  );
}

/** Servers remembered at most (only trusted ones are called in production; any with CDS_AUTH=off). */
const maxServers = 1000;

/**
 * What each FHIR server can do, as its CapabilityStatement (`GET [base]/metadata`) says: read once per
 * server, in the background on the first call that asks (that call reads key by key), kept for
 * `ttlMs`; a failed read, or a server that declared batch and then refused one, counts as "no batch"
 * for `retryMs`. One per app: servers are told apart by base URL.
 */
export class ServerCapabilities {
  readonly #known = new Map<string, { batch: boolean; until: number }>();
  readonly #reading = new Set<string>();
  readonly #ttlMs: number;
  readonly #retryMs: number;
  readonly #timeoutMs: number;

  constructor(options: { ttlMs?: number; retryMs?: number; timeoutMs?: number } = {}) {
    this.#ttlMs = options.ttlMs ?? 3_600_000;
    this.#retryMs = options.retryMs ?? 300_000;
    this.#timeoutMs = options.timeoutMs ?? 5000;
  }

  canBatch(baseUrl: string, headers: Record<string, string>): boolean {
    const known = this.#known.get(baseUrl);
    if (known && known.until > Date.now()) return known.batch;
    if (!this.#reading.has(baseUrl)) this.#read(baseUrl, headers);
    return known?.batch ?? false;
  }

  /** The server declared batch but did not answer one as a batch. */
  refused(baseUrl: string): void {
    this.#known.set(baseUrl, { batch: false, until: Date.now() + this.#retryMs });
  }

  #read(baseUrl: string, headers: Record<string, string>): void {
    if (this.#known.size >= maxServers) this.#known.delete(this.#known.keys().next().value as string);
    this.#reading.add(baseUrl);
    const budget = readBudget({ bytes: 1_048_576, entries: 0 });
    read(`${baseUrl}/metadata`, headers, AbortSignal.timeout(this.#timeoutMs), budget)
      .then(
        (json) => this.#known.set(baseUrl, { batch: declaresBatch(json), until: Date.now() + this.#ttlMs }),
        () => this.#known.set(baseUrl, { batch: false, until: Date.now() + this.#retryMs }),
      )
      .finally(() => this.#reading.delete(baseUrl));
  }
}

/** Statuses that say "no batch here", not "try again later". */
const REFUSING = new Set([400, 404, 405, 415, 422, 501]);

/** A read stopped by its signal: the deadline's timer (a TimeoutError), else the hook's caller leaving. */
function asReadFailure(error: unknown, signal: AbortSignal): FhirReadFailed {
  if (error instanceof FhirReadFailed) return error;
  if (!signal.aborted) return new FhirReadFailed({ kind: 'connection' });
  const timedOut = signal.reason instanceof DOMException && signal.reason.name === 'TimeoutError';
  return new FhirReadFailed({ kind: timedOut ? 'deadline' : 'abandoned' });
}

export function createFhirReader(
  baseUrl: string,
  accessToken?: string,
  capabilities?: ServerCapabilities,
): FhirReader {
  const normalised = baseUrl.replace(/\/+$/, '');
  const headers: Record<string, string> = {
    accept: 'application/fhir+json',
    ...(accessToken ? { authorization: `Bearer ${accessToken}` } : {}),
  };
  const reader: FhirReader = {
    baseUrl: normalised,
    async get(pathOrUrl, signal, budget) {
      const url = /^https?:\/\//i.test(pathOrUrl) ? pathOrUrl : `${normalised}/${pathOrUrl}`;
      try {
        return await read(url, headers, signal, budget);
      } catch (error) {
        throw asReadFailure(error, signal);
      }
    },
  };
  if (!capabilities) return reader;
  return {
    ...reader,
    canBatch: () => capabilities.canBatch(normalised, headers),
    async batch(paths, signal, budget) {
      const body = JSON.stringify({
        resourceType: 'Bundle',
        type: 'batch',
        entry: paths.map((url) => ({ request: { method: 'GET', url } })),
      });
      let json: unknown;
      try {
        json = await read(
          normalised,
          { ...headers, 'content-type': 'application/fhir+json' },
          signal,
          budget,
          { method: 'POST', body },
        );
      } catch (error) {
        const failure = asReadFailure(error, signal);
        if (failure.problem.kind === 'status' && REFUSING.has(failure.problem.status))
          capabilities.refused(normalised);
        throw failure;
      }
      const answers = batchAnswers(json, paths.length);
      if (answers) return answers;
      capabilities.refused(normalised);
      throw new FhirReadFailed({ kind: 'not-batch-response' });
    },
  };
}
