import { describe, expect, it } from 'vitest';
import { assess, modelSchema } from '../../src/clinical/model.ts';
import { loadModels } from '../../src/clinical/model-files.ts';
import type { Features } from '../../src/clinical/patient-facts.ts';
import { factsWith } from '../support/facts.ts';

const models = loadModels();
const rbp = models['residual-pain-risk'];
const refracture = models['refracture-risk'];

function scored(model: typeof rbp, features: Partial<Features>) {
  const a = assess(model, factsWith(features));
  return {
    points: a.points,
    tier: a.tier,
    factors: Object.fromEntries(a.factors.map((f) => [f.id, f.points])),
  };
}

describe('rbp-v1: every row of the residual back pain table (CLINICAL.md)', () => {
  it('is the model named rbp-v1 with the published tiers', () => {
    expect(rbp.id).toBe('rbp-v1');
    expect(rbp.tiers).toEqual([
      { id: 'low', minPoints: 0 },
      { id: 'intermediate', minPoints: 2 },
      { id: 'high', minPoints: 4 },
    ]);
  });

  it.each([
    ['depression', { depression: true }, 2],
    ['bmd', { lowestTScore: -3.5 }, 2],
    ['bmd', { lowestTScore: -4.1 }, 2],
    ['bmd', { lowestTScore: -3.4 }, 1],
    ['bmd', { lowestTScore: -2.5 }, 1],
    ['multiple-levels', { fracturedLevelCount: 2 }, 1],
    ['multiple-levels', { fracturedLevelCount: 4 }, 1],
    ['diabetes', { diabetes: true }, 1],
    ['no-anti-osteoporosis-drug', { noAntiOsteoporosisDrug: true }, 1],
    ['intravertebral-cleft', { intravertebralCleft: true }, 2],
    ['fascia-injury', { fasciaInjury: true }, 2],
    ['cement-maldistribution', { cementMaldistribution: true }, 1],
    ['cement-leakage', { cementLeakage: true }, 2],
  ] as const)('%s scores %#', (id, features, points) => {
    const result = scored(rbp, features);
    expect(result.factors).toEqual({ [id]: points });
    expect(result.points).toBe(points);
  });

  it.each([
    ['T-score above -2.5', { lowestTScore: -2.4 }],
    ['one level', { fracturedLevelCount: 1 }],
    [
      'female, old, smoker and on steroids (not in this model)',
      { female: true, age: 90, currentSmoker: true, systemicGlucocorticoid: true },
    ],
  ] as const)('does not score %s', (_, features) => {
    expect(scored(rbp, features).points).toBe(0);
  });

  it.each([
    [0, 'low', {}],
    [1, 'low', { diabetes: true }],
    [2, 'intermediate', { depression: true }],
    [3, 'intermediate', { depression: true, diabetes: true }],
    [4, 'high', { depression: true, lowestTScore: -3.6 }],
    [
      9,
      'high',
      {
        depression: true,
        lowestTScore: -3.6,
        diabetes: true,
        fracturedLevelCount: 2,
        intravertebralCleft: true,
        noAntiOsteoporosisDrug: true,
      },
    ],
  ] as const)('%i points is %s', (points, tier, features) => {
    expect(scored(rbp, features)).toMatchObject({ points, tier });
  });

  it('marks the no-drug weight provisional and cites Yu 2023', () => {
    const a = assess(rbp, factsWith({ noAntiOsteoporosisDrug: true }));
    expect(a.factors[0]).toMatchObject({
      provisional: true,
      citation: { doi: '10.3389/fsurg.2023.1119393' },
    });
  });

  it('cites Mao 2024 for very low BMD and Deng 2023 for low BMD', () => {
    expect(assess(rbp, factsWith({ lowestTScore: -3.8 })).factors[0]).toMatchObject({
      citation: { short: 'Mao 2024' },
      oddsRatio: { value: 5.05, ci: [1.87, 13.62] },
    });
    expect(assess(rbp, factsWith({ lowestTScore: -2.8 })).factors[0]).toMatchObject({
      citation: { short: 'Deng 2023' },
      oddsRatio: { value: 2.7, ci: [1.42, 5.02] },
    });
  });
});

