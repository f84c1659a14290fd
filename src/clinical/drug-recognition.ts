/**
 * Which drug a medication entry is about: the medication is read from medicationCodeableConcept, a
 * contained Medication, a Medication of the record, or failing those the reference's display. The
 * ingredient is recognised by RxNorm code (ingredient or known product), else by name in its text.
 */
import {
  ANTI_OSTEOPOROSIS_DRUGS,
  type DrugDefinition,
  GLUCOCORTICOIDS,
  NON_SYSTEMIC_FORM,
  NON_SYSTEMIC_GLUCOCORTICOID_PRODUCTS,
  NOT_A_DRUG_NAME,
  SYSTEMS,
} from '../fhir/terminology.ts';
import { escapeRegExp } from './clinical-text.ts';
import { codings, conceptTexts, field, isObject, type JsonObject, listOf, text } from './fhir-reading.ts';
import type { AntiOsteoporosisDrug, Glucocorticoid } from './patient-facts.ts';

export interface RecognisedDrugs {
  antiOsteoporosis: AntiOsteoporosisDrug[];
  /** Systemic glucocorticoids only. */
  glucocorticoids: Glucocorticoid[];
  /** A glucocorticoid was named, but in a non-systemic form or route (cream, inhaler, eye drops…). */
  nonSystemicGlucocorticoid: boolean;
  /** Recognised by name because no known code was present. */
  byText: boolean;
}

interface MedicationWords {
  concepts: unknown[];
  /** Words that are not in a CodeableConcept: the reference's display, the dose form, routes, dosage text. */
  otherTexts: string[];
  formTexts: string[];
}

function referencedMedication(resource: JsonObject, medicationResources: unknown): JsonObject | undefined {
  const reference = text(field(resource.medicationReference, 'reference'))?.trim();
  if (reference === undefined) return undefined;
  const isMedication = (candidate: unknown): candidate is JsonObject =>
    isObject(candidate) && candidate.resourceType === 'Medication';
  if (reference.startsWith('#')) {
    return listOf(resource.contained).find(
      (candidate): candidate is JsonObject => isMedication(candidate) && candidate.id === reference.slice(1),
    );
  }
  return listOf(medicationResources).find((candidate): candidate is JsonObject => {
    const id = isMedication(candidate) ? text(candidate.id) : undefined;
    return id !== undefined && (reference.endsWith(`Medication/${id}`) || reference === `urn:uuid:${id}`);
  });
}

function dosageTexts(resource: JsonObject): string[] {
  const dosages = [...listOf(resource.dosageInstruction), ...listOf(resource.dosage), resource.dosage];
  return dosages.flatMap((dosage) => [
    ...conceptTexts(field(dosage, 'route')),
    ...[text(field(dosage, 'text'))].filter((words): words is string => words !== undefined),
  ]);
}

function medicationWords(resource: JsonObject, medicationResources: unknown): MedicationWords {
  const dosage = dosageTexts(resource);
  if (isObject(resource.medicationCodeableConcept)) {
    return { concepts: [resource.medicationCodeableConcept], otherTexts: dosage, formTexts: [] };
  }
  const medication = referencedMedication(resource, medicationResources);
  if (medication) {
    const ingredients = listOf(medication.ingredient).map((ingredient) =>
      field(ingredient, 'itemCodeableConcept'),
    );
    return {
      concepts: [medication.code, ...ingredients],
      otherTexts: dosage,
      formTexts: conceptTexts(medication.form),
    };
  }
  const display = text(field(resource.medicationReference, 'display'));
  return { concepts: [], otherTexts: display ? [display, ...dosage] : dosage, formTexts: [] };
}

function byCode<D extends string>(definitions: readonly DrugDefinition<D>[], codes: readonly string[]): D[] {
  return definitions
    .filter((d) => codes.some((code) => d.ingredientCodes.includes(code) || d.productCodes.includes(code)))
    .map((d) => d.drug);
}

