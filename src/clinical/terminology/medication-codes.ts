/**
 * Medication vocabulary: fracture-preventing drugs, drugs often given after an OVCF that do not prevent
 * fractures, systemic glucocorticoids with their prednisone equivalents, and the routes and dose forms
 * that tell a systemic glucocorticoid from a cream or an inhaler (CLINICAL.md 1.1). RxNorm codes are
 * listed only where they were checked (the folder README); other drugs are recognised by name.
 */
import type { AntiOsteoporosisDrug, Glucocorticoid, NonPreventingDrug } from '../patient-facts.ts';

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
 * Fracture-preventing drugs. Ingredient codes: CLINICAL.md (zoledronic acid 77655 also seen as an RxNorm
 * Ingredient in a public OHDSI concept set). Product codes: 904419 alendronic acid 10 MG Oral Tablet and
 * 904420 Alendronic acid 10 MG [Fosamax] (Synthea), 904421 Fosamax 10 MG tablet (OHDSI vocabulary docs);
 * all others: openFDA NDC directory (`openfda.rxcui` of the named product): 904431 alendronate 70 mg;
 * 905024/905028/905083 risedronate 35/75 mg; 705824/705875 Reclast; 993452/993456 Prolia;
 * 1490065/1490067 Evista; 1435115/1435117/2716408 teriparatide/Forteo/Bonsity. 1114085 zoledronic acid
 * 0.04 MG/ML injection (Synthea breast cancer module); 1441392 bazedoxifene 20 MG / conjugated estrogens
 * oral tablet (a VSAC expansion). No RxNorm ingredient code of teriparatide, abaloparatide, romosozumab
 * or bazedoxifene could be checked: they are matched by name.
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
    productCodes: ['705824', '705875', '1114085'],
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
    drug: 'bazedoxifene',
    ingredientCodes: [],
    productCodes: ['1441392'],
    names: ['bazedoxifene', 'Conbriza', 'Duavee'],
    chineseNames: ['巴多昔芬'],
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
];

/** Anti-resorptives that end the denosumab rebound when started after its last dose (ECTS 2017). */
export const BISPHOSPHONATES: readonly AntiOsteoporosisDrug[] = [
  'alendronate',
  'risedronate',
  'ibandronate',
  'zoledronic-acid',
];

/**
 * Often prescribed after an OVCF, never coverage (CLINICAL.md 1.1): calcitonin (a short-term analgesic),
 * calcium, vitamin D and its active forms, and herbal medicines. Product codes 308866 / 213570: calcitonin
 * salmon injection / Miacalcin (openFDA NDC directory). Ingredients 1897 calcium carbonate, 2418
 * cholecalciferol, 11253 vitamin D (US Core allergy-substance value set). Bare "calcium" is not a name
 * here, nor 钙片: both are also the salt of other drugs (atorvastatin calcium, 阿托伐他汀钙片).
 */
export const NON_PREVENTING_DRUGS: readonly DrugDefinition<NonPreventingDrug>[] = [
  {
    drug: 'calcitonin',
    ingredientCodes: [],
    productCodes: ['308866', '213570'],
    names: ['calcitonin', 'calcitonin salmon', 'salmon calcitonin', 'elcatonin', 'Miacalcin', 'Fortical'],
    chineseNames: ['鲑降钙素', '依降钙素', '降钙素', '密盖息', '金尔力'],
  },
  {
    drug: 'calcium',
    ingredientCodes: ['1897'],
    productCodes: [],
    names: [
      'calcium carbonate',
      'calcium citrate',
      'calcium gluconate',
      'calcium lactate',
      'Caltrate',
      'Os-Cal',
      'Citracal',
    ],
    chineseNames: ['钙尔奇', '碳酸钙', '枸橼酸钙', '葡萄糖酸钙', '乳酸钙'],
  },
  {
    drug: 'vitamin-d',
    ingredientCodes: ['2418', '11253'],
    productCodes: [],
    names: ['cholecalciferol', 'colecalciferol', 'ergocalciferol', 'vitamin D', 'vitamin D2', 'vitamin D3'],
    chineseNames: ['维生素D', '维生素 D', '维生素D2', '维生素D3', '胆骨化醇'],
  },
  {
    drug: 'calcitriol',
    ingredientCodes: [],
    productCodes: [],
    names: ['calcitriol', 'Rocaltrol'],
    chineseNames: ['骨化三醇', '罗盖全'],
  },
  {
    drug: 'alfacalcidol',
    ingredientCodes: [],
    productCodes: [],
    names: ['alfacalcidol', 'One-Alpha', 'Alpha D3'],
    chineseNames: ['阿法骨化醇'],
  },
  {
    drug: 'herbal',
    ingredientCodes: [],
    productCodes: [],
    names: [],
    chineseNames: ['仙灵骨葆', '骨疏康', '金天格', '强骨胶囊'],
  },
];

