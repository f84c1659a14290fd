/**
 * A FhirReader that reports each read: its resource type (from the path, before any id or query, and
 * only when it is one the caller reads: a paging link may carry anything), its duration, and its
 * problem when it failed. What is reported names no patient.
 */
import { type FhirReader, FhirReadFailed } from './client.ts';

export interface FhirRead {
  resourceType: string;
  ms: number;
  /** The failure's kind (`status`, `deadline`, …); absent when the read succeeded. */
  problem?: string;
}

function resourceTypeOf(pathOrUrl: string, baseUrl: string, known: ReadonlySet<string>): string {
  const path = pathOrUrl.startsWith(baseUrl) ? pathOrUrl.slice(baseUrl.length).replace(/^\//, '') : pathOrUrl;
  const type = /^[A-Z][A-Za-z]+/.exec(path)?.[0];
  return type !== undefined && known.has(type) ? type : 'other';
}

async function timed<T>(resourceType: string, onRead: (read: FhirRead) => void, run: () => Promise<T>) {
  const started = performance.now();
  try {
    const value = await run();
    onRead({ resourceType, ms: performance.now() - started });
    return value;
  } catch (error) {
    const problem = error instanceof FhirReadFailed ? error.problem.kind : 'error';
    onRead({ resourceType, ms: performance.now() - started, problem });
    throw error;
  }
}

/** A batch is reported as one read of resource type `batch`. */
export function timedReader(
  reader: FhirReader,
  resourceTypes: ReadonlySet<string>,
  onRead: (read: FhirRead) => void,
): FhirReader {
  const { batch, canBatch } = reader;
  return {
    baseUrl: reader.baseUrl,
    get: (pathOrUrl, signal, budget) =>
      timed(resourceTypeOf(pathOrUrl, reader.baseUrl, resourceTypes), onRead, () =>
        reader.get(pathOrUrl, signal, budget),
      ),
    ...(batch && canBatch
      ? {
          canBatch,
          batch: (paths, signal, budget) => timed('batch', onRead, () => batch(paths, signal, budget)),
        }
      : {}),
  };
}
