/**
 * Condition codes: diagnoses the models read, vertebral and other fragility fractures (SNOMED CT,
 * ICD-10-CM). Source: CLINICAL.md unless noted next to a list.
 */
import type { ValueSet } from './code-systems.ts';

export const DEPRESSION: ValueSet = {
  codes: { snomed: ['35489007', '370143000', '36923009', '66344007'] },
  icd10cmPrefixes: ['F32', 'F33'],
};

/**
 * Depression in remission does not count (CLINICAL.md 1.1): ICD-10-CM F32.4 (single episode, partial
 * remission), F32.5 (full remission), F33.4* (recurrent, in remission); SNOMED CT full and partial
 * remission concepts (VSAC "Major Depression Including Remission" expansions), for a Condition that carries
 * one next to a depression code. A coding display or text saying so is read too (DEPRESSION_REMISSION_TEXT).
 */
export const DEPRESSION_IN_REMISSION: ValueSet = {
  codes: {
    snomed: [
      '19527009', // Single episode of major depression in full remission
      '191606003', // Single major depressive episode, in full remission
      '70747007', // Major depression single episode, in partial remission
      '63412003', // Major depression in full remission
      '30605009', // Major depression in partial remission
      '42810003', // Major depression in remission
      '46244001', // Recurrent major depression in full remission
      '33135002', // Recurrent major depression in partial remission
      '68019004', // Recurrent major depression in remission
      '191615005', // Recurrent major depressive episodes, in full remission
      '698957003', // Depressive disorder in remission
    ],
  },
  icd10cmPrefixes: ['F32.4', 'F32.5', 'F33.4'],
};

export const ANXIETY: ValueSet = { codes: { snomed: ['197480006', '21897009'] }, icd10cmPrefixes: ['F41'] };

export const DIABETES: ValueSet = {
  codes: { snomed: ['46635009', '44054006', '73211009'] },
  icd10cmPrefixes: ['E10', 'E11'],
};

/** Osteoporosis (with or without fracture). Not a spine disease on its own. */
export const OSTEOPOROSIS: ValueSet = {
  codes: { snomed: ['64859006', '102447009', '203438009', '390833005'] },
  icd10cmPrefixes: ['M80', 'M81'],
};

/** Long-term (current) use of systemic steroids. */
export const LONG_TERM_SYSTEMIC_STEROIDS: ValueSet = { icd10cmPrefixes: ['Z79.52'] };

export const KYPHOSIS: ValueSet = { codes: { snomed: ['414564002', '203657009'] } };

/**
 * Osteoporotic (non-traumatic) vertebral fracture: SNOMED CT list and ICD-10-CM from CLINICAL.md
 * (M80.08*, M80.88* with any 7th character; M48.5* collapsed vertebra).
 * 443165006 is left out here on purpose: Synthea codes it as "Pathological fracture due to osteoporosis"
 * after a broken clavicle, arm, wrist, ankle, rib or hip (synthetichealth/synthea modules/injuries.json),
 * so it names a vertebral fracture only when the resource names a vertebra (see OSTEOPOROTIC_FRACTURE_ANY_SITE).
 */
export const OSTEOPOROTIC_VERTEBRAL_FRACTURE: ValueSet = {
  codes: { snomed: ['240198002', '311890007', '311891006', '203450003', '203451004'] },
  icd10cmPrefixes: ['M80.08', 'M80.88', 'M48.5'],
};

/** "Pathological fracture due to osteoporosis" (CLINICAL.md lists it with the vertebral codes; see above). */
export const OSTEOPOROTIC_FRACTURE_ANY_SITE: ValueSet = { codes: { snomed: ['443165006'] } };

