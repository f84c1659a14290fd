/**
 * How a calibrated model's figures read, in the card's language: the probability as a percentage with
 * its interval, and the cohort and validation the calibration rests on. Shared by the risk cards, the
 * picture of a risk and the model page.
 */
import type { Calibration, Probability } from '../clinical/calibration.ts';
import type { Model } from '../clinical/model.ts';
import { fill, type Wording } from './wording.ts';

/** `34%`, `4.2%`, `<0.1%`: one decimal under 10%, so that a small risk does not read as 0%. */
export function percentText(p: number): string {
  const percent = p * 100;
  if (percent < 0.1) return '<0.1%';
  if (percent > 99.9) return '>99.9%';
  return percent < 10 || percent > 90 ? `${percent.toFixed(1)}%` : `${Math.round(percent)}%`;
}

export function probabilityValues(probability: Probability): Record<string, string> {
  return {
    percent: percentText(probability.estimate),
    low: percentText(probability.ci[0]),
    high: percentText(probability.ci[1]),
  };
}

const figure = (value: number) => value.toFixed(2);

/** The values the calibration sentences fill in. */
export function calibrationValues(
  model: Model,
  local: Calibration,
  wording: Wording,
): Record<string, string> {
  const { validation, cohort } = local;
  return {
    model: model.id,
    version: model.version,
    method: wording.local.methods[local.method],
    patients: String(cohort.patients),
    events: String(cohort.events),
    date: local.fittedAt.slice(0, 10),
    auc: `${figure(validation.auc.estimate)}${fill(wording.values.aside, { value: `${figure(validation.auc.ci[0])}–${figure(validation.auc.ci[1])}` })}`,
    aucCorrected: figure(validation.optimismCorrectedAuc),
    slope: figure(validation.calibrationSlope),
    resamples: String(validation.bootstrapResamples),
  };
}
