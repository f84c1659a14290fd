/**
 * Reading FHIR data that cannot be trusted: every reader takes `unknown` and returns a safe value, so a
 * null where an array belongs, a number where a string belongs or a missing field never throws.
 * Also the ledger where extraction records what it ignored and what it recognised from text only.
 */
import type { IgnoredData, TextMatch } from './patient-facts.ts';

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

export function codings(concept: unknown): SafeCoding[] {
  return listOf(field(concept, 'coding'))
    .filter(isObject)
    .map((coding) => ({
      system: text(coding.system)?.trim(),
      code: text(coding.code)?.trim(),
      display: text(coding.display),
    }));
}

/** The human-readable words of a CodeableConcept: its text and every coding display. */
export function conceptTexts(concept: unknown): string[] {
  const words = [text(field(concept, 'text')), ...codings(concept).map((coding) => coding.display)];
  return words.filter((word): word is string => word !== undefined);
}

/** Texts of a list of Annotations (`note`). */
export function noteTexts(notes: unknown): string[] {
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

export function ignore(ledger: Ledger, resourceType: string, reason: string): void {
  ledger.ignored.push({ resourceType, reason });
}

export function recordTextMatch(ledger: Ledger, resourceType: string, concept: string): void {
  if (!ledger.textMatches.some((m) => m.resourceType === resourceType && m.concept === concept)) {
    ledger.textMatches.push({ resourceType, concept });
  }
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
      ignore(ledger, 'unknown', 'not a FHIR resource');
      continue;
    }
    if (!types.includes(type)) {
      if (otherTypes === 'record') ignore(ledger, type, `expected ${types.join(' or ')}`);
      continue;
    }
    try {
      visit(entry, type);
    } catch {
      ignore(ledger, type, 'unreadable resource');
    }
  }
}
