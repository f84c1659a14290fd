/**
 * Terminology as data: every code list the clinical rules use, with its source next to it.
 *
 * Matching is by system + code. The text patterns at the end of this file are the fallbacks that
 * CLINICAL.md asks for (procedures, drug names, vertebral fractures written only as text, imaging
 * findings that have no standard code); the facts layer records every use of a fallback.
 * "unverified" marks a code that could not be checked against a public source here. Where a wrong code
 * could make a risk factor appear or vanish (RxNorm ingredients, SNOMED CT procedures and findings), it is
 * left out and the concept is matched by text; where it only adds detail (the vertebra an ICD-10-CM code
 * names), it is kept and marked.
 * This file is longer than most because it is data.
 */
import type {
  AntiOsteoporosisDrug,
  AugmentationKind,
  DxaSite,
  Glucocorticoid,
} from '../clinical/patient-facts.ts';

/** System URIs exactly as CLINICAL.md gives them. */
export const SYSTEMS = {
  loinc: 'http://loinc.org',
  snomed: 'http://snomed.info/sct',
  icd10cm: 'http://hl7.org/fhir/sid/icd-10-cm',
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

/** Whether one coding belongs to the value set (system + code; ICD-10-CM by prefix). */
export function codingInValueSet(coding: CodingLike, valueSet: ValueSet): boolean {
  const { system, code } = coding;
  if (typeof system !== 'string' || typeof code !== 'string' || code.trim() === '') return false;
  if (system === SYSTEMS.icd10cm && valueSet.icd10cmPrefixes) {
    const normalised = normaliseIcd10(code);
    if (valueSet.icd10cmPrefixes.some((prefix) => normalised.startsWith(normaliseIcd10(prefix)))) return true;
  }
  for (const key of Object.keys(SYSTEMS) as CodeSystemKey[]) {
    if (system === SYSTEMS[key] && valueSet.codes?.[key]?.includes(code.trim())) return true;
  }
  return false;
}

// ── Observations (LOINC; source: CLINICAL.md) ───────────────────────────────────────────────────

/** DXA T-score LOINC codes and the site each stands for. 38265-5 is radius+ulna; Synthea uses it as a generic T-score. */
export const DXA_TSCORE_SITES: Readonly<Record<string, DxaSite>> = {
  '38267-1': 'lumbar-spine',
  '104938-6': 'spine',
  '38264-8': 'total-hip',
  '80945-9': 'total-hip',
  '80946-7': 'total-hip',
  '38263-0': 'femoral-neck',
  '80947-5': 'femoral-neck',
  '80948-3': 'femoral-neck',
  '38265-5': 'forearm',
};

export const LOINC = {
  bmi: '39156-5',
  bodyWeight: '29463-7',
  bodyHeight: '8302-2',
  phq9Total: '44261-6',
  phq9Panel: '44249-1',
  tobaccoSmokingStatus: '72166-2',
} as const;

/**
 * Answers to LOINC 72166-2 (SNOMED CT). Source: the C-CDA/ONC smoking status value set as carried by
 * public code (MDHT CurrentSmokingStatus validator; OpenEMR smoking_status list), and Synthea.
 * 77176002 "Smoker, current status unknown" is read as a current smoker (brief).
 */
export const SMOKING_STATUS_ANSWERS: Readonly<Record<string, 'current' | 'former' | 'never' | 'unknown'>> = {
  '449868002': 'current', // Current every day smoker
  '428041000124106': 'current', // Current some day smoker
  '77176002': 'current', // Smoker, current status unknown
  '428071000124103': 'current', // Current heavy tobacco smoker
  '428061000124105': 'current', // Current light tobacco smoker
  '8517006': 'former', // Ex-smoker
  '266919005': 'never', // Never smoked tobacco
  '266927001': 'unknown', // Unknown if ever smoked
};

/**
 * SNOMED CT qualifier values used as the answer of a finding Observation. Source: public FHIR IGs and code
 * (e.g. a qualifier-value ValueSet listing Positive/Detected/Negative/Not detected; Present/Absent pairs).
 */
export const PRESENCE_ANSWERS: Readonly<Record<string, boolean>> = {
  '52101004': true, // Present
  '10828004': true, // Positive
  '260373001': true, // Detected
  '2667000': false, // Absent
  '260385009': false, // Negative
  '260415000': false, // Not detected
};

// ── Conditions (source: CLINICAL.md unless noted) ───────────────────────────────────────────────

export const DEPRESSION: ValueSet = {
  codes: { snomed: ['35489007', '370143000', '36923009', '66344007'] },
  icd10cmPrefixes: ['F32', 'F33'],
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
 * ICD-10-CM: M80.0[0-7]* / M80.8[0-7]* (osteoporosis with pathological fracture, non-vertebral sites),
 * S72.0–S72.2 (femoral neck, trochanteric, subtrochanteric), S52.5 (distal radius, incl. Colles and Smith),
 * S42.2 (proximal humerus), S32.1/S32.3/S32.4/S32.5/S32.8 (sacrum, ilium, acetabulum, pubis, other pelvis;
 * coccyx S32.2 left out).
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
    ...['M80.00', 'M80.01', 'M80.02', 'M80.03', 'M80.04', 'M80.05', 'M80.06', 'M80.07'],
    ...['M80.80', 'M80.81', 'M80.82', 'M80.83', 'M80.84', 'M80.85', 'M80.86', 'M80.87'],
    ...['S72.0', 'S72.1', 'S72.2', 'S52.5', 'S42.2'],
    ...['S32.1', 'S32.3', 'S32.4', 'S32.5', 'S32.8'],
  ],
};

