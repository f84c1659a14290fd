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

/**
 * Shared by every value that is not a list: readers only read it (the type forbids writing), and a chart
 * has many such values. Not frozen: a `for…of` over a frozen array took V8's generic iteration, which
 * allocated for every resource without a `note` or a `bodySite` (about a fifth of what extraction
 * allocated for the heavy patient).
 */
const NONE: readonly never[] = [];

export function listOf(value: unknown): readonly unknown[] {
  return Array.isArray(value) ? value : NONE;
}

/** One coding as read: system and code trimmed, each word undefined when blank or not a string. */
function safeCoding(coding: JsonObject): SafeCoding {
  return {
    system: text(coding.system)?.trim(),
    code: text(coding.code)?.trim(),
    display: text(coding.display),
  };
}

// The readers below run for every resource of a chart, some several times: they loop once over the codings
// where filter, map and flatMap chains allocated an array per step, and flatMap alone cost more than the
// reading. The *Concepts variants stand for flatMap over several concepts, for the same reason.

export function codings(concept: unknown): readonly SafeCoding[] {
  const list = field(concept, 'coding');
  if (!Array.isArray(list)) return NONE;
  const read: SafeCoding[] = [];
  for (const coding of list) if (isObject(coding)) read.push(safeCoding(coding));
  return read;
}

function addCodes(concept: unknown, system: string | undefined, codes: string[]): void {
  const list = field(concept, 'coding');
  if (!Array.isArray(list)) return;
  for (const coding of list) {
    if (!isObject(coding)) continue;
    const code = text(coding.code)?.trim();
    if (code === undefined) continue;
    if (system === undefined || text(coding.system)?.trim() === system) codes.push(code);
  }
}

/** The codes of a CodeableConcept, of one system when given: `codesIn(resource.code, SYSTEMS.loinc)`. */
export function codesIn(concept: unknown, system?: string): string[] {
  const codes: string[] = [];
  addCodes(concept, system, codes);
  return codes;
}

/** The codes of several CodeableConcepts in turn, of one system when given. */
export function codesInConcepts(concepts: readonly unknown[], system?: string): string[] {
  const codes: string[] = [];
  for (const concept of concepts) addCodes(concept, system, codes);
  return codes;
}

function addTexts(concept: unknown, words: string[]): void {
  const own = text(field(concept, 'text'));
  if (own !== undefined) words.push(own);
  const list = field(concept, 'coding');
  if (!Array.isArray(list)) return;
  for (const coding of list) {
    const display = isObject(coding) ? text(coding.display) : undefined;
    if (display !== undefined) words.push(display);
  }
}

/** The human-readable words of a CodeableConcept: its text and every coding display. */
export function conceptTexts(concept: unknown): readonly string[] {
  const words: string[] = [];
  addTexts(concept, words);
  return words;
}

/** The words of several CodeableConcepts in turn (body sites, say): `conceptTexts` of each. */
export function textsOfConcepts(concepts: readonly unknown[]): string[] {
  const words: string[] = [];
  for (const concept of concepts) addTexts(concept, words);
  return words;
}

/** Texts of a list of Annotations (`note`). */
export function noteTexts(notes: unknown): readonly string[] {
  const texts: string[] = [];
  for (const note of listOf(notes)) {
    const written = text(field(note, 'text'));
    if (written !== undefined) texts.push(written);
  }
  return texts;
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
