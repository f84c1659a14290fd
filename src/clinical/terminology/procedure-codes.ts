/** Procedure and order codes: PVP/PKP, spine imaging, and the tests the cards suggest (CPT, ICD-10-PCS, LOINC). */
import type { AugmentationKind } from '../patient-facts.ts';
import type { ValueSet } from './code-systems.ts';

/** PVP/PKP by CPT (CLINICAL.md). SNOMED CT ids for these procedures: unverified, matched by text. */
export const AUGMENTATION_CPT: Readonly<Record<string, AugmentationKind>> = {
  '22510': 'vertebroplasty',
  '22511': 'vertebroplasty',
  '22512': 'vertebroplasty',
  '22513': 'kyphoplasty',
  '22514': 'kyphoplasty',
  '22515': 'kyphoplasty',
};

/** CPT add-on lines: "each additional level" (CLINICAL.md 1.1): one more level even without a body site. */
export const AUGMENTATION_ADD_ON_CPT: readonly string[] = ['22512', '22515'];

/**
 * PVP/PKP by ICD-10-PCS: root operation Supplement (U) of a vertebra with synthetic substitute (J, bone
 * cement), percutaneous (3) or percutaneous endoscopic (4) approach (titles from VSAC expansions). The
 * code names the region, not the level, and does not tell vertebroplasty from kyphoplasty: the
 * procedure's text decides, else vertebroplasty. Open approaches (0PU30JZ …) and the sacrum (0QU13JZ,
 * sacroplasty) are not PVP/PKP; Reposition codes (0PS/0QS) reduce any fracture and are not counted.
 */
export const AUGMENTATION_ICD10PCS: Readonly<Record<string, 'cervical' | 'thoracic' | 'lumbar'>> = {
  '0PU33JZ': 'cervical',
  '0PU34JZ': 'cervical',
  '0PU43JZ': 'thoracic',
  '0PU44JZ': 'thoracic',
  '0QU03JZ': 'lumbar',
  '0QU04JZ': 'lumbar',
};

/** Spine MRI or CT being ordered (CLINICAL.md 1.1), thoracic or lumbar: usually the work-up before PVP/PKP. */
export const SPINE_IMAGING_CPT: Readonly<Record<string, 'MRI' | 'CT'>> = {
  '72146': 'MRI', // thoracic
  '72147': 'MRI', // thoracic
  '72157': 'MRI', // thoracic
  '72148': 'MRI', // lumbar
  '72149': 'MRI', // lumbar
  '72158': 'MRI', // lumbar
  '72128': 'CT', // thoracic
  '72129': 'CT', // thoracic
  '72130': 'CT', // thoracic
  '72131': 'CT', // lumbar
  '72132': 'CT', // lumbar
  '72133': 'CT', // lumbar
};

/** DXA scan: CPT 77080 (CLINICAL.md); SNOMED 312681000 "Bone density scan" (Synthea modules/osteoporosis.json). */
export const DXA_ORDER: ValueSet = { codes: { cpt: ['77080'], snomed: ['312681000'] } };

/** PHQ-9 panel and total (CLINICAL.md). */
export const PHQ9_ORDER: ValueSet = { codes: { loinc: ['44249-1', '44261-6'] } };
