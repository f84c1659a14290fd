/**
 * Only the patient in context (CDS-HOOKS.md): prefetch and FHIR answers are data from outside. A
 * resource whose `subject` or `patient` names anyone but `Patient/<context.patientId>`, or a Patient
 * with another id, is dropped here, before any clinical code sees it, and counted per prefetch key so
 * the caller can log it (key names and counts, never ids). A FHIR server that ignores a search's
 * filters, or an EHR that mixes charts into prefetch, must never put another patient's data on a card.
 *
 * A reference is compared by its last `Type/id` (relative, absolute and versioned forms alike). A
 * subject that cannot be confirmed to be this patient (another id, a Group, a `urn:uuid:`, an
 * identifier or display only) is dropped too. Resources that name no patient at all (Medication) stay.
 */
import type { Resource } from 'fhir/r4';
import { isObject } from '../fhir/client.ts';

/** The id a reference string points to when it points to a Patient: `Patient/1`, `https://x/fhir/Patient/1/_history/2`. */
export function referencedPatientId(reference: string): string | undefined {
  const path = reference.trim().replace(/\/_history\/[^/]*$/, '');
  const match = /(?:^|\/)Patient\/([A-Za-z0-9\-.]{1,64})$/.exec(path);
  return match?.[1];
}

/** Whether a reference string points to the patient: `Patient/<id>` exactly (most do) without a pattern. */
function pointsTo(reference: string, patientId: string): boolean {
  if (
    reference.length === patientId.length + 8 &&
    reference.startsWith('Patient/') &&
    reference.endsWith(patientId)
  )
    return true;
  return referencedPatientId(reference) === patientId;
}

/** Whether a resource belongs to the patient: names that patient, or names no patient at all. */
export function belongsTo(resource: unknown, patientId: string): boolean {
  if (!isObject(resource)) return true;
  if (resource.resourceType === 'Patient') return resource.id === undefined || resource.id === patientId;
  for (const name of ['subject', 'patient']) {
    const named = resource[name];
    if (named === undefined || named === null) continue;
    const reference = isObject(named) ? named.reference : undefined;
    if (typeof reference !== 'string' || !pointsTo(reference, patientId)) return false;
  }
  return true;
}

export interface ScopedData {
  data: Record<string, Resource[]>;
  /** Resources dropped per prefetch key because they name another patient; keys with none are absent. */
  foreign: Record<string, number>;
}

export function onlyPatient(data: Record<string, Resource[]>, patientId: string): ScopedData {
  const scoped: ScopedData = { data: {}, foreign: {} };
  for (const [key, resources] of Object.entries(data)) {
    const own = resources.filter((resource) => belongsTo(resource, patientId));
    scoped.data[key] = own;
    if (own.length < resources.length) scoped.foreign[key] = resources.length - own.length;
  }
  return scoped;
}

/** The draft orders of a context (order-sign, order-select) without those for another patient. */
export function ownDraftOrders<Context extends object>(
  context: Context,
  patientId: string,
): { context: Context; foreign: number } {
  const drafts = (context as { draftOrders?: unknown }).draftOrders;
  const entries = isObject(drafts) && Array.isArray(drafts.entry) ? drafts.entry : undefined;
  if (!isObject(drafts) || !entries) return { context, foreign: 0 };
  const own = entries.filter((entry: unknown) =>
    belongsTo(isObject(entry) ? entry.resource : undefined, patientId),
  );
  if (own.length === entries.length) return { context, foreign: 0 };
  return {
    context: { ...context, draftOrders: { ...drafts, entry: own } },
    foreign: entries.length - own.length,
  };
}
