/**
 * The clinical vocabulary shared by the pure core: what we read (PatientRecord), what we conclude
 * (PatientFacts), and the flat feature vector the model files are written against.
 */
import type {
  Condition,
  Medication,
  MedicationAdministration,
  MedicationRequest,
  MedicationStatement,
  Observation,
  Patient,
  Procedure,
  Resource,
  ServiceRequest,
} from 'fhir/r4';

/** The FHIR data of one patient, gathered from prefetch and the FHIR server, unfiltered. */
export interface PatientRecord {
  patient?: Patient;
  observations: Observation[];
  conditions: Condition[];
  procedures: Procedure[];
  medications: Array<MedicationRequest | MedicationStatement | MedicationAdministration>;
  /** Medication resources that medication entries may reference (e.g. `_include`d); contained ones are read in place. */
  medicationResources: Medication[];
  /** Orders already placed (active), so that we do not suggest what is already ordered. */
  serviceRequests: ServiceRequest[];
  /** order-sign only: the orders being signed (context.draftOrders entries). */
  draftOrders: Resource[];
}

/** Normalised vertebral level, e.g. `C7`, `T12`, `L3`, `S1`. */
export type VertebralLevel = `${'C' | 'T' | 'L' | 'S'}${number}`;

export type DxaSite = 'lumbar-spine' | 'spine' | 'total-hip' | 'femoral-neck' | 'forearm';

export interface TScore {
  site: DxaSite;
  value: number;
  /** ISO date (YYYY-MM-DD) of the measurement. */
  date: string;
}

export type AugmentationKind = 'vertebroplasty' | 'kyphoplasty';

export interface Augmentation {
  kind: AugmentationKind;
  /** ISO date, when known. */
  date?: string;
  levels: VertebralLevel[];
  /** How we recognised it: a known CPT code, or the procedure's text (no verified SNOMED CT id exists). */
  matchedBy: 'cpt' | 'text';
}

export type AntiOsteoporosisDrug =
  | 'alendronate'
  | 'risedronate'
  | 'ibandronate'
  | 'zoledronic-acid'
  | 'denosumab'
  | 'raloxifene'
  | 'teriparatide'
  | 'abaloparatide'
  | 'romosozumab'
  | 'calcitonin';

export type Glucocorticoid =
  | 'prednisone'
  | 'prednisolone'
  | 'methylprednisolone'
  | 'dexamethasone'
  | 'hydrocortisone';

export interface DrugUse<D extends string> {
  drug: D;
  status: 'active' | 'stopped';
  /** ISO date of the latest evidence of use: a dose given, a prescription authored, a statement's period. */
  lastDate?: string;
  /** ISO date of the first evidence of use. */
  firstDate?: string;
}

/** Why a resource, or part of it, did not count. Never holds identifiers: type, reason, and a code at most. */
export interface IgnoredData {
  resourceType: string;
  reason: string;
}

/**
 * A concept recognised from free text because no known code was present, so that a clinician can check
 * it. Holds no text from the record: the resource type and what was recognised (e.g. `vertebral-fracture`,
 * `augmentation:kyphoplasty`, `anti-osteoporosis:alendronate`).
 */
export interface TextMatch {
  resourceType: string;
  concept: string;
}

/**
 * The feature vector the model files refer to. `undefined` means "could not be assessed" (data
 * missing); `false`/`0` means assessed and absent.
 */
export interface Features {
  age?: number;
  female?: boolean;
  depression?: boolean;
  anxiety?: boolean;
  diabetes?: boolean;
  /** Lowest DXA T-score, any site, in the 2 years before `asOf`. */
  lowestTScore?: number;
  bmi?: number;
  /** Distinct vertebral levels fractured, augmented, or being augmented in the draft order. */
  fracturedLevelCount?: number;
  noAntiOsteoporosisDrug?: boolean;
  priorFragilityFracture?: boolean;
  systemicGlucocorticoid?: boolean;
  thoracolumbarJunction?: boolean;
  currentSmoker?: boolean;
  intravertebralCleft?: boolean;
  fasciaInjury?: boolean;
  cementMaldistribution?: boolean;
  cementLeakage?: boolean;
  solidLumpCement?: boolean;
  kyphosis?: boolean;
  paraspinalFattyDegeneration?: boolean;
  cementNotTouchingEndplates?: boolean;
  unilateralApproach?: boolean;
}

export type FeatureId = keyof Features;

export interface PatientFacts {
  /** ISO date the facts were computed for. */
  asOf: string;
  features: Features;
  tScores: TScore[];
  bmi?: { value: number; date: string; derived: boolean };
  /** Latest PHQ-9 total in the last 12 months. */
  phq9?: { value: number; date: string };
  vertebralFractures: Array<{ levels: VertebralLevel[]; date?: string }>;
  augmentations: Augmentation[];
  /** Levels of the index fracture: the draft order's, else those of the newest fracture or augmentation naming any. */
  indexLevels: VertebralLevel[];
  /** An osteoporotic vertebral compression fracture, or a prior PVP/PKP, is on record. */
  hasSpineDisease: boolean;
  antiOsteoporosis: Array<DrugUse<AntiOsteoporosisDrug>>;
  glucocorticoids: Array<DrugUse<Glucocorticoid>>;
  /** Denosumab last dose more than 7 months before `asOf` with no other anti-resorptive started since. */
  denosumabGap?: { lastDose: string; monthsSince: number };
  /** A DXA scan is already ordered (active ServiceRequest or draft order). */
  dxaOrdered: boolean;
  /** A PHQ-9 is already ordered (active ServiceRequest or draft order). */
  phq9Ordered: boolean;
  draft: {
    augmentation?: Augmentation;
    glucocorticoids: Glucocorticoid[];
    antiOsteoporosis: AntiOsteoporosisDrug[];
  };
  ignored: IgnoredData[];
  /** What was recognised from text alone (no known code). Optional so that older producers still type-check. */
  textMatches?: TextMatch[];
}
