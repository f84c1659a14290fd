/**
 * Which drug a medication entry is about, and in what form. The medication is read from
 * medicationCodeableConcept, a contained Medication, a Medication of the record, or failing those the
 * reference's display. The ingredient is recognised by RxNorm code (ingredient or known product), else by
 * name in the medication's own words: never in the dosage instructions or notes ("预防血栓" names no drug
 * and no dose form). A glucocorticoid is systemic unless its route, or failing a route its dose form,
 * says otherwise (CLINICAL.md 1.1, "Glucocorticoid exposure").
 */
import { escapeRegExp } from './clinical-text.ts';
import {
  codesInConcepts,
  field,
  isObject,
  type JsonObject,
  listOf,
  text,
  textsOfConcepts,
} from './fhir-reading.ts';
import type { AntiOsteoporosisDrug, Glucocorticoid, NonPreventingDrug } from './patient-facts.ts';
import { SYSTEMS } from './terminology/code-systems.ts';
import {
  ANTI_OSTEOPOROSIS_DRUGS,
  DOSE_FORM_CODES,
  type DrugDefinition,
  GLUCOCORTICOIDS,
  NON_PREVENTING_DRUGS,
  NON_SYSTEMIC_PRODUCTS,
  NON_SYSTEMIC_ROUTE_OR_FORM,
  NOT_A_DRUG_NAME,
  PARENTERAL_FORM_CODES,
  PARENTERAL_ROUTE_CODES,
  PARENTERAL_ROUTE_OR_FORM,
  ROUTE_CODES,
  type RouteClass,
  SYSTEMIC_ROUTE_OR_FORM,
} from './terminology/medication-codes.ts';

export interface RecognisedDrugs {
  antiOsteoporosis: AntiOsteoporosisDrug[];
  nonPreventing: NonPreventingDrug[];
  /** Systemic glucocorticoids only. */
  glucocorticoids: Glucocorticoid[];
  /** A glucocorticoid was named, but its route or dose form is not systemic (cream, inhaler, eye drops…). */
  nonSystemicGlucocorticoid: boolean;
  /**
   * Given by injection or infusion, by route or dose form (an ibandronate injection is the IV regimen).
   * False when no drug is recognised: the route and form of another drug are not read.
   */
  parenteral: boolean;
  /** Recognised by name because no known code was present. */
  byText: boolean;
  /** The medication's own words (names, product text, dose form), e.g. to read a tablet's strength. */
  productTexts: string[];
}

