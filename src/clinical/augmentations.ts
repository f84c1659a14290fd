/**
 * Vertebral augmentation (PVP/PKP): past Procedures, and the one being ordered in a draft ServiceRequest
 * or Procedure. Recognised by CPT, else by the procedure's text (no verified SNOMED CT id exists).
 */
import {
  AUGMENTATION_CPT,
  AUGMENTATION_TEXT,
  BILATERAL_TEXT,
  SYSTEMS,
  UNILATERAL_TEXT,
} from '../fhir/terminology.ts';
import { isInFuture, latestFirst, parseClinicalDate } from './clinical-dates.ts';
import { affirms } from './clinical-text.ts';
import {
  codings,
  conceptTexts,
  eachResource,
  field,
  ignore,
  type JsonObject,
  type Ledger,
  listOf,
  noteTexts,
  recordTextMatch,
  text,
} from './fhir-reading.ts';
import type { Augmentation } from './patient-facts.ts';
import { inSpineOrder, levelsInBodySites, levelsInTexts } from './vertebral-levels.ts';

/** An augmentation with the words of its resource, read for the approach (unilateral or bilateral). */
export interface AugmentationRecord {
  augmentation: Augmentation;
  texts: string[];
}

const COUNTED_PROCEDURE_STATUSES = ['completed', 'in-progress'];
const NOT_AN_ORDER_STATUSES = ['entered-in-error', 'revoked', 'cancelled', 'not-done'];

/** Recognise PVP/PKP in a Procedure or ServiceRequest; undefined when it is neither. */
function recogniseAugmentation(resource: JsonObject, ledger: Ledger): AugmentationRecord | undefined {
  const resourceType = text(resource.resourceType) ?? 'unknown';
  const codeTexts = conceptTexts(resource.code);
  const bodySiteTexts = listOf(resource.bodySite).flatMap(conceptTexts);
  const notes = noteTexts(resource.note);
  const texts = [...codeTexts, ...bodySiteTexts, ...notes];
  const cptKind = codings(resource.code)
    .filter((coding) => coding.system === SYSTEMS.cpt && coding.code !== undefined)
    .map((coding) => AUGMENTATION_CPT[coding.code as string])
    .find((kind) => kind !== undefined);
  const textKind = cptKind
    ? undefined
    : AUGMENTATION_TEXT.find(({ pattern }) => affirms(codeTexts, pattern))?.kind;
  const kind = cptKind ?? textKind;
  if (kind === undefined) return undefined;
  if (textKind) recordTextMatch(ledger, resourceType, `augmentation:${textKind}`);
  const levels = inSpineOrder([
    ...levelsInBodySites(resource.bodySite),
    ...levelsInTexts([...codeTexts, ...notes]),
  ]);
  const date =
    parseClinicalDate(resource.performedDateTime) ??
    parseClinicalDate(field(resource.performedPeriod, 'start'));
  return {
    augmentation: { kind, ...(date ? { date } : {}), levels, matchedBy: cptKind ? 'cpt' : 'text' },
    texts,
  };
}

/**
 * Past augmentations: Procedures completed or in progress (or with no status). The same procedure
 * recorded twice (same code, date and levels) counts once.
 */
export function readAugmentations(procedures: unknown, asOf: string, ledger: Ledger): AugmentationRecord[] {
  const records: AugmentationRecord[] = [];
  const seen = new Set<string>();
  eachResource(procedures, 'Procedure', ledger, (resource) => {
    const status = text(resource.status);
    if (status === 'entered-in-error' || status === 'not-done')
      return ignore(ledger, 'Procedure', `status ${status}`);
    const record = recogniseAugmentation(resource, ledger);
    if (!record) return;
    if (status !== undefined && !COUNTED_PROCEDURE_STATUSES.includes(status)) {
      return ignore(ledger, 'Procedure', `augmentation: status ${status}`);
    }
    const { date, levels, kind } = record.augmentation;
    if (date && isInFuture(date, asOf)) return ignore(ledger, 'Procedure', 'dated in the future');
    const code = codings(resource.code).find((coding) => coding.system === SYSTEMS.cpt)?.code ?? 'text';
    const key = [kind, code, date, levels.join()].join('|');
    if (seen.has(key)) return ignore(ledger, 'Procedure', 'augmentation: duplicate');
    seen.add(key);
    records.push(record);
  });
  return records;
}

/** The augmentation being ordered: draft ServiceRequests and Procedures; several merge into one with all levels. */
export function readDraftAugmentation(draftOrders: unknown, ledger: Ledger): Augmentation | undefined {
  const found: Augmentation[] = [];
  eachResource(
    draftOrders,
    ['ServiceRequest', 'Procedure'],
    ledger,
    (resource, resourceType) => {
      const status = text(resource.status);
      if (status && NOT_AN_ORDER_STATUSES.includes(status))
        return ignore(ledger, resourceType, `status ${status}`);
      const record = recogniseAugmentation(resource, ledger);
      if (record) found.push(record.augmentation);
    },
    'skip',
  );
  const [first] = found;
  if (!first) return undefined;
  return {
    kind: first.kind,
    levels: inSpineOrder(found.flatMap((a) => a.levels)),
    matchedBy: first.matchedBy,
  };
}

/** The approach of the latest augmentation: unilateral true, bilateral false, else (or both named) undefined. */
export function unilateralApproach(records: readonly AugmentationRecord[]): boolean | undefined {
  const latest = latestFirst(records, (r) => r.augmentation.date)[0];
  if (!latest) return undefined;
  const unilateral = affirms(latest.texts, UNILATERAL_TEXT);
  const bilateral = affirms(latest.texts, BILATERAL_TEXT);
  return unilateral === bilateral ? undefined : unilateral;
}
