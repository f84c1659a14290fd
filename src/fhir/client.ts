/**
 * Reads from an EHR's FHIR server with the request's bearer token, under the request's deadline.
 * Errors are reduced to a status: fhir-kit-client's own messages carry the URL, and with it the
 * patient id, so they never leave this module.
 */
import { Client } from 'fhir-kit-client';

/** Carries the HTTP status only; whether the deadline passed is the caller's signal to read. */
export class FhirReadFailed extends Error {
  constructor(status: number | undefined) {
    super(`FHIR read failed${status ? ` with HTTP ${status}` : ''}`);
    this.name = 'FhirReadFailed';
  }
}

export interface FhirReader {
  /** The server's base URL, normalised without a trailing slash. */
  readonly baseUrl: string;
  /** GET a path relative to the base (`Patient/1`, `Observation?patient=1`) or an absolute URL on it. */
  get(pathOrUrl: string, signal: AbortSignal): Promise<unknown>;
}

function statusOf(error: unknown): number | undefined {
  if (typeof error !== 'object' || error === null || !('response' in error)) return undefined;
  const response = (error as { response?: { status?: unknown } }).response;
  return typeof response?.status === 'number' ? response.status : undefined;
}

export function createFhirReader(baseUrl: string, accessToken?: string): FhirReader {
  const normalised = baseUrl.replace(/\/+$/, '');
  const client = new Client({
    baseUrl: normalised,
    customHeaders: { accept: 'application/fhir+json' },
    ...(accessToken ? { bearerToken: accessToken } : {}),
  });
  return {
    baseUrl: normalised,
    async get(pathOrUrl, signal) {
      try {
        return await client.request(pathOrUrl, { options: { signal } });
      } catch (error) {
        throw new FhirReadFailed(statusOf(error));
      }
    },
  };
}