/**
 * Systemic glucocorticoids (CLINICAL.md 1.1). Ingredient codes: CLINICAL.md; cortisone 2878, betamethasone
 * 1514, triamcinolone 10759 (US Core allergy-substance value set); deflazacort unchecked, matched by name.
 * Product codes: 312615 / 312617 prednisone 20 / 5 MG oral tablets (Synthea); the oral tablets and
 * solutions below from a VSAC "Glucocorticoids (oral only)" expansion; 1116927 dexamethasone phosphate
 * 4 MG/ML injectable solution (public OMOP data dictionaries). Whether a product is systemic is decided
 * by its route or dose form, not by being listed here (NON_SYSTEMIC_PRODUCTS).
 * Chinese: 泼尼松/强的松 prednisone, 泼尼松龙/强的松龙 prednisolone, 甲泼尼龙/甲强龙/美卓乐 methylprednisolone,
 * 可的松 cortisone (氢化可的松 is hydrocortisone: longer names are matched first).
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
    productCodes: ['198142', '249066', '312614', '283077'],
    names: ['prednisolone', 'Orapred', 'Millipred'],
    chineseNames: ['泼尼松龙', '强的松龙'],
  },
  {
    drug: 'methylprednisolone',
    ingredientCodes: ['6902'],
    productCodes: ['259966', '762675', '197969', '197973', '328161', '197971'],
    names: ['methylprednisolone', 'methyl prednisolone', 'Medrol', 'Solu-Medrol', 'Depo-Medrol'],
    chineseNames: ['甲泼尼龙', '甲基泼尼松龙', '甲强龙', '美卓乐'],
  },
  {
    drug: 'dexamethasone',
    ingredientCodes: ['3264'],
    productCodes: ['197577', '197579', '197580', '197581', '197582', '197583', '1116927'],
    names: ['dexamethasone', 'Decadron'],
    chineseNames: ['地塞米松'],
  },
  {
    drug: 'hydrocortisone',
    ingredientCodes: ['5492'],
    productCodes: ['197787', '197783', '106258'],
    names: ['hydrocortisone', 'Cortef', 'Solu-Cortef'],
    chineseNames: ['氢化可的松'],
  },
  {
    drug: 'cortisone',
    ingredientCodes: ['2878'],
    productCodes: ['828248'],
    names: ['cortisone', 'cortisone acetate'],
    chineseNames: ['醋酸可的松', '可的松'],
  },
  {
    drug: 'betamethasone',
    ingredientCodes: ['1514'],
    productCodes: [],
    names: ['betamethasone', 'Celestone', 'Diprospan'],
    chineseNames: ['倍他米松', '得宝松'],
  },
  {
    drug: 'triamcinolone',
    ingredientCodes: ['10759'],
    productCodes: ['1085728'],
    names: ['triamcinolone', 'triamcinolone acetonide', 'Kenalog', 'Aristospan'],
    chineseNames: ['曲安奈德', '曲安西龙', '去炎松'],
  },
  {
    drug: 'deflazacort',
    ingredientCodes: [],
    productCodes: [],
    names: ['deflazacort', 'Emflaza', 'Calcort'],
    chineseNames: ['地夫可特'],
  },
];

/** Prednisone-equivalent mg per mg of each glucocorticoid (CLINICAL.md 1.1), to compare doses. */
export const PREDNISONE_EQUIVALENT: Readonly<Record<Glucocorticoid, number>> = {
  prednisone: 1,
  prednisolone: 1,
  methylprednisolone: 1.25,
  triamcinolone: 1.25,
  dexamethasone: 6.67,
  betamethasone: 8.33,
  hydrocortisone: 0.25,
  cortisone: 0.2,
  deflazacort: 0.83,
};

/** Phrases removed before drug names are matched, so that they cannot be read as a drug. */
export const NOT_A_DRUG_NAME = /calcitonin[\s-]+gene[\s-]+related[\s-]+peptide|降钙素原|procalcitonin/gi;

export type RouteClass = 'systemic' | 'non-systemic';

/**
 * Glucocorticoid products that are not systemic whatever else the entry says: 106258 Hydrocortisone 10
 * MG/ML Topical Cream (Synthea), 1085728 triamcinolone acetonide oral paste (a VSAC expansion).
 */
export const NON_SYSTEMIC_PRODUCTS: readonly string[] = ['106258', '1085728'];

/**
 * SNOMED CT route codes (FHIR R4 SNOMEDCTRouteCodes; each seen in the R4 and R5 expansions or US Core),
 * as systemic or not for a glucocorticoid (CLINICAL.md 1.1: oral, intravenous, intramuscular or
 * intralesional depot are systemic; eye, ear, nose, inhaled, skin and rectal are not). Intra-articular is
 * read as local; epidural and intradermal are left to the dose form.
 */