// ── Procedures and orders ───────────────────────────────────────────────────────────────────────

/** PVP/PKP by CPT (CLINICAL.md). SNOMED CT ids for these procedures: unverified, matched by text. */
export const AUGMENTATION_CPT: Readonly<Record<string, AugmentationKind>> = {
  '22510': 'vertebroplasty',
  '22511': 'vertebroplasty',
  '22512': 'vertebroplasty',
  '22513': 'kyphoplasty',
  '22514': 'kyphoplasty',
  '22515': 'kyphoplasty',
};

/** DXA scan: CPT 77080 (CLINICAL.md); SNOMED 312681000 "Bone density scan" (Synthea modules/osteoporosis.json). */
export const DXA_ORDER: ValueSet = { codes: { cpt: ['77080'], snomed: ['312681000'] } };

/** PHQ-9 panel and total (CLINICAL.md). */
export const PHQ9_ORDER: ValueSet = { codes: { loinc: [LOINC.phq9Panel, LOINC.phq9Total] } };

// ── Medications (RxNorm) ────────────────────────────────────────────────────────────────────────

export interface DrugDefinition<D extends string> {
  readonly drug: D;
  /** RxNorm ingredient (IN) codes. */
  readonly ingredientCodes: readonly string[];
  /** RxNorm product (SCD/SBD/SBDC) codes seen in public data for this ingredient. */
  readonly productCodes: readonly string[];
  /** Generic, acid/salt and brand names, matched as whole words, case-insensitive. */
  readonly names: readonly string[];
  /** Chinese names, matched as substrings. */
  readonly chineseNames: readonly string[];
}

/**
 * Anti-osteoporosis drugs. Ingredient codes: CLINICAL.md (zoledronic acid 77655 also seen as an RxNorm
 * Ingredient in a public OHDSI concept set). Ingredient codes of teriparatide, abaloparatide, romosozumab and
 * calcitonin: unverified, left out; these are matched by product code or by name.
 * Product codes: 904419 alendronic acid 10 MG Oral Tablet and 904420 Alendronic acid 10 MG [Fosamax]
 * (Synthea), 904421 Fosamax 10 MG tablet (OHDSI vocabulary docs); all others: openFDA NDC directory
 * (`openfda.rxcui` of the named product): 904431 alendronate 70 mg; 905024/905028/905083 risedronate
 * 35/75 mg; 705824/705875 Reclast; 993452/993456 Prolia; 1490065/1490067 Evista; 1435115/1435117/2716408
 * teriparatide/Forteo/Bonsity; 308866/213570 calcitonin salmon injection/Miacalcin. Abaloparatide (Tymlos)
 * and romosozumab (Evenity) product codes: unverified.
 * Names: CLINICAL.md, plus other brand and Chinese names of the same ingredients.
 */
