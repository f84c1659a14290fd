import { describe, expect, it } from 'vitest';
import type { CardContext } from '../../src/cards/card-frame.ts';
import {
  denosumabGapCard,
  glucocorticoidOrderCard,
  missingDxaCard,
  treatmentGapCard,
} from '../../src/cards/care-gap-cards.ts';
import { repeatAugmentationCard } from '../../src/cards/repeat-augmentation-card.ts';
import { refractureAdvice, residualPainAdvice } from '../../src/cards/risk-advice.ts';
import { renderRiskCard } from '../../src/cards/risk-card.ts';
import { serviceSuggestion } from '../../src/cards/suggested-orders.ts';
import { loadWordings } from '../../src/cards/wording.ts';
import { type Card, cardSchema } from '../../src/cds-hooks/schemas.ts';
import { assess, type Model } from '../../src/clinical/model.ts';
import { loadModels } from '../../src/clinical/model-files.ts';
import type { DraftGlucocorticoid, PatientFacts } from '../../src/clinical/patient-facts.ts';
import { factsWith } from '../support/facts.ts';

const models = loadModels();
const noProvenance = { ignored: [], textMatches: [] };
const wordings = loadWordings(Object.values(models));

function context(
  locale: 'en' | 'zh-CN' = 'en',
  data: { unreadable?: string[]; foreignRecords?: number; misfiledRecords?: number } = {},
): CardContext {
  return {
    wording: wordings[locale],
    patientId: 'p1',
    userId: 'Practitioner/dr1',
    encounterId: 'e1',
    modelUrl: (id) => `https://cds.example/models${id ? `/${id}` : ''}`,
    explainUrl: (uuid) => `https://cds.example/explain/${uuid}`,
    unreadable: data.unreadable ?? [],
    foreignRecords: data.foreignRecords ?? 0,
    misfiledRecords: data.misfiledRecords ?? 0,
  };
}

function valid(card: Card): Card {
  const parsed = cardSchema.safeParse(card);
  expect(parsed.success, parsed.success ? '' : parsed.error.message).toBe(true);
  return card;
}

/** Every key path of a JSON value, arrays counted by their presence only. */
function keyPaths(value: unknown, prefix = ''): string[] {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return [prefix];
  return Object.entries(value).flatMap(([k, v]) => keyPaths(v, `${prefix}.${k}`));
}

const draftGlucocorticoid = (fields: Partial<DraftGlucocorticoid> = {}): DraftGlucocorticoid => ({
  drug: 'prednisone',
  singleDose: false,
  warns: true,
  longTermIfContinued: true,
  ...fields,
});

describe('card wording', () => {
  it('has the same entries in English and Simplified Chinese', () => {
    expect(keyPaths(wordings['zh-CN']).sort()).toEqual(keyPaths(wordings.en).sort());
  });

  it('refuses a wording that does not translate a key a model file uses', () => {
    const model = models['refracture-risk'];
    const changed: Model = {
      ...model,
      factors: model.factors.map((f) =>
        f.id === 'age' ? { ...f, oddsRatio: { ...f.oddsRatio, per: 'decade' } } : f,
      ),
    };
    expect(() => loadWordings([changed])).toThrow(/does not translate: oddsRatio\.per\.decade/);
  });
});

const rbp = models['residual-pain-risk'];
const refractureModel = models['refracture-risk'];