describe('refracture-v1: every row of the re-fracture table (CLINICAL.md)', () => {
  it('is the model named refracture-v1 with the published tiers', () => {
    expect(refracture.id).toBe('refracture-v1');
    expect(refracture.tiers.map((t) => [t.id, t.minPoints])).toEqual([
      ['low', 0],
      ['moderate', 3],
      ['high', 6],
    ]);
  });

  it.each([
    ['prior-fragility-fracture', { priorFragilityFracture: true }, 3],
    ['glucocorticoid', { systemicGlucocorticoid: true }, 2],
    ['no-anti-osteoporosis-drug', { noAntiOsteoporosisDrug: true }, 2],
    ['thoracolumbar-junction', { thoracolumbarJunction: true }, 2],
    ['bmd', { lowestTScore: -2.5 }, 1],
    ['bmd', { lowestTScore: -2.9 }, 1],
    ['bmd', { lowestTScore: -3.0 }, 2],
    ['age', { age: 70 }, 1],
    ['age', { age: 79 }, 1],
    ['age', { age: 80 }, 2],
    ['age', { age: 95 }, 2],
    ['female', { female: true }, 1],
    ['multiple-levels', { fracturedLevelCount: 2 }, 1],
    ['diabetes', { diabetes: true }, 1],
    ['smoker', { currentSmoker: true }, 1],
    ['intravertebral-cleft', { intravertebralCleft: true }, 2],
    ['solid-lump-cement', { solidLumpCement: true }, 2],
  ] as const)('%s scores %#', (id, features, points) => {
    const result = scored(refracture, features);
    expect(result.factors).toEqual({ [id]: points });
  });

  it.each([
    ['age 69', { age: 69 }],
    ['T-score -2.4', { lowestTScore: -2.4 }],
    ['depression (not in this model)', { depression: true }],
    ['cement leakage (not in this model)', { cementLeakage: true }],
  ] as const)('does not score %s', (_, features) => {
    expect(scored(refracture, features).points).toBe(0);
  });

  it.each([
    [2, 'low', { noAntiOsteoporosisDrug: true }],
    [3, 'moderate', { priorFragilityFracture: true }],
    [5, 'moderate', { priorFragilityFracture: true, systemicGlucocorticoid: true }],
    [6, 'high', { priorFragilityFracture: true, systemicGlucocorticoid: true, female: true }],
  ] as const)('%i points is %s', (points, tier, features) => {
    expect(scored(refracture, features)).toMatchObject({ points, tier });
  });
});

describe('the engine', () => {
  it('lists factors whose data are missing as not assessed, and does not score them', () => {
    const a = assess(
      refracture,
      factsWith({ lowestTScore: undefined, currentSmoker: undefined, intravertebralCleft: undefined }),
    );
    expect(a.notAssessed).toEqual(['bmd', 'smoker', 'intravertebral-cleft']);
    expect(a.points).toBe(0);
  });

  it('treats a non-finite number as missing data rather than scoring it', () => {
    const a = assess(refracture, factsWith({ age: Number.NaN }));
    expect(a.notAssessed).toContain('age');
  });

  it('shows unscored context factors of the model when present', () => {
    const a = assess(rbp, factsWith({ anxiety: true, bmi: 17.9, age: 74 }));
    expect(a.shown).toEqual([
      { id: 'anxiety', value: true },
      { id: 'age', value: 74 },
      { id: 'bmi', value: 17.9 },
    ]);
    expect(assess(rbp, factsWith({ bmi: 24 })).shown.map((s) => s.id)).not.toContain('bmi');
  });

  it('follows a model file: changing a weight needs no code change', () => {
    const heavier = modelSchema.parse({
      ...refracture,
      factors: refracture.factors.map((f) =>
        f.id === 'female' ? { ...f, rule: { type: 'present', points: 4 } } : f,
      ),
    });
    expect(assess(heavier, factsWith({ female: true }))).toMatchObject({ points: 4, tier: 'moderate' });
  });

  it('rejects a model file whose tiers are out of order or whose factor ids repeat', () => {
    expect(
      modelSchema.safeParse({
        ...rbp,
        tiers: [
          { id: 'low', minPoints: 0 },
          { id: 'high', minPoints: 0 },
        ],
      }).success,
    ).toBe(false);
    expect(modelSchema.safeParse({ ...rbp, factors: [...rbp.factors, rbp.factors[0]] }).success).toBe(false);
    expect(
      modelSchema.safeParse({ ...rbp, factors: [{ ...rbp.factors[0], feature: 'shoeSize' }] }).success,
    ).toBe(false);
  });
});