interface MedicationWords {
  concepts: unknown[];
  /** The reference's display, when no Medication resource is at hand. */
  displays: string[];
  forms: unknown[];
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

function medicationWords(resource: JsonObject, medicationResources: unknown): MedicationWords {
  if (isObject(resource.medicationCodeableConcept)) {
    return { concepts: [resource.medicationCodeableConcept], displays: [], forms: [] };
  }
  const medication = referencedMedication(resource, medicationResources);
  if (medication) {
    const ingredients = listOf(medication.ingredient).map((ingredient) =>
      field(ingredient, 'itemCodeableConcept'),
    );
    return { concepts: [medication.code, ...ingredients], displays: [], forms: [medication.form] };
  }
  const display = text(field(resource.medicationReference, 'display'));
  return { concepts: [], displays: display ? [display] : [], forms: [] };
}

/** The routes of an entry's dosages: dosageInstruction (requests, dispenses), dosage (statements, administrations). */
function routesOf(resource: JsonObject): unknown[] {
  const dosages = [...listOf(resource.dosageInstruction), ...listOf(resource.dosage), resource.dosage];
  return dosages.map((dosage) => field(dosage, 'route')).filter((route) => route !== undefined);
}

/** Non-systemic words win over systemic ones ("oral inhalation powder" is an inhaler). */
function classOfWords(words: readonly string[]): RouteClass | undefined {
  const joined = words.join('\n');
  if (NON_SYSTEMIC_ROUTE_OR_FORM.test(joined)) return 'non-systemic';
  if (SYSTEMIC_ROUTE_OR_FORM.test(joined)) return 'systemic';
  return undefined;
}

function routeClass(routes: readonly unknown[]): RouteClass | undefined {
  const coded = codesInConcepts(routes, SYSTEMS.snomed)
    .map((code) => ROUTE_CODES[code])
    .find((cls) => cls !== undefined);
  return coded ?? classOfWords(textsOfConcepts(routes));
}

/**
 * Systemic or not: a known non-systemic product, else the route (coded, then its words), else the dose
 * form (coded, then the words of the product's name and form). Undefined when nothing says.
 */
function formClass(
  rxnormCodes: readonly string[],
  routes: readonly unknown[],
  forms: readonly unknown[],
  formWords: readonly string[],
): RouteClass | undefined {
  if (rxnormCodes.some((code) => NON_SYSTEMIC_PRODUCTS.includes(code))) return 'non-systemic';
  const coded = codesInConcepts(forms)
    .map((code) => DOSE_FORM_CODES[code])
    .find((cls) => cls !== undefined);
  return routeClass(routes) ?? coded ?? classOfWords(formWords);
}

/** Every RxNorm code of our drugs: an entry coded with none of them is recognised by name. */
const DRUG_CODES: ReadonlySet<string> = new Set(
  [...ANTI_OSTEOPOROSIS_DRUGS, ...NON_PREVENTING_DRUGS, ...GLUCOCORTICOIDS].flatMap((d) => [
    ...d.ingredientCodes,
    ...d.productCodes,
  ]),
);

function byCode<D extends string>(definitions: readonly DrugDefinition<D>[], codes: readonly string[]): D[] {
  return definitions
    .filter((d) => codes.some((code) => d.ingredientCodes.includes(code) || d.productCodes.includes(code)))
    .map((d) => d.drug);
}

type Group = 'anti' | 'non' | 'gc';

interface NameEntry {
  /** English names as whole words, case-insensitive; Chinese names as substrings. Compiled once. */
  pattern: RegExp;
  drug: string;
  group: Group;
}

/** Every name of our drugs, longest first. */
const NAMES = [
  ...ANTI_OSTEOPOROSIS_DRUGS.map((d) => ({ d: d as DrugDefinition<string>, group: 'anti' as const })),
  ...NON_PREVENTING_DRUGS.map((d) => ({ d: d as DrugDefinition<string>, group: 'non' as const })),
  ...GLUCOCORTICOIDS.map((d) => ({ d: d as DrugDefinition<string>, group: 'gc' as const })),
]
  .flatMap(({ d, group }) => [
    ...d.names.map((name) => ({ name, chinese: false, drug: d.drug, group })),
    ...d.chineseNames.map((name) => ({ name, chinese: true, drug: d.drug, group })),
  ])
  .sort((a, b) => b.name.length - a.name.length);

const NAME_ENTRIES: readonly NameEntry[] = NAMES.map(({ name, chinese, drug, group }) => ({
  pattern: chinese
    ? new RegExp(escapeRegExp(name), 'g')
    : new RegExp(`(?<![A-Za-z])${escapeRegExp(name)}(?![A-Za-z])`, 'gi'),
  drug,
  group,
}));

/**
 * Any of the names, even inside a word: most medication texts name none of our drugs, and are then read
 * once, not per name. Without the word boundaries of the names' own patterns it is several times faster,
 * and a text it does not match cannot match any of them.
 */
const ANY_NAME = new RegExp(NAMES.map(({ name }) => escapeRegExp(name)).join('|'), 'i');

/**
 * Drug names in text: English names as whole words, case-insensitive; Chinese names as substrings.
 * Longer names are matched first and removed, so 泼尼松龙 (prednisolone) is not also read as 泼尼松.
 */
export function drugNamesIn(texts: readonly string[]): Record<Group, Set<string>> {
  const found: Record<Group, Set<string>> = { anti: new Set(), non: new Set(), gc: new Set() };
  let remaining = texts.join('\n').replace(NOT_A_DRUG_NAME, ' ');
  if (!ANY_NAME.test(remaining)) return found;
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
  if (names.size === 0) return [];
  return definitions.filter((d) => names.has(d.drug)).map((d) => d.drug);
}

/** The drugs a medication entry is about, and the form they are given in. */
export function recogniseDrugs(resource: JsonObject, medicationResources: unknown): RecognisedDrugs {
  const words = medicationWords(resource, medicationResources);
  const rxnormCodes = codesInConcepts(words.concepts, SYSTEMS.rxnorm);
  const productTexts = [...textsOfConcepts(words.concepts), ...words.displays];
  const byText = !rxnormCodes.some((code) => DRUG_CODES.has(code));
  const names = byText ? drugNamesIn(productTexts) : undefined;
  const antiOsteoporosis = names
    ? inDefinitionOrder(ANTI_OSTEOPOROSIS_DRUGS, names.anti)
    : byCode(ANTI_OSTEOPOROSIS_DRUGS, rxnormCodes);
  const nonPreventing = names
    ? inDefinitionOrder(NON_PREVENTING_DRUGS, names.non)
    : byCode(NON_PREVENTING_DRUGS, rxnormCodes);
  const glucocorticoids = names
    ? inDefinitionOrder(GLUCOCORTICOIDS, names.gc)
    : byCode(GLUCOCORTICOIDS, rxnormCodes);
  const formWords = [...productTexts, ...textsOfConcepts(words.forms)];
  if (antiOsteoporosis.length + nonPreventing.length + glucocorticoids.length === 0) {
    // Most entries of a chart are other drugs: their route and form would tell nothing, and are not read.
    return {
      antiOsteoporosis,
      nonPreventing,
      glucocorticoids,
      nonSystemicGlucocorticoid: false,
      parenteral: false,
      byText: false,
      productTexts: formWords,
    };
  }
  const routes = routesOf(resource);
  const form = formClass(rxnormCodes, routes, words.forms, formWords);
  const nonSystemic = glucocorticoids.length > 0 && form === 'non-systemic';
  const parenteral =
    codesInConcepts(routes).some((code) => PARENTERAL_ROUTE_CODES.includes(code)) ||
    codesInConcepts(words.forms).some((code) => PARENTERAL_FORM_CODES.includes(code)) ||
    PARENTERAL_ROUTE_OR_FORM.test([...textsOfConcepts(routes), ...formWords].join('\n'));
  return {
    antiOsteoporosis,
    nonPreventing,
    glucocorticoids: nonSystemic ? [] : glucocorticoids,
    nonSystemicGlucocorticoid: nonSystemic,
    parenteral,
    byText,
    productTexts: formWords,
  };
}