describe('risk cards', () => {
  const facts = factsWith({
    depression: true,
    lowestTScore: -3.7,
    diabetes: true,
    fracturedLevelCount: 2,
    intravertebralCleft: undefined,
  });
  const assessment = assess(rbp, facts);
  const card = (locale: 'en' | 'zh-CN' = 'en', extra: Partial<Parameters<typeof renderRiskCard>[0]> = {}) =>
    valid(
      renderRiskCard(
        { model: rbp, assessment, suggestions: [], provenance: noProvenance, advice: [], ...extra },
        context(locale),
      ),
    );

  it('states tier, points and top factors in a summary under 140 characters', () => {
    expect(card().summary).toBe(
      'Residual back pain risk after PVP/PKP: high (6 pts): Depression, Low bone density, Two or more vertebrae fractured or augmented',
    );
    expect([...card().summary].length).toBeLessThan(140);
    expect(card().indicator).toBe('warning');
  });

  it('tables the factors with points and sources, lists what was not assessed, names the model and calibration', () => {
    const detail = card().detail ?? '';
    expect(detail).toContain(
      '| Depression (diagnosis, or latest PHQ-9 ≥ 10) | yes | 2 | 3.43 | Yang 2019, [PMID 31561662](https://pubmed.ncbi.nlm.nih.gov/31561662/) |',
    );
    expect(detail).toContain(
      '| Low bone density (lowest DXA T-score, 2 years) | T −3.7 | 2 | 5.05 (1.87–13.62) | Mao 2024, 巴楚医学 7(3):41 |',
    );
    expect(detail).toContain(
      '**Not assessed (no data in the record):** Intravertebral cleft / Kümmell disease.',
    );
    expect(detail).toContain('Model rbp-v1 (version 1.1.0)');
    expect(detail).toMatch(/Tiers are relative.*local calibration/);
    expect(detail).toContain('low 0–1, intermediate 2–3, high ≥ 4');
  });

  it('names its model and version as its source, and links to the model page', () => {
    expect(card().source).toEqual({
      label: 'pvp-cds: residual back pain model rbp-v1 (version 1.1.0)',
      url: 'https://cds.example/models/rbp-v1',
    });
    expect(card('zh-CN').source.label).toBe('pvp-cds：椎体强化术后残余腰背痛模型 rbp-v1（版本 1.1.0）');
  });

  it('carries the machine-readable assessment', () => {
    expect(card().extension).toEqual({
      'pvp-cds.assessment': {
        kind: 'residual-pain-risk',
        model: 'rbp-v1',
        points: 6,
        tier: 'high',
        factors: [
          { id: 'depression', points: 2 },
          { id: 'bmd', points: 2 },
          { id: 'multiple-levels', points: 1 },
          { id: 'diabetes', points: 1 },
        ],
        notAssessed: ['intravertebral-cleft'],
      },
    });
  });

  it('offers override reasons on warnings and not on info cards', () => {
    expect(card().overrideReasons?.map((r) => r.code)).toEqual([
      'already-addressed',
      'patient-declined',
      'not-applicable',
      'data-incorrect',
    ]);
    const low = card('en', { assessment: assess(rbp, factsWith({})) });
    expect(low.indicator).toBe('info');
    expect(low.overrideReasons).toBeUndefined();
    expect(low.detail).toContain('No scored risk factor was found');
  });

  it('sets selectionBehavior exactly when there are suggestions', () => {
    const withSuggestion = card('en', { suggestions: [serviceSuggestion('phq9', context())] });
    expect(withSuggestion.selectionBehavior).toBe('at-most-one');
    expect(card()).not.toHaveProperty('selectionBehavior');
    expect(card()).not.toHaveProperty('suggestions');
  });

  it('renders in Simplified Chinese with the Chinese clinical terms', () => {
    const zh = card('zh-CN');
    expect(zh.summary).toMatch(
      /^椎体强化术后残余腰背痛风险：高（6 分）：抑郁、骨密度低、2 个及以上椎体骨折或已行椎体强化$/,
    );
    expect(zh.detail).toContain('| 因素 | 患者情况 | 分值 | 比值比（95% CI） | 来源 |');
    expect(zh.detail).toContain('模型 rbp-v1');
    expect(zh.detail).not.toContain('椎体成形术后');
  });

  it('leads with the imaging advice and takes the imaging summary when asked', () => {
    const texts = wordings.en.cards['residual-pain-risk'];
    const imaging = card('en', {
      lead: texts.imagingAdvice.MRI,
      summaryTemplate: texts.imagingSummary,
      indicator: 'info',
    });
    expect(imaging.detail?.startsWith('**For this MRI:** ask for a fat-suppressed (STIR) sequence')).toBe(
      true,
    );
    expect(imaging.summary).toMatch(/^Before PVP\/PKP: residual back pain risk high \(6 pts\)/);
    expect(imaging.indicator).toBe('info');
  });

  it('says which data could not be read and how many records named another patient, in words', () => {
    const en = renderRiskCard(
      { model: rbp, assessment, suggestions: [], provenance: noProvenance, advice: [] },
      context('en', { unreadable: ['medicationStatements', 'imagingFindings'], foreignRecords: 3 }),
    );
    expect(en.detail).toContain(
      '**Could not be read from the FHIR server:** medication list, imaging findings;',
    );
    expect(en.detail).toContain(
      "**Left out:** 3 record(s) naming another patient; check the EHR's data feed.",
    );
    const zh = renderRiskCard(
      { model: rbp, assessment, suggestions: [], provenance: noProvenance, advice: [] },
      context('zh-CN', { unreadable: ['medicationStatements'], foreignRecords: 3 }),
    );
    expect(zh.detail).toContain('**未能从 FHIR 服务器读取：** 用药记录；');
    expect(zh.detail).toContain('**已排除：** 3 条属于其他患者的记录未被使用');
  });

  it('keeps every summary under 140 characters even when wording is long', () => {
    const long = {
      ...context(),
      wording: {
        ...wordings.en,
        cards: {
          ...wordings.en.cards,
          'refracture-risk': { ...wordings.en.cards['refracture-risk'], summary: 'x'.repeat(200) },
        },
      },
    };
    const rendered = valid(
      renderRiskCard(
        {
          model: refractureModel,
          assessment: assess(refractureModel, facts),
          suggestions: [],
          provenance: noProvenance,
          advice: [],
        },
        long,
      ),
    );
    expect([...rendered.summary].length).toBe(139);
  });
});

