/**
 * The clinical vocabulary shared by the pure core: what we read (PatientRecord), what we conclude
 * (PatientFacts), and the flat feature vector the model files are written against.
 */
import type {
  Condition,
  Medication,
  MedicationAdministration,
  MedicationDispense,
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
  medications: Array<MedicationRequest | MedicationStatement | MedicationAdministration | MedicationDispense>;
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
  /** CPT add-on lines ("each additional level", 22512/22515) that name no level: one more level each. */
  additionalLevels: number;
  /** How we recognised it: a known CPT or ICD-10-PCS code, or the procedure's text (no verified SNOMED CT id). */
  matchedBy: 'cpt' | 'icd10pcs' | 'text';
}

/** A spine MRI or CT being ordered: usually the work-up before PVP/PKP. */
export interface SpineImaging {
  modality: 'MRI' | 'CT';
}

/**
 * The situation of the case report (seed 003): augmentation again at a level already cemented, or a new
 * fracture recorded at a cemented level after its augmentation.
 */
export interface RepeatAugmentation {
  reason: 'ordered-again' | 'new-fracture';
  levels: VertebralLevel[];
  /** ISO date of the earlier augmentation at those levels, when known. */
  augmentedOn?: string;
}

/** Fracture-preventing drugs (CLINICAL.md 1.1, "Treatment coverage"). */
export type AntiOsteoporosisDrug =
  | 'alendronate'
  | 'risedronate'
  | 'ibandronate'
  | 'zoledronic-acid'
  | 'denosumab'
  | 'raloxifene'
  | 'bazedoxifene'
  | 'teriparatide'
  | 'abaloparatide'
  | 'romosozumab';

/** Often prescribed after an OVCF, but never coverage: they do not prevent fractures. */
export type NonPreventingDrug =
  | 'calcitonin'
  | 'calcium'
  | 'vitamin-d'
  | 'calcitriol'
  | 'alfacalcidol'
  | 'herbal';

export type Glucocorticoid =
  | 'prednisone'
  | 'prednisolone'
  | 'methylprednisolone'
  | 'dexamethasone'
  | 'hydrocortisone'
  | 'cortisone'
  | 'betamethasone'
  | 'triamcinolone'
  | 'deflazacort';

export type EvidenceSource = 'order' | 'statement' | 'dispense' | 'administration';

/** A drug's most recent evidence: of use, or of a stop (a stopped or on-hold order or statement). */
export interface LastEvidence {
  /** ISO date. */
  date: string;
  source: EvidenceSource;
  stopped: boolean;
}

/** A fracture-preventing drug on record: whether it covers the patient now, and its most recent evidence. */
export interface TreatmentUse {
  drug: AntiOsteoporosisDrug;
  covered: boolean;
  last: LastEvidence;
}

/** A drug that does not prevent fractures, in current use: the treatment-gap card names it. */
export interface NonPreventingUse {
  drug: NonPreventingDrug;
  last: LastEvidence;
}

/** Systemic exposure to one glucocorticoid in the 12 months before `asOf`. */
export interface GlucocorticoidExposure {
  drug: Glucocorticoid;
  /** Days covered in the last 12 months (union of orders, statements, doses and dispenses that count). */
  days: number;
  /** 90 days or more. */
  longTerm: boolean;
}

/** A systemic glucocorticoid in the orders being signed. */
export interface DraftGlucocorticoid {
  drug: Glucocorticoid;
  /** The planned course in days, when the draft states it. */
  plannedDays?: number;
  singleDose: boolean;
  /** Not a single dose and not a course of 14 days or less: the order warning applies. */
  warns: boolean;
  /** Planned for 90 days or more, or not stated: counts as long-term "if continued for 3 months or more". */
  longTermIfContinued: boolean;
}

/** Why a resource, or part of it, did not count: a key the card wording translates, never free text. */
export type IgnoreReason =
  | 'not-a-resource'
  | 'unexpected-type'
  | 'unreadable'
  | 'status'
  | 'verification-status'
  | 'not-confirmed'
  | 'not-active'
  | 'in-remission'
  | 'future-date'
  | 'duplicate'
  | 'no-value'
  | 'not-a-number'
  | 'no-date'
  | 'implausible'
  | 'unit-unknown'
  | 'not-systemic'
  | 'single-dose'
  | 'short-course'
  | 'low-dose'
  | 'no-prior-augmentation'
  | 'extraction-failed';