export const ANTI_OSTEOPOROSIS_DRUGS: readonly DrugDefinition<AntiOsteoporosisDrug>[] = [
  {
    drug: 'alendronate',
    ingredientCodes: ['46041'],
    productCodes: ['904419', '904420', '904421', '904431'],
    names: ['alendronate', 'alendronic acid', 'alendronate sodium', 'Fosamax', 'Binosto'],
    chineseNames: ['阿仑膦酸钠', '阿仑膦酸', '福善美'],
  },
  {
    drug: 'risedronate',
    ingredientCodes: ['73056'],
    productCodes: ['905024', '905028', '905083'],
    names: ['risedronate', 'risedronic acid', 'risedronate sodium', 'Actonel', 'Atelvia'],
    chineseNames: ['利塞膦酸钠', '利塞膦酸'],
  },
  {
    drug: 'ibandronate',
    ingredientCodes: ['115264'],
    productCodes: [],
    names: ['ibandronate', 'ibandronic acid', 'ibandronate sodium', 'Boniva', 'Bonviva'],
    chineseNames: ['伊班膦酸钠', '伊班膦酸'],
  },
  {
    drug: 'zoledronic-acid',
    ingredientCodes: ['77655'],
    productCodes: ['705824', '705875'],
    names: ['zoledronic acid', 'zoledronate', 'Reclast', 'Aclasta', 'Zometa'],
    chineseNames: ['唑来膦酸', '密固达'],
  },
  {
    drug: 'denosumab',
    ingredientCodes: ['993449'],
    productCodes: ['993452', '993456'],
    names: ['denosumab', 'Prolia', 'Xgeva'],
    chineseNames: ['地舒单抗', '狄诺塞麦', '迪诺塞麦'],
  },
  {
    drug: 'raloxifene',
    ingredientCodes: ['72143'],
    productCodes: ['1490065', '1490067'],
    names: ['raloxifene', 'raloxifene hydrochloride', 'Evista'],
    chineseNames: ['雷洛昔芬'],
  },
  {
    drug: 'teriparatide',
    ingredientCodes: [],
    productCodes: ['1435115', '1435117', '2716408'],
    names: ['teriparatide', 'Forteo', 'Forsteo', 'Bonsity'],
    chineseNames: ['特立帕肽'],
  },
  {
    drug: 'abaloparatide',
    ingredientCodes: [],
    productCodes: [],
    names: ['abaloparatide', 'Tymlos', 'Eladynos'],
    chineseNames: ['阿巴洛肽'],
  },
  {
    drug: 'romosozumab',
    ingredientCodes: [],
    productCodes: [],
    names: ['romosozumab', 'Evenity'],
    chineseNames: ['罗莫佐单抗', '罗莫索单抗', '罗莫单抗'],
  },
  {
    drug: 'calcitonin',
    ingredientCodes: [],
    productCodes: ['308866', '213570'],
    names: ['calcitonin', 'calcitonin salmon', 'salmon calcitonin', 'elcatonin', 'Miacalcin', 'Fortical'],
    chineseNames: ['降钙素', '依降钙素'],
  },
];

/** Anti-resorptives that end the denosumab rebound when started after its last dose. */
export const BISPHOSPHONATES: readonly AntiOsteoporosisDrug[] = [
  'alendronate',
  'risedronate',
  'ibandronate',
  'zoledronic-acid',
];

/**
 * Systemic glucocorticoids. Ingredient codes: CLINICAL.md. Product codes 312615 / 312617 (prednisone oral
 * tablets; two public sources disagree on which strength is which, both are prednisone).
 * Chinese: 泼尼松/强的松 prednisone, 泼尼松龙/强的松龙 prednisolone, 甲泼尼龙/甲强龙/美卓乐 methylprednisolone.
 */
export const GLUCOCORTICOIDS: readonly DrugDefinition<Glucocorticoid>[] = [
  {
    drug: 'prednisone',
    ingredientCodes: ['8640'],
    productCodes: ['312615', '312617'],
    names: ['prednisone', 'Deltasone', 'Rayos'],
    chineseNames: ['泼尼松', '强的松'],
  },
  {
    drug: 'prednisolone',
    ingredientCodes: ['8638'],
    productCodes: [],
    names: ['prednisolone', 'Orapred', 'Millipred'],
    chineseNames: ['泼尼松龙', '强的松龙'],
  },
  {
    drug: 'methylprednisolone',
    ingredientCodes: ['6902'],
    productCodes: [],
    names: ['methylprednisolone', 'methyl prednisolone', 'Medrol', 'Solu-Medrol', 'Depo-Medrol'],
    chineseNames: ['甲泼尼龙', '甲基泼尼松龙', '甲强龙', '美卓乐'],
  },
  {
    drug: 'dexamethasone',
    ingredientCodes: ['3264'],
    productCodes: [],
    names: ['dexamethasone', 'Decadron'],
    chineseNames: ['地塞米松'],
  },
  {
    drug: 'hydrocortisone',
    ingredientCodes: ['5492'],
    productCodes: [],
    names: ['hydrocortisone', 'Cortef', 'Solu-Cortef'],
    chineseNames: ['氢化可的松'],
  },
];

