/**
 * What a CDS service is, to the protocol layer: a discovery definition with its prefetch templates,
 * a context schema, and a handler from resolved data to cards. The protocol layer does the rest.
 */
import type { Resource } from 'fhir/r4';
import type { z } from 'zod';
import type { Locale } from '../config.ts';
import type { PrefetchTemplates } from './prefetch.ts';
import type { Card, ServiceDefinition } from './schemas.ts';

export interface HookInput<Context> {
  context: Context;
  /** Resources per prefetch key, from the request or the FHIR server. */
  data: Record<string, Resource[]>;
  /** Optional prefetch keys that could not be obtained. */
  unavailable: string[];
  /** Resources and draft orders naming another patient, dropped before `data` and `context` were built. */
  foreignRecords: number;
  /** Entries left out because they were not resources of the types their prefetch key holds. */
  misfiledRecords: number;
  locale: Locale;
  now: Date;
  /** The clinic's time zone: "today", ages and windows are on its calendar. */
  timeZone: string;
  /** Public base URL of this service, for links in cards. */
  baseUrl: string;
}

export interface CdsService<Context = unknown> {
  definition: ServiceDefinition & { prefetch: PrefetchTemplates };
  /** Prefetch keys without which the service cannot answer (412 when they cannot be had). */
  requiredPrefetch: readonly string[];
  /** The resource types each prefetch key holds: anything else in it is left out and counted. */
  prefetchResourceTypes: Readonly<Record<string, readonly string[]>>;
  contextSchema: z.ZodType<Context>;
  handle(input: HookInput<Context>): Card[];
}

/** What every hook context carries; the service's own schema says the rest. */
export interface BaseContext {
  patientId: string;
  userId: string;
  encounterId?: string | undefined;
}

/**
 * Erases a service's context type so services can sit in one list. Sound because the protocol layer
 * parses the context with the service's own `contextSchema` before calling its `handle`.
 */
export function defineService<Context extends BaseContext>(
  service: CdsService<Context>,
): CdsService<BaseContext> {
  return service as unknown as CdsService<BaseContext>;
}
