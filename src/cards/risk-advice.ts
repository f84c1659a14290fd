/**
 * What each risk card advises (CLINICAL.md 1.1, "What the cards advise"), by tier and by what the record
 * shows: the lowest tier of a model gets the usual advice, the tiers above it the full advice, the
 * highest tier its additions. Tiers are read by position in the model file, not by name.
 */
import { type Assessment, type Model, tierPosition } from '../clinical/model.ts';
import type { PatientFacts } from '../clinical/patient-facts.ts';
import { fill, type Wording } from './wording.ts';

/** Depression: a diagnosis to optimise, a PHQ-9 score to act on, or a screen to do (none in 12 months). */
function depressionAdvice(facts: PatientFacts, wording: Wording): string[] {
  const advice = wording.cards['residual-pain-risk'].advice;
  if (facts.depressionDiagnosed) return [advice.depressionCoded];
  if (facts.phq9 && facts.features.depression) {
    return [fill(advice.depressionByScore, { value: facts.phq9.value, date: facts.phq9.date })];
  }
  return facts.phq9 ? [] : [advice.phq9Screen];
}

/** Before PVP/PKP. With a spine MRI being ordered, its own advice leads the card and the MRI line is not repeated. */
export function residualPainAdvice(
  model: Model,
  assessment: Assessment,
  facts: PatientFacts,
  wording: Wording,
): string[] {
  const advice = wording.cards['residual-pain-risk'].advice;
  const position = tierPosition(model, assessment);
  if (position === 'lowest') return [advice.usual];
  const mriOrdered = facts.draft.spineImaging?.modality === 'MRI';
  return [
    ...(mriOrdered ? [] : [advice.mri]),
    advice.cement,
    ...depressionAdvice(facts, wording),
    advice.rehabilitation,
    ...(position === 'highest' ? [advice.consent, advice.otherCause] : []),
  ];
}

export function refractureAdvice(model: Model, assessment: Assessment, wording: Wording): string[] {
  const advice = wording.cards['refracture-risk'].advice;
  const position = tierPosition(model, assessment);
  if (position === 'lowest') return [advice.keepTreating];
  return [
    advice.treatNow,
    ...(position === 'highest' ? [advice.anabolic] : []),
    advice.followUp,
    advice.falls,
  ];
}
