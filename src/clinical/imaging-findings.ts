/**
 * Imaging findings (intravertebral cleft, fascia injury, cement distribution and leakage, paraspinal fat,
 * endplate contact, kyphosis) from Conditions and Observations. A finding is true when a resource names it,
 * false only when a resource says it is absent; with no resource about it, it is not assessed (undefined).
 */
import { type Mention, mentionIn } from './clinical-text.ts';
import type { UsableCondition } from './conditions.ts';
import {
  codesIn,
  codings,
  conceptTexts,
  field,
  ignore,
  type JsonObject,
  type Ledger,
  listOf,
  noteTexts,
  recordTextMatch,
  type SafeCoding,
  text,
  textsOfConcepts,
} from './fhir-reading.ts';
import type { UsableObservation } from './observations.ts';
import type { ImagingFinding } from './patient-facts.ts';
import { anyCodingInValueSet, SYSTEMS, type ValueSet } from './terminology/code-systems.ts';
import { PRESENCE_ANSWERS } from './terminology/observation-codes.ts';
import { ABSENT_TEXT, CEMENT_FINDINGS, IMAGING_FINDINGS, PRESENT_TEXT } from './terminology/text-patterns.ts';

export type ImagingFindingFacts = Partial<Record<ImagingFinding, boolean>>;

function coded(read: readonly SafeCoding[], valueSet: ValueSet | undefined): boolean {
  return valueSet !== undefined && anyCodingInValueSet(read, valueSet);
}

/** The Observation's answer about presence: true, false, or undefined when it gives none. */
function presenceAnswer(resource: JsonObject): boolean | undefined {
  if (typeof resource.valueBoolean === 'boolean') return resource.valueBoolean;
  const answer = codesIn(resource.valueCodeableConcept, SYSTEMS.snomed)
    .map((code) => PRESENCE_ANSWERS[code])
    .find((present) => present !== undefined);
  if (answer !== undefined) return answer;
  const words = [...conceptTexts(resource.valueCodeableConcept), text(resource.valueString) ?? ''];
  if (words.some((w) => PRESENT_TEXT.test(w))) return true;
  if (words.some((w) => ABSENT_TEXT.test(w))) return false;
  return undefined;
}

function fromMention(mention: Mention | undefined): boolean | undefined {
  return mention === undefined ? undefined : mention === 'present';
}

/** What one Condition says about a finding. */
function conditionSays(condition: UsableCondition, valueSet: ValueSet | undefined, pattern: RegExp) {
  const { resource } = condition;
  if (coded(condition.codings, valueSet)) return { value: true, byText: false };
  const texts = [
    ...conceptTexts(resource.code),
    ...textsOfConcepts(listOf(resource.bodySite)),
    ...noteTexts(resource.note),
  ];
  return { value: fromMention(mentionIn(texts, pattern)), byText: true };
}

/** A measurement (a kyphosis angle, say) names what was measured, not that the finding is present. */
function isMeasurement(resource: JsonObject): boolean {
  return ['valueQuantity', 'valueInteger', 'valueDecimal', 'valueRange', 'valueRatio'].some(
    (name) => resource[name] !== undefined,
  );
}

/**
 * What one Observation says about a finding: named as its value, or named by its code with the answer
 * in its value (no answer: a finding-type Observation, present; a measurement: nothing said).
 */
function observationSays(observation: UsableObservation, valueSet: ValueSet | undefined, pattern: RegExp) {
  const { resource } = observation;
  if (coded(codings(resource.valueCodeableConcept), valueSet)) return { value: true, byText: false };
  const answer = isMeasurement(resource) ? undefined : (presenceAnswer(resource) ?? true);
  if (coded(observation.codings, valueSet)) return { value: answer, byText: false };
  const named = mentionIn(conceptTexts(resource.code), pattern);
  if (named === 'absent') return { value: false, byText: true };
  if (named === 'present') return { value: answer, byText: true };
  const valueTexts = [
    ...conceptTexts(resource.valueCodeableConcept),
    ...[text(resource.valueString)].filter((w): w is string => w !== undefined),
    ...noteTexts(resource.note),
  ];
  return { value: fromMention(mentionIn(valueTexts, pattern)), byText: true };
}

