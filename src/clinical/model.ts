/**
 * The scoring engine: a model file (data) evaluated against patient features. Pure: no I/O.
 * Changing a weight, a threshold or a tier is a change of the model file, never of this code.
 */
import { z } from 'zod';
import {
  calibrationSchema,
  levelOf,
  outcomeOfKind,
  type Probability,
  parameterCount,
  probability,
} from './calibration.ts';
import type { FeatureId, Features, PatientFacts } from './patient-facts.ts';

const featureIds = [
  'age',
  'female',
  'depression',
  'anxiety',
  'diabetes',
  'lowestTScore',
  'bmi',
  'fracturedLevelCount',
  'noAntiOsteoporosisDrug',
  'priorFragilityFracture',
  'systemicGlucocorticoid',
  'thoracolumbarJunction',
  'currentSmoker',
  'intravertebralCleft',
  'fasciaInjury',
  'cementMaldistribution',
  'cementLeakage',
  'solidLumpCement',
  'kyphosis',
  'paraspinalFattyDegeneration',
  'cementNotTouchingEndplates',
  'unilateralApproach',
] as const satisfies readonly FeatureId[];

const oddsRatioSchema = z.object({
  value: z.number().positive().optional(),
  ci: z.tuple([z.number().positive(), z.number().positive()]).optional(),
  /** Keys the card wording translates (`year`, `bmd-unit-higher`; `same-level-re-collapse`). */
  per: z.string().optional(),
  note: z.string().optional(),
});

const citationSchema = z.object({
  short: z.string().min(1),
  /** A key the card wording translates (`meta-analysis`). */
  design: z.string().optional(),
  doi: z.string().optional(),
  pmid: z.string().optional(),
  reference: z.string().optional(),
});

const bandSchema = z
  .object({
    min: z.number().optional(),
    max: z.number().optional(),
    below: z.number().optional(),
    points: z.number().int().nonnegative().default(0),
    oddsRatio: oddsRatioSchema.optional(),
    citation: citationSchema.optional(),
  })
  .refine((b) => b.min !== undefined || b.max !== undefined || b.below !== undefined, {
    message: 'a band needs min, max or below',
  });

const ruleSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('present'), points: z.number().int().nonnegative().default(0) }),
  z.object({ type: z.literal('bands'), bands: z.array(bandSchema).min(1) }),
]);

/** What a clinician can do about a factor; the card wording names and explains each. */
export const modifiableActions = [
  'treatment',
  'depression-care',
  'glucocorticoid-review',
  'smoking-cessation',
] as const;
export type ModifiableAction = (typeof modifiableActions)[number];

const factorSchema = z.object({
  id: z.string().regex(/^[a-z][a-z0-9-]*$/),
  feature: z.enum(featureIds),
  rule: ruleSchema,
  provisional: z.boolean().optional(),
  /** Present when acting on the factor could lower the risk. */
  modifiable: z.enum(modifiableActions).optional(),
  oddsRatio: oddsRatioSchema,
  citation: citationSchema,
});

export const riskKinds = ['residual-pain-risk', 'refracture-risk'] as const;
export type RiskKind = (typeof riskKinds)[number];

export const modelSchema = z
  .object({
    id: z.string().regex(/^[a-z][a-z0-9-]*-v\d+$/),
    kind: z.enum(riskKinds),
    title: z.string(),
    version: z.string(),
    pointsRule: z.string(),
    calibration: z.string(),
    tiers: z.array(z.object({ id: z.string(), minPoints: z.number().int() })).min(1),
    factors: z.array(factorSchema).min(1),
    shownNotScored: z.array(factorSchema.omit({ oddsRatio: true, citation: true })).default([]),
    /** Present when the model was fitted or recalibrated on a hospital's cohort (calibration.ts). */
    local: calibrationSchema.optional(),
  })
  .refine((m) => m.tiers[0]?.minPoints === 0, { message: 'the first tier must start at 0 points' })
  .refine((m) => m.tiers.every((t, i) => i === 0 || t.minPoints > (m.tiers[i - 1]?.minPoints ?? 0)), {
    message: 'tiers must be in increasing order of minPoints',
  })
  .refine((m) => new Set(m.factors.map((f) => f.id)).size === m.factors.length, {
    message: 'factor ids must be unique',
  })
  .refine((m) => !m.local || m.local.outcome === outcomeOfKind(m.kind), {
    message: 'local.outcome must be the outcome of the model kind',
  })
  .refine(
    (m) =>
      m.local?.method !== 'fitted' ||
      (new Set(m.local.coefficients.map((c) => c.factor)).size === m.local.coefficients.length &&
        m.local.coefficients.every((c) => m.factors.some((f) => f.id === c.factor))),
    { message: 'local.coefficients must name distinct factors of the model' },
  )
  .refine(
    (m) => {
      const n = m.local ? parameterCount(m.local) : 0;
      return (
        !m.local || (m.local.covariance.length === n && m.local.covariance.every((row) => row.length === n))
      );
    },
    {
      message:
        'local.covariance must be square, one row per parameter (intercept, then coefficients or slope)',
    },
  );

