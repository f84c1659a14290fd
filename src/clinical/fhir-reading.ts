/**
 * Reading FHIR data that cannot be trusted: every reader takes `unknown` and returns a safe value, so a
 * null where an array belongs, a number where a string belongs or a missing field never throws.
 * Also the ledger where extraction records what it ignored and what it recognised from text only.
 */
import type { IgnoredData, IgnoredTopic, IgnoreReason, TextMatch } from './patient-facts.ts';

export type JsonObject = Readonly<Record<string, unknown>>;

export interface SafeCoding {
  system?: string;
  code?: string;
  display?: string;
}

export function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function field(value: unknown, name: string): unknown {
  return isObject(value) ? value[name] : undefined;
}

export function text(value: unknown): string | undefined {
  return typeof value === 'string' && value.trim() !== '' ? value : undefined;
}

export function listOf(value: unknown): readonly unknown[] {
  return Array.isArray(value) ? value : [];
}

export function codings(concept: unknown): readonly SafeCoding[] {
  return listOf(field(concept, 'coding'))
    .filter(isObject)
    .map((coding) => ({
      system: text(coding.system)?.trim(),
      code: text(coding.code)?.trim(),
      display: text(coding.display),
    }));
}

/** The codes of a CodeableConcept, of one system when given: `codesIn(resource.code, SYSTEMS.loinc)`. */
export function codesIn(concept: unknown, system?: string): string[] {
  return codings(concept).flatMap((coding) =>
    coding.code !== undefined && (system === undefined || coding.system === system) ? [coding.code] : [],
  );
}

/** The human-readable words of a CodeableConcept: its text and every coding display. */
export function conceptTexts(concept: unknown): readonly string[] {
  const words = [text(field(concept, 'text')), ...codings(concept).map((coding) => coding.display)];
  return words.filter((word): word is string => word !== undefined);
}

/** Texts of a list of Annotations (`note`). */
export function noteTexts(notes: unknown): readonly string[] {
  return listOf(notes)
    .map((note) => text(field(note, 'text')))
    .filter((word): word is string => word !== undefined);
}

/** What extraction ignored and what it recognised from text alone. Never holds identifiers or values. */
export interface Ledger {
  readonly ignored: IgnoredData[];
  readonly textMatches: TextMatch[];
}

export function newLedger(): Ledger {
  return { ignored: [], textMatches: [] };
}

export function ignore(
  ledger: Ledger,
  resourceType: string,
  reason: IgnoreReason,
  about: { topic?: IgnoredTopic; status?: string } = {},
): void {
  ledger.ignored.push({
    resourceType,
    reason,
    ...(about.topic ? { topic: about.topic } : {}),
    ...(about.status ? { status: about.status } : {}),
  });
}

export function recordTextMatch(ledger: Ledger, resourceType: string, concept: TextMatch['concept']): void {
  const key = JSON.stringify(concept);
  if (!ledger.textMatches.some((m) => m.resourceType === resourceType && JSON.stringify(m.concept) === key)) {
    ledger.textMatches.push({ resourceType, concept });
  }
}

/** Statuses that mean a draft order is not being ordered after all. */
const NOT_AN_ORDER_STATUSES = ['entered-in-error', 'revoked', 'cancelled', 'not-done'];

/**
 * The orders being signed that are orders: each draft that is entered in error, revoked, cancelled or
 * not done is recorded once here, and the readers of drafts see only the others.
 */
export function usableDraftOrders(list: unknown, ledger: Ledger): JsonObject[] {
  const usable: JsonObject[] = [];
  for (const entry of listOf(list)) {
    const type = text(field(entry, 'resourceType'));
    if (!isObject(entry) || type === undefined) continue;
    const status = text(entry.status);
    if (status && NOT_AN_ORDER_STATUSES.includes(status)) ignore(ledger, type, 'status', { status });
    else usable.push(entry);
  }
  return usable;
}

/**
 * Visit each entry of a list that is a resource of one of the given types. Entries that are not
 * resources, or (unless `otherTypes` is 'skip') resources of another type, are recorded as ignored; an
 * entry whose reading throws is recorded as unreadable.
 */
export function eachResource(
  list: unknown,
  resourceType: string | readonly string[],
  ledger: Ledger,
  visit: (resource: JsonObject, resourceType: string) => void,
  otherTypes: 'record' | 'skip' = 'record',
): void {
  const types: readonly string[] = typeof resourceType === 'string' ? [resourceType] : resourceType;
  for (const entry of listOf(list)) {
    const type = text(field(entry, 'resourceType'));
    if (!isObject(entry) || type === undefined) {
      ignore(ledger, 'unknown', 'not-a-resource');
      continue;
    }
    if (!types.includes(type)) {
      if (otherTypes === 'record') ignore(ledger, type, 'unexpected-type');
      continue;
    }
    try {
      visit(entry, type);
    } catch {
      ignore(ledger, type, 'unreadable');
    }
  }
}