/** Imaging findings the models read, by their feature names. */
export type ImagingFinding =
  | 'intravertebralCleft'
  | 'fasciaInjury'
  | 'cementMaldistribution'
  | 'cementLeakage'
  | 'solidLumpCement'
  | 'paraspinalFattyDegeneration'
  | 'cementNotTouchingEndplates'
  | 'kyphosis';

/** What a record was about, for the wording: a measurement, a diagnosis, a procedure, a drug class, a finding. */
export type IgnoredTopic =
  | 'tScore'
  | 'bmi'
  | 'bodyWeight'
  | 'bodyHeight'
  | 'phq9'
  | 'depression'
  | 'anxiety'
  | 'diabetes'
  | 'longTermSteroids'
  | 'vertebralFracture'
  | 'augmentation'
  | 'glucocorticoid'
  | ImagingFinding;

/** Why a resource, or part of it, did not count. Never holds identifiers: type, reason, topic, a FHIR status code at most. */
export interface IgnoredData {
  resourceType: string;
  reason: IgnoreReason;
  topic?: IgnoredTopic;
  /** The FHIR status code, for `status`, `verification-status` and `not-confirmed`. */
  status?: string;
}

/**
 * A concept recognised from free text because no known code was present, so that a clinician can check
 * it. Holds no text from the record: the resource type and what was recognised.
 */
export interface TextMatch {
  resourceType: string;
  concept:
    | { kind: 'vertebral-fracture' | 'fragility-fracture' | 'dxa-order' | 'phq9-order' | 'spine-imaging' }
    | { kind: 'augmentation'; augmentation: AugmentationKind }
    | { kind: 'drug'; drug: AntiOsteoporosisDrug | NonPreventingDrug | Glucocorticoid }
    | { kind: 'finding'; finding: ImagingFinding };
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
  /** An active, confirmed depression diagnosis not in remission (the PHQ-9 is the other way to the factor). */
  depressionDiagnosed: boolean;
  vertebralFractures: Array<{ levels: VertebralLevel[]; date?: string }>;
  augmentations: Augmentation[];
  /** Levels of the index fracture: the draft order's, else those of the newest fracture or augmentation naming any. */
  indexLevels: VertebralLevel[];
  /** An osteoporotic vertebral compression fracture, or a prior PVP/PKP, is on record. */
  hasSpineDisease: boolean;
  /** A PVP/PKP is on record: the re-fracture model applies (its evidence comes from augmented cohorts). */
  hasPriorAugmentation: boolean;
  /** Fracture-preventing drugs on record, each with its coverage now (CLINICAL.md 1.1 windows). */
  antiOsteoporosis: TreatmentUse[];
  /** Drugs that do not prevent fractures, in current use. */
  nonPreventing: NonPreventingUse[];
  /** Systemic glucocorticoid exposure in the last 12 months, per drug. */
  glucocorticoids: GlucocorticoidExposure[];
  /** Denosumab last used more than 7 months before `asOf` with no other anti-resorptive started since. */
  denosumabGap?: { lastDose: string; monthsSince: number };
  /** Augmentation again at a cemented level, or a new fracture at one. */
  repeatAugmentation?: RepeatAugmentation;
  /** A DXA scan is already ordered (active ServiceRequest or draft order). */
  dxaOrdered: boolean;
  /** A PHQ-9 is already ordered (active ServiceRequest or draft order). */
  phq9Ordered: boolean;
  draft: {
    augmentation?: Augmentation;
    spineImaging?: SpineImaging;
    glucocorticoids: DraftGlucocorticoid[];
    antiOsteoporosis: AntiOsteoporosisDrug[];
  };
  ignored: IgnoredData[];
  /** What was recognised from text alone (no known code). */
  textMatches: TextMatch[];
}