describe('odds ratios and sources in the table', () => {
  const facts = factsWith({ lowestTScore: -3.2, age: 82, priorFragilityFracture: true });
  const render = (locale: 'en' | 'zh-CN') =>
    renderRiskCard(
      {
        model: refractureModel,
        assessment: assess(refractureModel, facts),
        suggestions: [],
        provenance: noProvenance,
        advice: [],
      },
      context(locale),
    ).detail ?? '';

  it('shows the BMD odds ratio so that lower bone density reads as higher risk', () => {
    expect(render('en')).toContain(
      '| 0.74, per unit higher bone density: the lower the bone density, the higher the risk |',
    );
    expect(render('zh-CN')).toContain('| 0.74、骨密度每升高 1 个单位（骨密度越低，风险越高） |');
  });

  it('translates "per year" and the study design', () => {
    expect(render('en')).toContain('1.09 (1.02–1.17), per year of age | Liu 2025 (meta-analysis), [doi:');
    expect(render('zh-CN')).toContain('1.09 (1.02–1.17)、年龄每增加 1 岁 | Liu 2025（荟萃分析）');
  });
});

describe('risk advice (CLINICAL.md 1.1)', () => {
  const rbpAdvice = (features: Parameters<typeof factsWith>[0], extra: Partial<PatientFacts> = {}) => {
    const facts = factsWith(features, extra);
    return residualPainAdvice(rbp, assess(rbp, facts), facts, wordings.en);
  };

  it('gives the usual work-up at the lowest tier', () => {
    expect(rbpAdvice({})).toEqual(['Usual pre-procedure work-up; review pain at one month.']);
  });

  it('asks to assess and optimise a coded depression', () => {
    const advice = rbpAdvice({ depression: true, lowestTScore: -2.6 }, { depressionDiagnosed: true });
    expect(advice).toContain(
      'Depression is recorded: assess its severity and optimise its treatment before the procedure.',
    );
    expect(advice.join(' ')).not.toContain('screen for depression');
  });

  it('acts on a PHQ-9 of 10 or more when depression is not coded', () => {
    const advice = rbpAdvice({ depression: true }, { phq9: { value: 14, date: '2026-09-01' } });
    expect(advice).toContain(
      'The latest PHQ-9 (14, 2026-09-01) suggests depression: assess it and optimise treatment before the procedure.',
    );
  });

  it('screens with a PHQ-9 only when none was done in 12 months', () => {
    expect(rbpAdvice({ lowestTScore: -3.6 })).toContain(
      'No PHQ-9 in the last 12 months: screen for depression with a PHQ-9.',
    );
    const screened = rbpAdvice({ lowestTScore: -3.6 }, { phq9: { value: 4, date: '2026-09-01' } });
    expect(screened.join(' ')).not.toMatch(/PHQ-9|depression/i);
  });

  it('grades rehabilitation to bone quality and, at the highest tier, adds consent and other causes', () => {
    const high = rbpAdvice(
      { depression: true, lowestTScore: -3.7, diabetes: true },
      { depressionDiagnosed: true },
    );
    expect(
      high.some((a) =>
        a.startsWith(
          'Rehabilitation graded to bone quality: in severe osteoporosis, no early strenuous back-extensor exercise',
        ),
      ),
    ).toBe(true);
    expect(high).toContain('Discuss the expected residual pain with the patient before consent.');
    expect(high.at(-1)).toMatch(/^If pain persists, look for a cause other than the fracture/);
    const intermediate = rbpAdvice({ lowestTScore: -3.6 });
    expect(intermediate).not.toContain('Discuss the expected residual pain with the patient before consent.');
  });

  it('does not repeat the MRI advice when a spine MRI is what is being ordered', () => {
    const withMri = rbpAdvice(
      { lowestTScore: -3.6 },
      { draft: { glucocorticoids: [], antiOsteoporosis: [], spineImaging: { modality: 'MRI' } } },
    );
    expect(withMri.join(' ')).not.toContain('MRI with fat suppression');
    expect(rbpAdvice({ lowestTScore: -3.6 })[0]).toMatch(/^MRI with fat suppression \(STIR\)/);
  });

  it('re-fracture: follow-up at 1, 3, 6 and 12 months, no stopping on their own, falls; anabolic only at high', () => {
    const moderate = assess(refractureModel, factsWith({ noAntiOsteoporosisDrug: true, female: true }));
    expect(moderate.tier).toBe('moderate');
    expect(refractureAdvice(refractureModel, moderate, wordings.en)).toEqual([
      'Treat osteoporosis without delay, and ask the patient not to stop treatment on their own.',
      'Review at 1, 3, 6 and 12 months (most new fractures occur in the first year), with a standing X-ray or MRI for new or worse back pain.',
      'Advise against bending to lift heavy loads; assess and reduce fall risk.',
    ]);
    const high = assess(
      refractureModel,
      factsWith({ noAntiOsteoporosisDrug: true, priorFragilityFracture: true, female: true }),
    );
    expect(refractureAdvice(refractureModel, high, wordings['zh-CN'])).toEqual([
      '尽早开始抗骨质疏松药物治疗并长期坚持，嘱患者切勿自行停药。',
      '极高危者可考虑首选促骨形成药物（特立帕肽、阿巴洛肽或罗莫佐单抗）。',
      '术后 1、3、6、12 个月随访（新发骨折多发生于术后第 1 年内）；新出现或加重的腰背痛行站立位 X 线或 MRI 检查。',
      '避免弯腰搬重物，预防跌倒。',
    ]);
  });
});

