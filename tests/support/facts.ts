/** PatientFacts for engine and card tests: every factor assessed and absent, unless overridden. */
import type { Features, PatientFacts } from '../../src/clinical/patient-facts.ts';

export const baselineFeatures: Features = {
  age: 60,
  female: false,
  depression: false,
  anxiety: false,
  diabetes: false,
  lowestTScore: -1.0,
  bmi: 23,
  fracturedLevelCount: 1,
  noAntiOsteoporosisDrug: false,
  priorFragilityFracture: false,
  systemicGlucocorticoid: false,
  thoracolumbarJunction: false,
  currentSmoker: false,
  intravertebralCleft: false,
  fasciaInjury: false,
  cementMaldistribution: false,
  cementLeakage: false,
  solidLumpCement: false,
};

export function factsWith(features: Partial<Features>, extra: Partial<PatientFacts> = {}): PatientFacts {
  return {
    asOf: '2026-11-22',
    features: { ...baselineFeatures, ...features },
    tScores: [],
    depressionDiagnosed: false,
    vertebralFractures: [{ levels: ['L4'] }],
    augmentations: [],
    indexLevels: ['L4'],
    hasSpineDisease: true,
    hasPriorAugmentation: false,
    antiOsteoporosis: [],
    nonPreventing: [],
    glucocorticoids: [],
    dxaOrdered: false,
    phq9Ordered: false,
    draft: { glucocorticoids: [], antiOsteoporosis: [] },
    ignored: [],
    textMatches: [],
    ...extra,
  };
}