export type Model = z.infer<typeof modelSchema>;
type Rule = z.infer<typeof ruleSchema>;
type OddsRatio = z.infer<typeof oddsRatioSchema>;
type Citation = z.infer<typeof citationSchema>;

export interface ScoredFactor {
  id: string;
  points: number;
  /** The patient's value that matched (a T-score, an age, a level count, or `true`). */
  value: number | boolean;
  oddsRatio: OddsRatio;
  citation: Citation;
  provisional: boolean;
}

export interface Assessment {
  kind: RiskKind;
  model: string;
  points: number;
  tier: string;
  /** Factors present in this patient, with their points (greater than zero). */
  factors: ScoredFactor[];
  /** Factors whose data were missing, so they could not count. */
  notAssessed: string[];
  /** Factors of the model that are shown for context but carry no points. */
  shown: Array<{ id: string; value: number | boolean }>;
}

interface RuleMatch {
  points: number;
  oddsRatio?: OddsRatio;
  citation?: Citation;
}

function matchRule(rule: Rule, value: number | boolean): RuleMatch | undefined {
  if (rule.type === 'present') return value === true ? { points: rule.points } : undefined;
  if (typeof value !== 'number') return undefined;
  return rule.bands.find(
    (b) =>
      (b.min === undefined || value >= b.min) &&
      (b.max === undefined || value <= b.max) &&
      (b.below === undefined || value < b.below),
  );
}

function featureValue(features: Features, id: FeatureId): number | boolean | undefined {
  const value = features[id];
  return typeof value === 'number' && !Number.isFinite(value) ? undefined : value;
}

/**
 * Where an assessment's tier sits in its model: the lowest, the highest, or between. Advice and
 * indicators go by position, not by tier name, so a model file may name its tiers as it likes.
 */
export function tierPosition(model: Model, assessment: Assessment): 'lowest' | 'middle' | 'highest' {
  const index = model.tiers.findIndex((tier) => tier.id === assessment.tier);
  if (index <= 0) return 'lowest';
  return index === model.tiers.length - 1 ? 'highest' : 'middle';
}

export function assess(model: Model, facts: PatientFacts): Assessment {
  const factors: ScoredFactor[] = [];
  const notAssessed: string[] = [];
  for (const factor of model.factors) {
    const value = featureValue(facts.features, factor.feature);
    if (value === undefined) {
      notAssessed.push(factor.id);
      continue;
    }
    const match = matchRule(factor.rule, value);
    if (!match || match.points === 0) continue;
    factors.push({
      id: factor.id,
      points: match.points,
      value,
      oddsRatio: match.oddsRatio ?? factor.oddsRatio,
      citation: match.citation ?? factor.citation,
      provisional: factor.provisional ?? false,
    });
  }
  const shown: Assessment['shown'] = [];
  for (const factor of model.shownNotScored) {
    const value = featureValue(facts.features, factor.feature);
    if (value !== undefined && matchRule(factor.rule, value)) shown.push({ id: factor.id, value });
  }
  const points = factors.reduce((sum, f) => sum + f.points, 0);
  const tier = model.tiers.findLast((t) => points >= t.minPoints)?.id ?? model.tiers[0]?.id ?? 'low';
  return { kind: model.kind, model: model.id, points, tier, factors, notAssessed, shown };
}

/**
 * The absolute probability of the outcome for a calibrated model (undefined for a model with relative
 * tiers only): each factor's covariate is its level, from the points it earned; factors that did not
 * count, or could not be assessed, are 0.
 */
export function assessmentProbability(
  model: Model,
  factors: ReadonlyArray<{ id: string; points: number }>,
): Probability | undefined {
  if (!model.local) return undefined;
  const levels = new Map<string, number>();
  for (const factor of factors) {
    const modelFactor = model.factors.find((f) => f.id === factor.id);
    if (modelFactor) levels.set(factor.id, levelOf(modelFactor, factor.points));
  }
  return probability(model.local, model.factors, levels);
}
