/**
 * Vertebral augmentation (PVP/PKP): past Procedures, and the one being ordered in a draft ServiceRequest
 * or Procedure. Recognised by CPT or ICD-10-PCS, else by the procedure's text (no verified SNOMED CT id
 * exists). A CPT add-on line ("each additional level") is one more level even without a body site. Also
 * the spine MRI or CT being ordered (the work-up before augmentation), and augmentation again at a level
 * already cemented (the case report's situation).
 */
import { type ClinicalDay, isInFuture, latestFirst } from './clinical-dates.ts';
import { affirms } from './clinical-text.ts';
import type { VertebralFracture } from './conditions.ts';
import {
  codesIn,
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
  textsOfConcepts,
} from './fhir-reading.ts';
import type {
  Augmentation,
  AugmentationKind,
  RepeatAugmentation,
  SpineImaging,
  VertebralLevel,
} from './patient-facts.ts';
import { SYSTEMS } from './terminology/code-systems.ts';
import {
  AUGMENTATION_ADD_ON_CPT,
  AUGMENTATION_CPT,
  AUGMENTATION_ICD10PCS,
  SPINE_IMAGING_CPT,
} from './terminology/procedure-codes.ts';
import {
  AUGMENTATION_TEXT,
  BILATERAL_TEXT,
  SPINE_IMAGING_TEXT,
  UNILATERAL_TEXT,
} from './terminology/text-patterns.ts';
import { inSpineOrder, levelsInBodySites, levelsInTexts } from './vertebral-levels.ts';

/** An augmentation with the words of its resource, read for the approach (unilateral or bilateral). */
export interface AugmentationRecord {
  augmentation: Augmentation;
  texts: string[];
}

const COUNTED_PROCEDURE_STATUSES = ['completed', 'in-progress'];

/** The resource's codes of one system, in upper case (ICD-10-PCS codes are written either way). */
function codesOf(resource: JsonObject, system: string): string[] {
  return codesIn(resource.code, system).map((code) => code.toUpperCase());
}

/** Recognise PVP/PKP in a Procedure or ServiceRequest; undefined when it is neither. */
function recogniseAugmentation(
  resource: JsonObject,
  day: ClinicalDay,
  ledger: Ledger,
): AugmentationRecord | undefined {
  const resourceType = text(resource.resourceType) ?? 'unknown';
  const codeTexts = conceptTexts(resource.code);
  const notes = noteTexts(resource.note);
  const texts = [...codeTexts, ...textsOfConcepts(listOf(resource.bodySite)), ...notes];
  const cpt = codesOf(resource, SYSTEMS.cpt).filter((code) => AUGMENTATION_CPT[code] !== undefined);
  const pcs = codesOf(resource, SYSTEMS.icd10pcs).filter((code) => AUGMENTATION_ICD10PCS[code] !== undefined);
  const textKind = AUGMENTATION_TEXT.find(({ pattern }) => affirms(codeTexts, pattern))?.kind;
  const cptKind = cpt.map((code) => AUGMENTATION_CPT[code]).find((kind) => kind !== undefined);
  const matchedBy = cptKind ? 'cpt' : pcs.length > 0 ? 'icd10pcs' : textKind ? 'text' : undefined;
  if (matchedBy === undefined) return undefined;
  // ICD-10-PCS does not tell kyphoplasty from vertebroplasty: the text may, else vertebroplasty.
  const kind: AugmentationKind = cptKind ?? textKind ?? 'vertebroplasty';
  if (matchedBy === 'text')
    recordTextMatch(ledger, resourceType, { kind: 'augmentation', augmentation: kind });
  const levels = inSpineOrder([
    ...levelsInBodySites(resource.bodySite),
    ...levelsInTexts([...codeTexts, ...notes]),
  ]);
  const addOn = cpt.length > 0 && cpt.every((code) => AUGMENTATION_ADD_ON_CPT.includes(code));
  const date = day.dateOf(resource.performedDateTime) ?? day.dateOf(field(resource.performedPeriod, 'start'));
  return {
    augmentation: {
      kind,
      ...(date ? { date } : {}),
      levels,
      additionalLevels: addOn && levels.length === 0 ? 1 : 0,
      matchedBy,
    },
    texts,
  };
}

/**
 * Past augmentations: Procedures completed or in progress (or with no status). The same procedure
 * recorded twice (same code, date and levels) counts once; add-on lines without a body site are told
 * apart by their ids, since two of them on one day are two more levels.
 */