export const ROUTE_CODES: Readonly<Record<string, RouteClass>> = {
  '26643006': 'systemic', // Oral route
  '47625008': 'systemic', // Intravenous route
  '78421000': 'systemic', // Intramuscular route
  '34206005': 'systemic', // Subcutaneous route
  '372466002': 'systemic', // Intralesional route
  '37839007': 'systemic', // Sublingual route
  '6064005': 'non-systemic', // Topical route
  '448598008': 'non-systemic', // Cutaneous route
  '45890007': 'non-systemic', // Transdermal route
  '46713006': 'non-systemic', // Nasal route
  '54485002': 'non-systemic', // Ophthalmic route
  '10547007': 'non-systemic', // Otic route
  '447694001': 'non-systemic', // Respiratory tract route (inhaled)
  '447081004': 'non-systemic', // Lower respiratory tract route
  '37161004': 'non-systemic', // Per rectum
  '16857009': 'non-systemic', // Per vagina
  '54471007': 'non-systemic', // Buccal route
  '12130007': 'non-systemic', // Intra-articular route
};

/** Routes that are injections or infusions: an ibandronate injection is the 3-monthly IV regimen. */
export const PARENTERAL_ROUTE_CODES: readonly string[] = ['47625008', '78421000', '34206005'];

/**
 * Dose forms (Medication.form): SNOMED CT (FHIR R4 medication-form-codes, UK Core) and HL7 v3
 * orderableDrugForm codes, for when a form is coded without words.
 */
export const DOSE_FORM_CODES: Readonly<Record<string, RouteClass>> = {
  '385055001': 'systemic', // Tablet
  '421026006': 'systemic', // Oral tablet
  '385049006': 'systemic', // Capsule
  '420692007': 'systemic', // Oral capsule
  '385023001': 'systemic', // Oral solution
  '385219001': 'systemic', // Solution for injection
  '385220007': 'systemic', // Suspension for injection
  '385223009': 'systemic', // Powder for solution for injection
  '421637006': 'systemic', // Lyophilized powder for injectable solution
  '385229008': 'systemic', // Solution for infusion
  '385099005': 'non-systemic', // Cream
  '421628006': 'non-systemic', // Cutaneous cream
  '385101003': 'non-systemic', // Ointment
  '385100002': 'non-systemic', // Gel
  '421949005': 'non-systemic', // Cutaneous gel
  '17519006': 'non-systemic', // Lotion
  '385124005': 'non-systemic', // Eye drops
  '385136004': 'non-systemic', // Ear drops
  '385157007': 'non-systemic', // Nasal spray
  '385159005': 'non-systemic', // Nasal spray suspension
  '420317006': 'non-systemic', // Inhaler
  '385207009': 'non-systemic', // Inhalation powder
  '420641004': 'non-systemic', // Inhalation solution
  '420705007': 'non-systemic', // Inhalation aerosol suspension
  '385194003': 'non-systemic', // Suppository
  '385114002': 'non-systemic', // Transdermal patch
  TAB: 'systemic',
  ORTAB: 'systemic',
  CAP: 'systemic',
  ORCAP: 'systemic',
  CRM: 'non-systemic',
  OINT: 'non-systemic',
  GEL: 'non-systemic',
  LTN: 'non-systemic',
  NASSPRY: 'non-systemic',
  MDINHL: 'non-systemic',
  SUPP: 'non-systemic',
  TPATCH: 'non-systemic',
};

/** Injection and infusion dose forms (SNOMED CT, above). */
export const PARENTERAL_FORM_CODES: readonly string[] = [
  '385219001',
  '385220007',
  '385223009',
  '421637006',
  '385229008',
];

/** Routes named in a route's text or display, and dose forms named in a product's name or form. */
export const SYSTEMIC_ROUTE_OR_FORM =
  /\b(oral(ly)?|by\s+mouth|p\.?o\.?|intravenous(ly)?|i\.?v\.?|intramuscular(ly)?|i\.?m\.?|subcutaneous(ly)?|s\.?c\.?|intralesional|sublingual|tablets?|caplets?|capsules?|injections?|injectable|infusion|oral\s+(solution|suspension|syrup)|elixir)\b|口服|静脉|静滴|静注|肌注|肌内注射|皮下注射|病灶内|舌下|片|胶囊|注射液|注射用|针剂|口服液/i;

export const NON_SYSTEMIC_ROUTE_OR_FORM =
  /\b(topical(ly)?|cutaneous|creams?|ointments?|lotions?|gels?|foam|inhal\w*|nebuli[sz]\w*|nasal(ly)?|intranasal|nose|ophthalmic|eye|otic|auricular|ear|rectal(ly)?|per\s+rectum|enemas?|suppositor\w*|vaginal|transdermal|patch|intra-?articular|dental|oromucosal|buccal|mouthwash|paste)\b|外用|乳膏|软膏|凝胶|洗剂|滴眼|眼用|眼膏|滴耳|鼻喷|喷鼻|鼻用|吸入|雾化|气雾剂|关节腔|关节内|栓剂|直肠|灌肠|贴剂|贴片|口腔/i;

/** Parenteral words: an ibandronate injection is the 3-monthly IV regimen, not the oral one. */
export const PARENTERAL_ROUTE_OR_FORM =
  /\b(intravenous(ly)?|i\.?v\.?|injections?|injectable|infusion|prefilled\s+syringe)\b|静脉|静滴|注射/i;
