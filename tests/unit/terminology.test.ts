import { describe, expect, it } from 'vitest';
import {
  ANTI_OSTEOPOROSIS_DRUGS,
  AUGMENTATION_CPT,
  codingInValueSet,
  DEPRESSION,
  DXA_TSCORE_SITES,
  GLUCOCORTICOIDS,
  NON_VERTEBRAL_FRAGILITY_FRACTURE,
  normaliseIcd10,
  OSTEOPOROSIS,
  OSTEOPOROTIC_VERTEBRAL_FRACTURE,
  SYSTEMS,
  TRAUMATIC_VERTEBRAL_FRACTURE,
} from '../../src/fhir/terminology.ts';

const icd = (code: string) => ({ system: SYSTEMS.icd10cm, code });

describe('system URIs', () => {
  it('are exactly those CLINICAL.md gives', () => {
    expect(SYSTEMS).toEqual({
      loinc: 'http://loinc.org',
      snomed: 'http://snomed.info/sct',
      icd10cm: 'http://hl7.org/fhir/sid/icd-10-cm',
      cpt: 'http://www.ama-assn.org/go/cpt',
      rxnorm: 'http://www.nlm.nih.gov/research/umls/rxnorm',
    });
  });
});

describe('codingInValueSet', () => {
  it('compares ICD-10-CM codes ignoring the dot and case', () => {
    expect(normaliseIcd10(' m80.08xa ')).toBe('M8008XA');
    expect(codingInValueSet(icd('M80.08XA'), OSTEOPOROTIC_VERTEBRAL_FRACTURE)).toBe(true);
    expect(codingInValueSet(icd('m8008xs'), OSTEOPOROTIC_VERTEBRAL_FRACTURE)).toBe(true);
    expect(codingInValueSet(icd('M80.88XD'), OSTEOPOROTIC_VERTEBRAL_FRACTURE)).toBe(true);
    expect(codingInValueSet(icd('M48.50XA'), OSTEOPOROTIC_VERTEBRAL_FRACTURE)).toBe(true);
  });

  it('matches ICD-10-CM prefixes only from the start of the code', () => {
    expect(codingInValueSet(icd('F32.A'), DEPRESSION)).toBe(true);
    expect(codingInValueSet(icd('F33.1'), DEPRESSION)).toBe(true);
    expect(codingInValueSet(icd('F31.3'), DEPRESSION)).toBe(false);
    expect(codingInValueSet(icd('M80.051A'), OSTEOPOROTIC_VERTEBRAL_FRACTURE)).toBe(false);
    expect(codingInValueSet(icd('M80.051A'), NON_VERTEBRAL_FRAGILITY_FRACTURE)).toBe(true);
  });

  it('tells traumatic vertebral fractures from a coccyx fracture', () => {
    expect(codingInValueSet(icd('S32.010A'), TRAUMATIC_VERTEBRAL_FRACTURE)).toBe(true);
    expect(codingInValueSet(icd('S22.060A'), TRAUMATIC_VERTEBRAL_FRACTURE)).toBe(true);
    expect(codingInValueSet(icd('S32.2XXA'), TRAUMATIC_VERTEBRAL_FRACTURE)).toBe(false);
    expect(codingInValueSet(icd('S32.2XXA'), NON_VERTEBRAL_FRAGILITY_FRACTURE)).toBe(false);
    expect(codingInValueSet(icd('S72.001A'), NON_VERTEBRAL_FRAGILITY_FRACTURE)).toBe(true);
  });

  it('requires the right system for exact codes', () => {
    expect(codingInValueSet({ system: SYSTEMS.snomed, code: '35489007' }, DEPRESSION)).toBe(true);
    expect(codingInValueSet({ system: SYSTEMS.loinc, code: '35489007' }, DEPRESSION)).toBe(false);
    expect(codingInValueSet({ system: 'http://snomed.info/sct/', code: '35489007' }, DEPRESSION)).toBe(false);
    expect(codingInValueSet({ code: '35489007' }, DEPRESSION)).toBe(false);
    expect(codingInValueSet({ system: SYSTEMS.icd10cm, code: 'F32' }, OSTEOPOROSIS)).toBe(false);
    expect(codingInValueSet({ system: SYSTEMS.icd10cm, code: 'M81.0' }, OSTEOPOROSIS)).toBe(true);
  });

  it('rejects codes that are not strings', () => {
    expect(codingInValueSet({ system: SYSTEMS.snomed, code: 35489007 }, DEPRESSION)).toBe(false);
    expect(codingInValueSet({ system: SYSTEMS.icd10cm, code: '' }, DEPRESSION)).toBe(false);
  });
});

describe('value sets as data', () => {
  it('maps every DXA LOINC code of CLINICAL.md to its site', () => {
    expect(DXA_TSCORE_SITES['38265-5']).toBe('forearm');
    expect(DXA_TSCORE_SITES['104938-6']).toBe('spine');
    expect(DXA_TSCORE_SITES['38267-1']).toBe('lumbar-spine');
    expect(['38264-8', '80945-9', '80946-7'].map((c) => DXA_TSCORE_SITES[c])).toEqual([
      'total-hip',
      'total-hip',
      'total-hip',
    ]);
    expect(['38263-0', '80947-5', '80948-3'].map((c) => DXA_TSCORE_SITES[c])).toEqual([
      'femoral-neck',
      'femoral-neck',
      'femoral-neck',
    ]);
  });

  it('classifies CPT 22510–22512 as vertebroplasty and 22513–22515 as kyphoplasty', () => {
    expect(Object.entries(AUGMENTATION_CPT).sort()).toEqual([
      ['22510', 'vertebroplasty'],
      ['22511', 'vertebroplasty'],
      ['22512', 'vertebroplasty'],
      ['22513', 'kyphoplasty'],
      ['22514', 'kyphoplasty'],
      ['22515', 'kyphoplasty'],
    ]);
  });

  it('never gives one RxNorm code to two drugs', () => {
    const codes = [...ANTI_OSTEOPOROSIS_DRUGS, ...GLUCOCORTICOIDS].flatMap((d) => [
      ...d.ingredientCodes,
      ...d.productCodes,
    ]);
    expect(new Set(codes).size).toBe(codes.length);
  });

  it('carries the ingredient codes of CLINICAL.md', () => {
    const ingredient = (drug: string) =>
      [...ANTI_OSTEOPOROSIS_DRUGS, ...GLUCOCORTICOIDS].find((d) => d.drug === drug)?.ingredientCodes;
    expect(ingredient('alendronate')).toEqual(['46041']);
    expect(ingredient('zoledronic-acid')).toEqual(['77655']);
    expect(ingredient('denosumab')).toEqual(['993449']);
    expect(ingredient('prednisone')).toEqual(['8640']);
    expect(ingredient('hydrocortisone')).toEqual(['5492']);
  });

  it('names every drug in Chinese', () => {
    for (const definition of [...ANTI_OSTEOPOROSIS_DRUGS, ...GLUCOCORTICOIDS]) {
      expect(definition.chineseNames.length, definition.drug).toBeGreaterThan(0);
    }
  });
});