export function readAugmentations(
  procedures: unknown,
  day: ClinicalDay,
  ledger: Ledger,
): AugmentationRecord[] {
  const records: AugmentationRecord[] = [];
  const seen = new Set<string>();
  eachResource(procedures, 'Procedure', ledger, (resource) => {
    const status = text(resource.status);
    if (status === 'entered-in-error' || status === 'not-done') {
      return ignore(ledger, 'Procedure', 'status', { status });
    }
    const record = recogniseAugmentation(resource, day, ledger);
    if (!record) return;
    if (status !== undefined && !COUNTED_PROCEDURE_STATUSES.includes(status)) {
      return ignore(ledger, 'Procedure', 'status', { topic: 'augmentation', status });
    }
    const { date, levels, kind } = record.augmentation;
    if (date && isInFuture(date, day.today)) return ignore(ledger, 'Procedure', 'future-date');
    const code = codings(resource.code).find(
      (c) => c.system === SYSTEMS.cpt || c.system === SYSTEMS.icd10pcs,
    )?.code;
    const key =
      record.augmentation.additionalLevels > 0
        ? `add-on|${text(resource.id) ?? records.length}`
        : [kind, code ?? 'text', date, levels.join()].join('|');
    if (seen.has(key)) return ignore(ledger, 'Procedure', 'duplicate', { topic: 'augmentation' });
    seen.add(key);
    records.push(record);
  });
  return records;
}

/**
 * The augmentation being ordered: draft ServiceRequests and Procedures; several lines merge into one
 * with all their levels, an add-on line without a body site counting as one more level.
 */
export function readDraftAugmentation(
  draftOrders: readonly JsonObject[],
  day: ClinicalDay,
  ledger: Ledger,
): Augmentation | undefined {
  const found: Augmentation[] = [];
  eachResource(
    draftOrders,
    ['ServiceRequest', 'Procedure'],
    ledger,
    (resource) => {
      const record = recogniseAugmentation(resource, day, ledger);
      if (record) found.push(record.augmentation);
    },
    'skip',
  );
  const primary = found.find((a) => a.additionalLevels === 0) ?? found[0];
  if (!primary) return undefined;
  return {
    kind: primary.kind,
    levels: inSpineOrder(found.flatMap((a) => a.levels)),
    additionalLevels: found.reduce((sum, a) => sum + a.additionalLevels, 0),
    matchedBy: primary.matchedBy,
  };
}

/** A spine MRI or CT among the orders being signed: by CPT, else by its text. */
export function readDraftSpineImaging(
  draftOrders: readonly JsonObject[],
  ledger: Ledger,
): SpineImaging | undefined {
  let found: SpineImaging | undefined;
  eachResource(
    draftOrders,
    'ServiceRequest',
    ledger,
    (resource) => {
      if (found) return;
      const coded = codesOf(resource, SYSTEMS.cpt)
        .map((code) => SPINE_IMAGING_CPT[code])
        .find((modality) => modality !== undefined);
      if (coded) {
        found = { modality: coded };
        return;
      }
      const words = conceptTexts(resource.code).join('\n');
      const byText = SPINE_IMAGING_TEXT.exec(words);
      if (!byText) return;
      recordTextMatch(ledger, 'ServiceRequest', { kind: 'spine-imaging' });
      found = { modality: /\bCT\b/i.test(byText[0]) ? 'CT' : 'MRI' };
    },
    'skip',
  );
  return found;
}

/** The approach of the latest augmentation: unilateral true, bilateral false, else (or both named) undefined. */
export function unilateralApproach(records: readonly AugmentationRecord[]): boolean | undefined {
  const latest = latestFirst(records, (r) => r.augmentation.date)[0];
  if (!latest) return undefined;
  const unilateral = affirms(latest.texts, UNILATERAL_TEXT);
  const bilateral = affirms(latest.texts, BILATERAL_TEXT);
  return unilateral === bilateral ? undefined : unilateral;
}

/**
 * Augmentation again at a cemented level (the case report, seed 003): a PVP/PKP being ordered at a level
 * already augmented, or a non-traumatic vertebral fracture recorded at an augmented level after its
 * augmentation. Undated fractures or augmentations cannot show "after", so they do not count as new.
 */
export function repeatAugmentation(
  augmentations: readonly Augmentation[],
  fractures: readonly VertebralFracture[],
  draft: Augmentation | undefined,
): RepeatAugmentation | undefined {
  const augmentedAt = (level: VertebralLevel) =>
    latestFirst(
      augmentations.filter((a) => a.levels.includes(level)),
      (a) => a.date,
    )[0];
  const lastAugmentedOn = (levels: VertebralLevel[]) =>
    latestFirst(
      levels.flatMap((level) => augmentedAt(level) ?? []),
      (a) => a.date,
    )[0]?.date;
  const again = (draft?.levels ?? []).filter((level) => augmentedAt(level) !== undefined);
  if (again.length > 0) {
    const augmentedOn = lastAugmentedOn(again);
    return { reason: 'ordered-again', levels: again, ...(augmentedOn ? { augmentedOn } : {}) };
  }
  const refractured = inSpineOrder(
    fractures.flatMap((fracture) =>
      fracture.traumatic || fracture.date === undefined
        ? []
        : fracture.levels.filter((level) => {
            const cemented = augmentedAt(level)?.date;
            return cemented !== undefined && (fracture.date ?? '') > cemented;
          }),
    ),
  );
  if (refractured.length === 0) return undefined;
  const augmentedOn = lastAugmentedOn(refractured);
  return { reason: 'new-fracture', levels: refractured, ...(augmentedOn ? { augmentedOn } : {}) };
}