/** Glucocorticoid products that are not systemic: 106258 Hydrocortisone 10 MG/ML Topical Cream (Synthea). */
export const NON_SYSTEMIC_GLUCOCORTICOID_PRODUCTS: readonly string[] = ['106258'];

/** Phrases removed before drug names are matched, so that they cannot be read as a drug. */
export const NOT_A_DRUG_NAME = /calcitonin[\s-]+gene[\s-]+related[\s-]+peptide|降钙素原/gi;

/** A non-systemic form or route of a glucocorticoid, read in the drug's text, form, route and dosage text. */
export const NON_SYSTEMIC_FORM =
  /\b(topical|cream|ointment|lotion|gel|inhal\w*|nebuli[sz]\w*|nasal|intranasal|ophthalmic|eye\s*drops?|otic|ear\s*drops?|intra-?articular|rectal|enema|suppositor\w*|dental|oromucosal|cutaneous|transdermal)\b|乳膏|软膏|外用|滴眼|眼用|眼膏|滴耳|鼻喷|喷鼻|吸入|雾化|关节腔|栓/i;

/**
 * How long one dose or a completed order keeps a patient covered, in days. Denosumab: 6 months plus one
 * month of grace (the same 7 months after which a gap is flagged); zoledronic acid: 12 months plus one.
 */
export const INTERVAL_DRUG_COVER_DAYS: Readonly<Partial<Record<AntiOsteoporosisDrug, number>>> = {
  denosumab: 213,
  'zoledronic-acid': 395,
};

// ── Text fallbacks ──────────────────────────────────────────────────────────────────────────────

/** PVP/PKP named in text; kyphoplasty is tested first. */
export const AUGMENTATION_TEXT: readonly { kind: AugmentationKind; pattern: RegExp }[] = [
  { kind: 'kyphoplasty', pattern: /kyphoplast|\bPKP\b|椎体后凸成形|后凸成形|球囊扩张椎体成形/i },
  { kind: 'vertebroplasty', pattern: /vertebroplast|\bPVP\b|椎体成形/i },
];

export const UNILATERAL_TEXT = /\bunilateral(ly)?\b|单侧/i;
export const BILATERAL_TEXT = /\bbilateral(ly)?\b|双侧/i;

/** A vertebral fracture named in text (a Chinese EHR often codes nothing). */
export const VERTEBRAL_FRACTURE_TEXT =
  /\b(vertebral|vertebra|vertebrae|spine|spinal|lumbar|thoracic|compression)\s+(\w+\s+){0,2}fractures?\b|\bfractures?\s+of\s+(the\s+)?(\w+\s+){0,2}(vertebra|vertebrae|vertebral\s+(column|body)|spine)\b|\bOVCFs?\b|\bVCFs?\b|椎[^，。,;；、]{0,6}骨折|压缩性?骨折/i;

/** Any fracture named in text: with a vertebral level it makes a vertebral fracture. */
export const FRACTURE_TEXT = /\bfractures?\b|骨折/i;

/** A vertebra named without a level: tells a site-less osteoporotic fracture code that it is vertebral. */
export const VERTEBRA_TEXT = /\b(vertebra|vertebrae|vertebral|spine|spinal)\b|椎/i;

