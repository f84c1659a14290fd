/**
 * Reads from an EHR's FHIR server with the request's bearer token, under the request's deadline and
 * within a budget of bytes and Bundle entries that the caller shares across the pages of one prefetch
 * key. The body is counted while it arrives and the read stops at the budget: a 50 MB searchset is
 * never buffered. Redirects are not followed (a trusted server must not send us, or our token's
 * answer, elsewhere). Failures are reduced to a problem; the URL, and with it the patient id, never
 * leaves this module.
 */
import { EntryCounter } from './entry-counter.ts';

export type ReadProblem =
  | { kind: 'status'; status: number }
  | { kind: 'redirect'; status: number }
  | { kind: 'not-json' }
  | { kind: 'invalid-json' }
  | { kind: 'too-many-entries'; limit: number }
  | { kind: 'too-many-bytes'; limit: number }
  | { kind: 'connection' }
  | { kind: 'deadline' };

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

export interface FhirReader {
  /** The server's base URL, normalised without a trailing slash. */
  readonly baseUrl: string;
  /** GET a path relative to the base (`Patient/1`, `Observation?patient=1`) or an absolute URL on it. */
  get(pathOrUrl: string, signal: AbortSignal, budget: ReadBudget): Promise<unknown>;
}

const JSON_TYPE = /^application\/(?:fhir\+json|json|json\+fhir|[\w.-]+\+json)\s*(?:;|$)/i;

function overBudget(budget: ReadBudget, kind: 'bytes' | 'entries'): FhirReadFailed {
  return new FhirReadFailed(
    kind === 'bytes'
      ? { kind: 'too-many-bytes', limit: budget.limits.bytes }
      : { kind: 'too-many-entries', limit: budget.limits.entries },
  );
}

/** The body, read chunk by chunk until the budget says stop. */
async function readBody(body: ReadableStream<Uint8Array>, budget: ReadBudget): Promise<Buffer> {
  const reader = body.getReader();
  const counter = new EntryCounter();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    const exceeded = size > budget.bytes ? 'bytes' : counter.push(value) > budget.entries ? 'entries' : null;
    if (exceeded) {
      await reader.cancel().catch(() => undefined);
      throw overBudget(budget, exceeded);
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks, size);
}

function entriesOf(json: unknown): number {
  if (typeof json !== 'object' || json === null) return 0;
  const entry = (json as { entry?: unknown }).entry;
  return Array.isArray(entry) ? entry.length : 0;
}

async function read(url: string, headers: Record<string, string>, signal: AbortSignal, budget: ReadBudget) {
  const response = await fetch(url, { headers, redirect: 'manual', signal });
  const refuse = async (problem: ReadProblem): Promise<never> => {
    await response.body?.cancel().catch(() => undefined);
    throw new FhirReadFailed(problem);
  };
  if (response.status >= 300 && response.status < 400)
    return refuse({ kind: 'redirect', status: response.status });
  if (response.status !== 200) return refuse({ kind: 'status', status: response.status });
  if (!JSON_TYPE.test(response.headers.get('content-type') ?? '')) return refuse({ kind: 'not-json' });
  const declared = Number(response.headers.get('content-length') ?? Number.NaN);
  if (declared > budget.bytes) return refuse({ kind: 'too-many-bytes', limit: budget.limits.bytes });
  const body = response.body ? await readBody(response.body, budget) : Buffer.alloc(0);
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

export function createFhirReader(baseUrl: string, accessToken?: string): FhirReader {
  const normalised = baseUrl.replace(/\/+$/, '');
  const headers: Record<string, string> = {
    accept: 'application/fhir+json',
    ...(accessToken ? { authorization: `Bearer ${accessToken}` } : {}),
  };
  return {
    baseUrl: normalised,
    async get(pathOrUrl, signal, budget) {
      const url = /^https?:\/\//i.test(pathOrUrl) ? pathOrUrl : `${normalised}/${pathOrUrl}`;
      try {
        return await read(url, headers, signal, budget);
      } catch (error) {
        if (error instanceof FhirReadFailed) throw error;
        throw new FhirReadFailed(signal.aborted ? { kind: 'deadline' } : { kind: 'connection' });
      }
    },
  };
}
