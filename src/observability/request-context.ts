/**
 * The request a piece of work belongs to, without passing it down: every log line written while a
 * request is handled carries its id, however deep the code that writes it.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { randomUUID } from 'node:crypto';

const current = new AsyncLocalStorage<string>();

/** An EHR's or a proxy's own id is kept when it is short and plain; anything else is replaced. */
const acceptableId = /^[\w.:-]{1,128}$/;

/** The caller's `X-Request-Id` when acceptable, else a new one. */
export function requestIdFrom(header: string | undefined): string {
  return header !== undefined && acceptableId.test(header) ? header : randomUUID();
}

export function runWithRequestId<T>(requestId: string, work: () => T): T {
  return current.run(requestId, work);
}

export function currentRequestId(): string | undefined {
  return current.getStore();
}