interface NameEntry {
  /** English names as whole words, case-insensitive; Chinese names as substrings. Compiled once. */
  pattern: RegExp;
  drug: string;
  group: 'anti' | 'gc';
}

const NAME_ENTRIES: readonly NameEntry[] = [
  ...ANTI_OSTEOPOROSIS_DRUGS.map((d) => ({ d, group: 'anti' as const })),
  ...GLUCOCORTICOIDS.map((d) => ({ d, group: 'gc' as const })),
]
  .flatMap(({ d, group }) => [
    ...d.names.map((name) => ({ name, chinese: false, drug: d.drug as string, group })),
    ...d.chineseNames.map((name) => ({ name, chinese: true, drug: d.drug as string, group })),
  ])
  .sort((a, b) => b.name.length - a.name.length)
  .map(({ name, chinese, drug, group }) => ({
    pattern: chinese
      ? new RegExp(escapeRegExp(name), 'g')
      : new RegExp(`(?<![A-Za-z])${escapeRegExp(name)}(?![A-Za-z])`, 'gi'),
    drug,
    group,
  }));

/**
 * Drug names in text: English names as whole words, case-insensitive; Chinese names as substrings.
 * Longer names are matched first and removed, so 泼尼松龙 (prednisolone) is not also read as 泼尼松.
 */
export function drugNamesIn(texts: readonly string[]): { anti: Set<string>; gc: Set<string> } {
  const found = { anti: new Set<string>(), gc: new Set<string>() };
  let remaining = texts.join('\n').replace(NOT_A_DRUG_NAME, ' ');
  for (const entry of NAME_ENTRIES) {
    const replaced = remaining.replace(entry.pattern, ' ');
    if (replaced !== remaining) found[entry.group].add(entry.drug);
    remaining = replaced;
  }
  return found;
}

function inDefinitionOrder<D extends string>(
  definitions: readonly DrugDefinition<D>[],
  names: Set<string>,
): D[] {
  return definitions.filter((d) => names.has(d.drug)).map((d) => d.drug);
}

/** The anti-osteoporosis drugs and systemic glucocorticoids a medication entry is about. */
export function recogniseDrugs(resource: JsonObject, medicationResources: unknown): RecognisedDrugs {
  const words = medicationWords(resource, medicationResources);
  const rxnormCodes = words.concepts
    .flatMap(codings)
    .filter((coding) => coding.system === SYSTEMS.rxnorm && coding.code !== undefined)
    .map((coding) => coding.code as string);
  const nonSystemicProduct = rxnormCodes.some((code) => NON_SYSTEMIC_GLUCOCORTICOID_PRODUCTS.includes(code));
  let antiOsteoporosis = byCode(ANTI_OSTEOPOROSIS_DRUGS, rxnormCodes);
  let glucocorticoids = byCode(GLUCOCORTICOIDS, rxnormCodes);
  const conceptWords = words.concepts.flatMap(conceptTexts);
  const byText = antiOsteoporosis.length === 0 && glucocorticoids.length === 0;
  if (byText) {
    const names = drugNamesIn([...conceptWords, ...words.otherTexts]);
    antiOsteoporosis = inDefinitionOrder(ANTI_OSTEOPOROSIS_DRUGS, names.anti);
    glucocorticoids = inDefinitionOrder(GLUCOCORTICOIDS, names.gc);
  }
  const nonSystemic =
    glucocorticoids.length > 0 &&
    (nonSystemicProduct ||
      NON_SYSTEMIC_FORM.test([...conceptWords, ...words.otherTexts, ...words.formTexts].join('\n')));
  return {
    antiOsteoporosis,
    glucocorticoids: nonSystemic ? [] : glucocorticoids,
    nonSystemicGlucocorticoid: nonSystemic,
    byText: byText && (antiOsteoporosis.length > 0 || glucocorticoids.length > 0),
  };
}