describe('care-gap cards', () => {
  it('treatment gap: warning citing Conley 2020, draft MedicationRequests for the patient, alendronate recommended', () => {
    const facts = factsWith({ noAntiOsteoporosisDrug: true });
    const card = valid(treatmentGapCard(facts, context()));
    expect(card.indicator).toBe('warning');
    expect(card.source).toEqual({
      label: 'Secondary fracture prevention recommendations (Conley 2020, J Bone Miner Res)',
      url: 'https://doi.org/10.1002/jbmr.3877',
    });
    const [first] = card.suggestions ?? [];
    expect(first?.isRecommended).toBe(true);
    expect(first?.actions?.[0]?.resource).toMatchObject({
      resourceType: 'MedicationRequest',
      status: 'draft',
      intent: 'order',
      subject: { reference: 'Patient/p1' },
      requester: { reference: 'Practitioner/dr1' },
      encounter: { reference: 'Encounter/e1' },
      medicationCodeableConcept: {
        coding: [{ system: 'http://www.nlm.nih.gov/research/umls/rxnorm', code: '46041' }],
      },
    });
    expect(card.detail).toContain('Oral bisphosphonates: not with eGFR < 35 mL/min, oesophageal disease');
    expect(card.extension).toEqual({
      'pvp-cds.assessment': { kind: 'treatment-gap', factors: [], notAssessed: [] },
    });
  });

  it('treatment gap names old evidence, stops and the drugs that do not prevent fractures', () => {
    const facts = factsWith(
      { noAntiOsteoporosisDrug: true },
      {
        antiOsteoporosis: [
          {
            drug: 'alendronate',
            covered: false,
            last: { date: '2021-11-15', source: 'order', stopped: false },
          },
          {
            drug: 'risedronate',
            covered: false,
            last: { date: '2024-01-20', source: 'order', stopped: true },
          },
          {
            drug: 'zoledronic-acid',
            covered: false,
            last: { date: '2025-01-10', source: 'administration', stopped: false },
          },
        ],
        nonPreventing: [
          { drug: 'calcitonin', last: { date: '2026-10-01', source: 'order', stopped: false } },
          { drug: 'herbal', last: { date: '2026-10-01', source: 'statement', stopped: false } },
        ],
      },
    );
    const en = valid(treatmentGapCard(facts, context())).detail ?? '';
    expect(en).toContain(
      '- Last evidence of alendronate: 2021-11-15 (order); confirm the patient still takes it.',
    );
    expect(en).toContain('- Risedronate: stopped or on hold (2024-01-20).');
    expect(en).toContain('- Last dose of zoledronic acid: 2025-01-10 (given); the next dose is overdue.');
    expect(en).toContain('- Taking calcitonin (2026-10-01): for pain; it does not prevent fractures.');
    expect(en).toContain('- Taking a herbal medicine (2026-10-01): no evidence that it prevents fractures.');
    const zh = valid(treatmentGapCard(facts, context('zh-CN'))).detail ?? '';
    expect(zh).toContain('- 正在使用降钙素（2026-10-01）：用于止痛，不能预防骨折。');
    expect(zh).toContain('- 阿仑膦酸钠最近一次用药证据：2021-11-15（医嘱）；请确认患者是否仍在使用。');
    expect(zh).toContain('比值比为 2.93');
    expect(zh).not.toContain('倍');
  });

  it('treatment gap suggests nothing when a drug is already in the draft orders', () => {
    const facts = factsWith(
      { noAntiOsteoporosisDrug: true },
      { draft: { glucocorticoids: [], antiOsteoporosis: ['alendronate'] } },
    );
    expect(valid(treatmentGapCard(facts, context())).suggestions).toBeUndefined();
  });

  it('missing DXA: info card with a draft DXA ServiceRequest (CPT 77080), citing Conley 2020', () => {
    const card = valid(missingDxaCard(context()));
    expect(card.indicator).toBe('info');
    expect(card.source.url).toBe('https://doi.org/10.1002/jbmr.3877');
    expect(card.suggestions?.[0]?.actions?.[0]?.resource).toMatchObject({
      resourceType: 'ServiceRequest',
      status: 'draft',
      code: { coding: [{ system: 'http://www.ama-assn.org/go/cpt', code: '77080' }] },
    });
  });

  it('denosumab gap: critical, citing the ECTS statement, months since the last dose, resume or transition', () => {
    const card = valid(denosumabGapCard({ lastDose: '2026-02-15', monthsSince: 9 }, context()));
    expect(card.indicator).toBe('critical');
    expect(card.source).toEqual({
      label: 'ECTS position statement on stopping denosumab (Tsourdi 2017, Bone)',
      url: 'https://doi.org/10.1016/j.bone.2017.08.003',
    });
    expect(card.summary).toContain('last dose 9 months ago');
    expect(card.detail).toContain('2026-02-15');
    expect(card.suggestions?.map((s) => s.label)).toEqual([
      'Order denosumab 60 mg subcutaneously every 6 months (next dose now)',
      'Order zoledronic acid 5 mg IV once yearly',
    ]);
    expect(card.overrideReasons).toBeDefined();
    expect(
      valid(denosumabGapCard({ lastDose: '2026-02-15', monthsSince: 9 }, context('zh-CN'))).summary,
    ).toContain('有发生反弹性多发椎体骨折的风险');
  });
});