export const NON_VERTEBRAL_FRAGILITY_FRACTURE_TEXT =
  /\b(hip|femoral\s+neck|neck\s+of\s+(the\s+)?femur|intertrochanteric|trochanteric|colles'?|distal\s+radius|distal\s+radial|wrist|proximal\s+humer(us|al)|pelvic|pelvis|sacral\s+insufficiency|fragility|osteoporotic)\s+(\w+\s+){0,2}fractures?\b|髋部骨折|股骨颈骨折|股骨粗隆间骨折|转子间骨折|桡骨远端骨折|colles骨折|肱骨近端骨折|骨盆骨折|骶骨骨折|脆性骨折|骨质疏松性骨折/i;

/** A negation just before a finding: "no cement leakage", "未见骨水泥渗漏". */
export const NEGATION_BEFORE =
  /(\b(no|not|without|negative\s+for|rule\s+out|r\/o|absence\s+of|free\s+of)\b[\s\w,-]{0,30}|(无|未见|未发现|未|排除|否认|没有)[^，。,;；]{0,10})$/i;

/** An Observation's text answer about presence. */
export const PRESENT_TEXT = /^\s*(yes|y|present|positive|true|detected|有|是|阳性|存在)\s*$/i;
export const ABSENT_TEXT = /^\s*(no|n|absent|negative|false|not\s+detected|none|无|否|阴性|未见|不存在)\s*$/i;

export type ImagingFinding =
  | 'intravertebralCleft'
  | 'fasciaInjury'
  | 'cementMaldistribution'
  | 'cementLeakage'
  | 'solidLumpCement'
  | 'paraspinalFattyDegeneration'
  | 'cementNotTouchingEndplates'
  | 'kyphosis';

/** Imaging findings: codes where one exists (kyphosis only), else text in English and Chinese. */
export const IMAGING_FINDINGS: readonly { finding: ImagingFinding; valueSet?: ValueSet; text: RegExp }[] = [
  {
    finding: 'intravertebralCleft',
    text: /intra-?vertebral\s+(vacuum\s+)?cleft|vacuum\s+cleft|k[üu]mmell?'?s?\s+(disease|sign)|\bk[üu]mmell?\b|椎体内(真空)?裂隙|真空裂隙|裂隙征|kümmell病|库美尔病/i,
  },
  {
    finding: 'fasciaInjury',
    text: /(thoracolumbar|lumbodorsal)\s+fascia[l]?\s+(injury|injuries|edema|oedema|damage|tear|strain)|fascia[l]?\s+(injury|edema|oedema)\s+of\s+the\s+(thoracolumbar|lumbodorsal)|胸腰筋膜(损伤|水肿|挫伤)|腰背筋膜(损伤|水肿|挫伤)/i,
  },
  {
    finding: 'cementMaldistribution',
    text: /cement\s+maldistribution|(uneven|poor|inadequate|asymmetric(al)?|unbalanced)\s+(bone\s+)?cement\s+(distribution|filling)|cement\s+distribution\s+(was\s+|is\s+)?(uneven|poor|inadequate|asymmetric(al)?)|骨水泥分布不(均|良|佳|满意)|骨水泥弥散不(均|良|佳)/i,
  },
  {
    finding: 'cementLeakage',
    text: /cement\s+(leakage|leak|leaks|extravasation)|leakage\s+of\s+(bone\s+)?cement|骨水泥(渗漏|外漏|泄漏|渗出)/i,
  },
  {
    finding: 'solidLumpCement',
    text: /(solid[\s-]*lump|clumped|clumping|lump[\s-]*like|mass[\s-]*like|bulky)\s+(bone\s+)?cement|cement\s+(clump|clumps|clumping|lump|lumps)|骨水泥.{0,6}团块|团块[状样].{0,6}(骨水泥|分布)/i,
  },
  {
    finding: 'paraspinalFattyDegeneration',
    text: /(paraspinal|paravertebral|multifidus|erector\s+spinae)\s+(muscles?\s+)?(fatty\s+(degeneration|infiltration|atrophy)|fat\s+infiltration)|fatty\s+(degeneration|infiltration)\s+of\s+(the\s+)?(paraspinal|paravertebral|multifidus)|椎旁肌(肉)?脂肪(浸润|变性|化)|多裂肌脂肪(浸润|变性|化)/i,
  },
  {
    finding: 'cementNotTouchingEndplates',
    text: /cement\s+(did\s+)?not\s+(touch|reach|contact)(ing)?\s+(both\s+|the\s+)?(upper\s+and\s+lower\s+)?end-?\s?plates?|\bNPEC\b|骨水泥未(接触|触及|达到?)(上下)?(双侧)?终板/i,
  },
  { finding: 'kyphosis', valueSet: KYPHOSIS, text: /\bkyphosis\b|\bkyphotic\s+deformity\b|后凸畸形|驼背/i },
];

/** Findings about cement: they count only after a prior augmentation. */
export const CEMENT_FINDINGS: readonly ImagingFinding[] = [
  'cementMaldistribution',
  'cementLeakage',
  'solidLumpCement',
  'cementNotTouchingEndplates',
];

export const DXA_TEXT = /\b(DXA|DEXA)\b|bone\s+(mineral\s+)?densit(y|ometry)|骨密度|双能X线/i;
export const PHQ9_TEXT = /\bPHQ-?9\b|患者健康问卷/i;
