/** Observation codes: DXA T-scores, body measurements, PHQ-9, smoking status, answers (LOINC, SNOMED CT). */
import type { DxaSite } from '../patient-facts.ts';

/**
 * DXA T-score LOINC codes and the site each stands for (CLINICAL.md). 38265-5 is radius+ulna; Synthea uses
 * it as a generic T-score; 80943-4 / 80944-2 are the right / left radius and ulna (a VSAC expansion). A code here counts as the Observation's code or as any component's code (DXA
 * panels report each site as a component).
 */
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
  '80943-4': 'forearm',
  '80944-2': 'forearm',
};

/**
 * DXA panels whose components may carry T-scores, asked for in prefetch so that a panel-only report is
 * fetched (a `code` search matches the Observation's own code, not its components'). See the folder README.
 */
export const DXA_PANEL_CODES: readonly string[] = [
  '83311-1', // Bone density quantitative measurement by DXA panel (US Core DXA report example)
  '38269-7', // DXA bone densitometry (the FHIR R4 core DXA DiagnosticReport example)
];

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