describe('glucocorticoid order card', () => {
  const uncovered = (draft: DraftGlucocorticoid, extra: Partial<PatientFacts> = {}) =>
    factsWith(
      { systemicGlucocorticoid: draft.longTermIfContinued, noAntiOsteoporosisDrug: true },
      { draft: { glucocorticoids: [draft], antiOsteoporosis: [] }, hasPriorAugmentation: true, ...extra },
    );

  it('warns, cites the ACR 2022 guideline, and scores "if continued for 3 months or more" when the course is open', () => {
    const facts = uncovered(draftGlucocorticoid());
    const card = valid(glucocorticoidOrderCard(facts, assess(refractureModel, facts), context()));
    expect(card.indicator).toBe('warning');
    expect(card.source).toEqual({
      label: 'ACR 2022 guideline on glucocorticoid-induced osteoporosis (Humphrey 2023)',
      url: 'https://doi.org/10.1002/art.42646',
    });
    expect(card.detail).toContain('This order is for prednisone');
    expect(card.detail).toContain(
      'No fracture-preventing treatment covers the patient now or is being ordered.',
    );
    expect(card.detail).toContain(
      'If continued for 3 months or more, the re-fracture risk is moderate (4 points, model refracture-v1).',
    );
    expect(card.suggestions?.length).toBe(2);
    expect(card.extension?.['pvp-cds.assessment']).toMatchObject({
      kind: 'glucocorticoid-order',
      model: 'refracture-v1',
      points: 4,
    });
  });

  it('says a course shorter than 3 months is not counted, and gives its length', () => {
    const facts = uncovered(draftGlucocorticoid({ plannedDays: 42, longTermIfContinued: false }));
    const card = valid(glucocorticoidOrderCard(facts, assess(refractureModel, facts), context()));
    expect(card.detail).toContain('Planned course: 42 days.');
    expect(card.detail).toContain(
      'This course is shorter than 3 months, so the re-fracture score does not count it: low (2 points',
    );
    expect(
      valid(glucocorticoidOrderCard(facts, assess(refractureModel, facts), context('zh-CN'))).detail,
    ).toContain('计划疗程：42 天。');
  });

  it('shows no re-fracture score for a patient without augmentation', () => {
    const facts = uncovered(draftGlucocorticoid(), { hasPriorAugmentation: false });
    const card = valid(glucocorticoidOrderCard(facts, undefined, context()));
    expect(card.detail).not.toMatch(/re-fracture risk is/);
    expect(card.extension?.['pvp-cds.assessment']).toEqual({
      kind: 'glucocorticoid-order',
      factors: [],
      notAssessed: [],
    });
  });

  it('with bone protection in place names it and suggests nothing', () => {
    const facts = factsWith(
      { systemicGlucocorticoid: true },
      {
        antiOsteoporosis: [
          {
            drug: 'alendronate',
            covered: true,
            last: { date: '2026-10-01', source: 'dispense', stopped: false },
          },
        ],
        draft: { glucocorticoids: [draftGlucocorticoid()], antiOsteoporosis: [] },
      },
    );
    const card = valid(glucocorticoidOrderCard(facts, undefined, context()));
    expect(card.detail).toContain('Fracture-preventing treatment covering now: alendronate.');
    expect(card.suggestions).toBeUndefined();
  });
});