/**
 * Traumatic vertebral fracture: a fracture history and a fractured level, but not an osteoporotic one.
 * ICD-10-CM S22.0* (thoracic) and S32.0* (lumbar): brief. SNOMED 15724005 / 1734006 (vertebral column
 * fracture without / with spinal cord injury): Synthea modules/injuries.json. 207938004 / 207957008 /
 * 207949005 / 207965006 (closed/open fracture of thoracic/lumbar vertebra): one public code list
 * (a BHF CVD-COVID-UK fracture codelist), not cross-checked.
 */
export const TRAUMATIC_VERTEBRAL_FRACTURE: ValueSet = {
  codes: { snomed: ['15724005', '1734006', '207938004', '207957008', '207949005', '207965006'] },
  icd10cmPrefixes: ['S22.0', 'S32.0'],
};

/**
 * ICD-10-CM codes that name the vertebra. S32.01* = first lumbar vertebra (seen in public ICD-10-CM
 * code lists); S32.02–S32.05 and S22.01–S22.04 follow the same tabular structure (unverified one by one).
 */
export const ICD10CM_VERTEBRAL_LEVEL_PREFIXES: Readonly<Record<string, string>> = {
  'S32.01': 'L1',
  'S32.02': 'L2',
  'S32.03': 'L3',
  'S32.04': 'L4',
  'S32.05': 'L5',
  'S22.01': 'T1',
  'S22.02': 'T2',
  'S22.03': 'T3',
  'S22.04': 'T4',
};

/**
 * Non-vertebral fragility fracture sites (hip, distal radius/forearm, proximal humerus, pelvis/sacrum).
 * ICD-10-CM: M80.0[0-7]* / M80.8[0-7]* (osteoporosis with pathological fracture, non-vertebral sites) and
 * M80.0A* / M80.8A* (other site; CLINICAL.md 1.1). S-chapter injury codes (S72 hip, S52.5 distal radius …)
 * are not here: CLINICAL.md 1.1 reads an injury code alone as traumatic (INJURY below).
 * SNOMED CT: 359817006 closed fracture of hip and 65966004 fracture of forearm and 263102004 fracture
 * subluxation of wrist (Synthea modules/injuries.json); 5913000 fracture of neck of femur (several public
 * sources); 704330001 osteoporotic fracture of femur, 77493009 fracture of pelvis (one public source each);
 * 361118003 open fracture of hip, 91037003 / 15474008 closed / open fracture of pelvis, 13695006 fracture of
 * pubic rami, 207974008 closed fracture of sacrum, 43295006 closed fracture of humerus, 111640008 closed
 * fracture of radius, 53627009 closed fracture of radius and ulna (the BHF fracture codelist above).
 * Colles' fracture and proximal humerus fracture SNOMED CT ids: unverified, matched by text.
 */
export const NON_VERTEBRAL_FRAGILITY_FRACTURE: ValueSet = {
  codes: {
    snomed: [
      '359817006',
      '361118003',
      '5913000',
      '704330001',
      '65966004',
      '263102004',
      '111640008',
      '53627009',
      '43295006',
      '77493009',
      '91037003',
      '15474008',
      '13695006',
      '207974008',
    ],
  },
  icd10cmPrefixes: [
    ...['M80.00', 'M80.01', 'M80.02', 'M80.03', 'M80.04', 'M80.05', 'M80.06', 'M80.07', 'M80.0A'],
    ...['M80.80', 'M80.81', 'M80.82', 'M80.83', 'M80.84', 'M80.85', 'M80.86', 'M80.87', 'M80.8A'],
  ],
};

/** ICD-10-CM chapter 19 (S00–T88), injuries: a fracture coded only so is traumatic, never a fragility fracture. */
export const INJURY: ValueSet = { icd10cmPrefixes: ['S'] };

/**
 * A history of fragility fracture with no date or site: an earlier fragility fracture (CLINICAL.md 1.1).
 * ICD-10-CM Z87.310 "Personal history of (healed) osteoporosis fracture".
 */
export const FRAGILITY_FRACTURE_HISTORY: ValueSet = { icd10cmPrefixes: ['Z87.310'] };
