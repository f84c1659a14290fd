/**
 * Code systems and value sets: how a coding is matched (system + code, ICD-10-CM by prefix). The code
 * lists themselves are in the other files of this folder, one per domain, each with its sources. The
 * folder's README says how codes were checked and why some are left out.
 */

/** System URIs as CLINICAL.md gives them; ICD-10-PCS as FHIR R4 names it. */
export const SYSTEMS = {
  loinc: 'http://loinc.org',
  snomed: 'http://snomed.info/sct',
  icd10cm: 'http://hl7.org/fhir/sid/icd-10-cm',
  icd10pcs: 'http://www.cms.gov/Medicare/Coding/ICD10',
  cpt: 'http://www.ama-assn.org/go/cpt',
  rxnorm: 'http://www.nlm.nih.gov/research/umls/rxnorm',
} as const;

export type CodeSystemKey = keyof typeof SYSTEMS;

/** A set of codes: exact codes per system, and ICD-10-CM prefixes (`F32` stands for F32.*). */
export interface ValueSet {
  readonly codes?: Partial<Record<CodeSystemKey, readonly string[]>>;
  /** ICD-10-CM prefixes, compared ignoring the dot and case: `M80.08` matches `M80.08XA` and `m8008xa`. */
  readonly icd10cmPrefixes?: readonly string[];
}

export interface CodingLike {
  readonly system?: unknown;
  readonly code?: unknown;
}

/** An ICD-10 code without its dot, spaces and case: `m80.08xa` → `M8008XA`. */
export function normaliseIcd10(code: string): string {
  return code.replace(/[.\s]/g, '').toUpperCase();
}

/**
 * A value set as looked up: codes by system URI in Sets, ICD-10-CM prefixes normalised. The systems are a
 * list, not a Map: a value set names one or two, and comparing a coding's system with them costs less
 * than hashing it (every system URI of a request is a new string).
 */
interface CompiledValueSet {
  codes: ReadonlyArray<readonly [system: string, codes: ReadonlySet<string>]>;
  icd10cmPrefixes: readonly string[];
}

/** Value sets are constants: each is compiled on first use, once. */
const compiled = new WeakMap<ValueSet, CompiledValueSet>();

function compile(valueSet: ValueSet): CompiledValueSet {
  let done = compiled.get(valueSet);
  if (!done) {
    const codes: Array<readonly [string, ReadonlySet<string>]> = [];
    for (const key of Object.keys(SYSTEMS) as CodeSystemKey[]) {
      const list = valueSet.codes?.[key];
      if (list) codes.push([SYSTEMS[key], new Set(list)]);
    }
    done = { codes, icd10cmPrefixes: (valueSet.icd10cmPrefixes ?? []).map(normaliseIcd10) };
    compiled.set(valueSet, done);
  }
  return done;
}

/** Whether one coding belongs to the value set (system + code; ICD-10-CM by prefix). */
export function codingInValueSet(coding: CodingLike, valueSet: ValueSet): boolean {
  const { system, code } = coding;
  if (typeof system !== 'string' || typeof code !== 'string' || code.trim() === '') return false;
  const set = compile(valueSet);
  if (system === SYSTEMS.icd10cm && set.icd10cmPrefixes.length > 0) {
    const normalised = normaliseIcd10(code);
    if (set.icd10cmPrefixes.some((prefix) => normalised.startsWith(prefix))) return true;
  }
  for (const [listed, codes] of set.codes) if (system === listed) return codes.has(code.trim());
  return false;
}

/** Whether any of the codings belongs to the value set: a concept's codings, read once by `codings`. */
export function anyCodingInValueSet(codings: readonly CodingLike[], valueSet: ValueSet): boolean {
  for (const coding of codings) if (codingInValueSet(coding, valueSet)) return true;
  return false;
}
