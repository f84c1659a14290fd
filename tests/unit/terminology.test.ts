import { describe, expect, it } from 'vitest';
import { codingInValueSet, normaliseIcd10, SYSTEMS } from '../../src/clinical/terminology/code-systems.ts';
import {
  DEPRESSION,
  DEPRESSION_IN_REMISSION,
  FRAGILITY_FRACTURE_HISTORY,
  INJURY,
  NON_VERTEBRAL_FRAGILITY_FRACTURE,
  OSTEOPOROSIS,
  OSTEOPOROTIC_VERTEBRAL_FRACTURE,
  TRAUMATIC_VERTEBRAL_FRACTURE,
} from '../../src/clinical/terminology/condition-codes.ts';
import {
  ANTI_OSTEOPOROSIS_DRUGS,
  GLUCOCORTICOIDS,
  NON_PREVENTING_DRUGS,
  PREDNISONE_EQUIVALENT,
} from '../../src/clinical/terminology/medication-codes.ts';
import { DXA_TSCORE_SITES } from '../../src/clinical/terminology/observation-codes.ts';
import {
  AUGMENTATION_ADD_ON_CPT,
  AUGMENTATION_CPT,
  AUGMENTATION_ICD10PCS,
  SPINE_IMAGING_CPT,
} from '../../src/clinical/terminology/procedure-codes.ts';

const icd = (code: string) => ({ system: SYSTEMS.icd10cm, code });

describe('system URIs', () => {
  it('are exactly those CLINICAL.md gives, and FHIR R4 names ICD-10-PCS', () => {
    expect(SYSTEMS).toEqual({
      loinc: 'http://loinc.org',
      snomed: 'http://snomed.info/sct',
      icd10cm: 'http://hl7.org/fhir/sid/icd-10-cm',
      icd10pcs: 'http://www.cms.gov/Medicare/Coding/ICD10',
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
  });

  it('reads an injury code (S chapter) as traumatic, never as a fragility fracture (CLINICAL.md 1.1)', () => {
    for (const code of ['S72.001A', 'S52.531A', 'S42.201A', 'S32.501A']) {
      expect(codingInValueSet(icd(code), NON_VERTEBRAL_FRAGILITY_FRACTURE), code).toBe(false);
      expect(codingInValueSet(icd(code), INJURY), code).toBe(true);
    }
    expect(codingInValueSet(icd('M80.0AXA'), NON_VERTEBRAL_FRAGILITY_FRACTURE)).toBe(true);
    expect(codingInValueSet(icd('M80.8AXS'), NON_VERTEBRAL_FRAGILITY_FRACTURE)).toBe(true);
    expect(codingInValueSet(icd('Z87.310'), FRAGILITY_FRACTURE_HISTORY)).toBe(true);
    expect(codingInValueSet(icd('Z87.311'), FRAGILITY_FRACTURE_HISTORY)).toBe(false);
  });

  it('knows the depression remission codes, and not an active episode', () => {
    for (const code of ['F32.4', 'F32.5', 'F33.40', 'F33.41', 'F33.42']) {
      expect(codingInValueSet(icd(code), DEPRESSION_IN_REMISSION), code).toBe(true);
      expect(codingInValueSet(icd(code), DEPRESSION), code).toBe(true);
    }
    for (const code of ['F32.1', 'F32.A', 'F33.1', 'F33.9']) {
      expect(codingInValueSet(icd(code), DEPRESSION_IN_REMISSION), code).toBe(false);
    }
    expect(codingInValueSet({ system: SYSTEMS.snomed, code: '46244001' }, DEPRESSION_IN_REMISSION)).toBe(
      true,
    );
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

  it('reads ICD-10-PCS percutaneous vertebral Supplement with synthetic substitute as PVP/PKP, by region', () => {
    expect(AUGMENTATION_ICD10PCS['0QU03JZ']).toBe('lumbar');
    expect(AUGMENTATION_ICD10PCS['0PU43JZ']).toBe('thoracic');
    expect(AUGMENTATION_ICD10PCS['0PU33JZ']).toBe('cervical');
    expect(AUGMENTATION_ICD10PCS['0QU13JZ']).toBeUndefined();
    expect(AUGMENTATION_ICD10PCS['0QU00JZ']).toBeUndefined();
  });

  it('lists the CPT spine MRI and CT codes of CLINICAL.md 1.1, and the add-on levels', () => {
    expect(Object.keys(SPINE_IMAGING_CPT).sort()).toEqual([
      '72128',
      '72129',
      '72130',
      '72131',
      '72132',
      '72133',
      '72146',
      '72147',
      '72148',
      '72149',
      '72157',
      '72158',
    ]);
    expect(SPINE_IMAGING_CPT['72148']).toBe('MRI');
    expect(SPINE_IMAGING_CPT['72131']).toBe('CT');
    expect(AUGMENTATION_ADD_ON_CPT).toEqual(['22512', '22515']);
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
    const codes = [...ANTI_OSTEOPOROSIS_DRUGS, ...NON_PREVENTING_DRUGS, ...GLUCOCORTICOIDS].flatMap((d) => [
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
    for (const definition of [...ANTI_OSTEOPOROSIS_DRUGS, ...NON_PREVENTING_DRUGS, ...GLUCOCORTICOIDS]) {
      expect(definition.chineseNames.length, definition.drug).toBeGreaterThan(0);
    }
  });

  it('does not count calcitonin, calcium, vitamin D or herbal medicines as fracture-preventing', () => {
    const preventing = ANTI_OSTEOPOROSIS_DRUGS.map((d) => d.drug as string);
    for (const drug of ['calcitonin', 'calcium', 'vitamin-d', 'calcitriol', 'alfacalcidol', 'herbal']) {
      expect(preventing).not.toContain(drug);
      expect(NON_PREVENTING_DRUGS.map((d) => d.drug as string)).toContain(drug);
    }
  });

  it('has the nine glucocorticoids of CLINICAL.md 1.1 with their prednisone equivalents', () => {
    expect(GLUCOCORTICOIDS.map((d) => d.drug).sort()).toEqual(Object.keys(PREDNISONE_EQUIVALENT).sort());
    expect(PREDNISONE_EQUIVALENT).toEqual({
      prednisone: 1,
      prednisolone: 1,
      methylprednisolone: 1.25,
      triamcinolone: 1.25,
      dexamethasone: 6.67,
      betamethasone: 8.33,
      hydrocortisone: 0.25,
      cortisone: 0.2,
      deflazacort: 0.83,
    });
  });
});