describe('repeat augmentation card', () => {
  it('warns before augmenting a cemented vertebra again, with the infection and cement work-up, citing the case report', () => {
    const card = valid(
      repeatAugmentationCard(
        { reason: 'ordered-again', levels: ['L3'], augmentedOn: '2023-11-14' },
        context(),
      ),
    );
    expect(card.indicator).toBe('warning');
    expect(card.summary).toBe(
      'Augmentation again at a cemented vertebra (L3): rule out infection and tumour first',
    );
    expect(card.source.label).toBe(
      'Case report: re-fracture of a cemented L3 vertebra three years after unilateral PVP',
    );
    expect(card.detail).toContain('A PVP/PKP is being ordered at L3, already augmented on 2023-11-14.');
    expect(card.detail).toContain('ESR, CRP, procalcitonin and MRI; take a biopsy at the procedure.');
    expect(card.detail).toContain('Plan a bilateral approach with enough cement.');
    expect(card.selectionBehavior).toBe('any');
    const [labs, ct] = card.suggestions ?? [];
    expect(
      labs?.actions?.map(
        (a) => (a.resource as unknown as { code: { coding: Array<{ code: string }> } }).code.coding[0]?.code,
      ),
    ).toEqual(['4537-7', '1988-5', '33959-8']);
    expect(ct?.label).toBe('Order a CT of the lumbar spine without contrast');
    expect(ct?.actions?.[0]?.resource).toMatchObject({
      code: { coding: [{ system: 'http://www.ama-assn.org/go/cpt', code: '72131' }] },
    });
  });

  it('speaks of a new fracture at a cemented vertebra, in Chinese too, and orders a thoracic CT for a thoracic level', () => {
    const card = valid(repeatAugmentationCard({ reason: 'new-fracture', levels: ['T12'] }, context('zh-CN')));
    expect(card.detail).toContain('病历记录 T12 新发骨折，该椎体已行椎体强化术。');
    expect(card.suggestions?.[1]?.label).toBe('开具胸椎CT 平扫');
  });
});