/** Any finding's words: a resource whose texts match none of them names no finding by text. */
const ANY_FINDING_TEXT = new RegExp(IMAGING_FINDINGS.map((f) => `(?:${f.text.source})`).join('|'), 'i');
const FINDING_VALUE_SETS = IMAGING_FINDINGS.flatMap((f) => (f.valueSet ? [f.valueSet] : []));

/** What ANY_FINDING_TEXT said of each text of one record: a chart repeats its displays a great deal. */
type Tested = Map<string, boolean>;

function namesAFinding(words: string | undefined, tested: Tested): boolean {
  if (words === undefined) return false;
  let named = tested.get(words);
  if (named === undefined) {
    named = ANY_FINDING_TEXT.test(words);
    tested.set(words, named);
  }
  return named;
}

/** Whether a CodeableConcept (its text, its codings) has a coding of a finding's value set or a finding's words. */
function conceptMayNameAFinding(
  own: string | undefined,
  read: readonly SafeCoding[],
  tested: Tested,
): boolean {
  if (namesAFinding(own, tested)) return true;
  // Plain loops: this runs for most resources of a chart, and closures here were a sixth of what
  // extraction allocated for the heavy patient.
  for (const valueSet of FINDING_VALUE_SETS) if (anyCodingInValueSet(read, valueSet)) return true;
  // A display that repeats the concept's text (as most do) was tested with it.
  for (const coding of read) if (coding.display !== own && namesAFinding(coding.display, tested)) return true;
  return false;
}

/**
 * Whether a resource could say anything about any finding: a coding of a finding's value set in its code
 * (read already, `codeCodings`) or value, or a finding's words in any of its texts. Most resources of a
 * chart say nothing, and are then not read once per finding.
 */
function mayNameAFinding(resource: JsonObject, codeCodings: readonly SafeCoding[], tested: Tested): boolean {
  if (conceptMayNameAFinding(text(field(resource.code, 'text')), codeCodings, tested)) return true;
  const value = resource.valueCodeableConcept;
  if (conceptMayNameAFinding(text(field(value, 'text')), codings(value), tested)) return true;
  for (const site of listOf(resource.bodySite)) {
    if (conceptMayNameAFinding(text(field(site, 'text')), codings(site), tested)) return true;
  }
  if (namesAFinding(text(resource.valueString), tested)) return true;
  for (const note of listOf(resource.note)) if (namesAFinding(text(field(note, 'text')), tested)) return true;
  return false;
}

/**
 * Findings named by Conditions or Observations (a positive statement wins over a negative one). The cement
 * findings exist only after an augmentation: without one they are absent (not applicable), not "not
 * assessed", so a card before a first procedure does not list them as missing data.
 */
export function readImagingFindings(
  conditions: readonly UsableCondition[],
  observations: readonly UsableObservation[],
  hasPriorAugmentation: boolean,
  ledger: Ledger,
): ImagingFindingFacts {
  const facts: ImagingFindingFacts = {};
  const tested: Tested = new Map();
  const namingConditions = conditions.filter((c) => mayNameAFinding(c.resource, c.codings, tested));
  const namingObservations = observations.filter((o) => mayNameAFinding(o.resource, o.codings, tested));
  for (const { finding, valueSet, text: pattern } of IMAGING_FINDINGS) {
    if (CEMENT_FINDINGS.includes(finding) && !hasPriorAugmentation) facts[finding] = false;
    const statements = [
      ...namingConditions.map((condition) => ({
        type: 'Condition',
        ...conditionSays(condition, valueSet, pattern),
      })),
      ...namingObservations.map((observation) => ({
        type: 'Observation',
        ...observationSays(observation, valueSet, pattern),
      })),
    ].filter((s): s is { type: string; value: boolean; byText: boolean } => s.value !== undefined);
    if (statements.length === 0) continue;
    if (CEMENT_FINDINGS.includes(finding) && !hasPriorAugmentation) {
      for (const s of statements) ignore(ledger, s.type, 'no-prior-augmentation', { topic: finding });
      continue;
    }
    for (const s of statements.filter((s) => s.byText))
      recordTextMatch(ledger, s.type, { kind: 'finding', finding });
    facts[finding] = statements.some((s) => s.value);
  }
  return facts;
}