describe('risk card summaries', () => {
  it('name whole factors only, dropping the last ones that do not fit', () => {
    const facts = factsWith({
      priorFragilityFracture: true,
      noAntiOsteoporosisDrug: true,
      intravertebralCleft: true,
      solidLumpCement: true,
    });
    const card = renderRiskCard(
      {
        model: refractureModel,
        assessment: assess(refractureModel, facts),
        suggestions: [],
        provenance: noProvenance,
        advice: [],
      },
      context(),
    );
    expect(card.summary).toBe(
      'New or repeat vertebral fracture after augmentation: high risk (9 pts): Another fragility fracture, No fracture-preventing drug now',
    );
    expect(card.summary).not.toContain('…');
  });
});

describe('risk card provenance', () => {
  const provenance: Pick<PatientFacts, 'ignored' | 'textMatches'> = {
    textMatches: [
      { resourceType: 'Procedure', concept: { kind: 'augmentation', augmentation: 'vertebroplasty' } },
      { resourceType: 'Observation', concept: { kind: 'finding', finding: 'intravertebralCleft' } },
      { resourceType: 'MedicationStatement', concept: { kind: 'drug', drug: 'alendronate' } },
    ],
    ignored: [
      { resourceType: 'Observation', reason: 'status', status: 'entered-in-error' },
      { resourceType: 'Observation', reason: 'status', status: 'entered-in-error' },
      { resourceType: 'Condition', reason: 'verification-status', status: 'refuted' },
      { resourceType: 'Observation', reason: 'implausible', topic: 'tScore' },
      { resourceType: 'Condition', reason: 'in-remission', topic: 'depression' },
    ],
  };
  const detail = (locale: 'en' | 'zh-CN') =>
    renderRiskCard(
      {
        model: rbp,
        assessment: assess(rbp, factsWith({ depression: true })),
        suggestions: [],
        provenance,
        advice: [],
      },
      context(locale),
    ).detail ?? '';

  it('says what was recognised from text and what was not counted, in words a clinician reads', () => {
    expect(detail('en')).toContain(
      '**Recognised from free text, not from a standard code (please check):** vertebroplasty (procedure), intravertebral cleft (result), alendronate (medication list entry).',
    );
    expect(detail('en')).toContain(
      '**Not counted:** 5 record(s): result: status entered in error (2), diagnosis: verification status refuted, result: T-score: implausible value, diagnosis: depression: in remission.',
    );
  });

  it('says the same in Chinese, with no internal key', () => {
    const zh = detail('zh-CN');
    expect(zh).toContain(
      '**根据自由文本而非标准编码识别（请核对）：** 椎体成形术（手术记录）、椎体内裂隙（检查结果）、阿仑膦酸钠（用药记录）。',
    );
    expect(zh).toContain('检查结果：状态为“录入错误”（2）');
    expect(zh).toContain('诊断：抑郁：已缓解');
    expect(zh).not.toMatch(/entered-in-error|intravertebralCleft|finding:|augmentation:/);
  });
});
