import { describe, expect, it } from 'vitest';
import type { CardContext } from '../../src/cards/card-frame.ts';
import {
  denosumabGapCard,
  glucocorticoidOrderCard,
  missingDxaCard,
  treatmentGapCard,
} from '../../src/cards/care-gap-cards.ts';
import { renderRiskCard } from '../../src/cards/risk-card.ts';
import { serviceSuggestion } from '../../src/cards/suggested-orders.ts';
import { loadWordings } from '../../src/cards/wording.ts';
import { type Card, cardSchema } from '../../src/cds-hooks/schemas.ts';
import { assess } from '../../src/clinical/model.ts';
import { loadModels } from '../../src/clinical/model-files.ts';
import { factsWith } from '../support/facts.ts';

const models = loadModels();
const noProvenance = { ignored: [] };
const wordings = loadWordings();

function context(locale: 'en' | 'zh-CN' = 'en', unreadable: string[] = []): CardContext {
  return {
    wording: wordings[locale],
    patientId: 'p1',
    userId: 'Practitioner/dr1',
    encounterId: 'e1',
    modelUrl: (id) => `https://cds.example/models${id ? `/${id}` : ''}`,
    unreadable,
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

describe('card wording', () => {
  it('has the same entries in English and Simplified Chinese', () => {
    expect(keyPaths(wordings['zh-CN']).sort()).toEqual(keyPaths(wordings.en).sort());
  });

  it('names every factor of both models in both locales', () => {
    const ids = Object.values(models).flatMap((m) => [...m.factors, ...m.shownNotScored].map((f) => f.id));
    for (const locale of ['en', 'zh-CN'] as const) {
      for (const id of ids) expect(wordings[locale].factors[id], `${locale} ${id}`).toBeTruthy();
      for (const m of Object.values(models)) {
        for (const tier of m.tiers)
          expect(wordings[locale].tiers[tier.id], `${locale} ${tier.id}`).toBeTruthy();
      }
    }
  });
});

describe('risk cards', () => {
  const rbp = models['residual-pain-risk'];
  const facts = factsWith({
    depression: true,
    lowestTScore: -3.7,
    diabetes: true,
    fracturedLevelCount: 2,
    intravertebralCleft: undefined,
  });
  const assessment = assess(rbp, facts);

  it('states tier, points and top factors in a summary under 140 characters', () => {
    const card = valid(
      renderRiskCard({ model: rbp, assessment, suggestions: [], provenance: noProvenance }, context()),
    );
    expect(card.summary).toBe(
      'Residual back pain risk after PVP/PKP: high (6 pts): Depression, Low bone density, Two or more vertebral levels fractured or treated',
    );
    expect([...card.summary].length).toBeLessThan(140);
    expect(card.indicator).toBe('warning');
  });

  it('tables the factors with points and sources, lists what was not assessed, names the model and calibration', () => {
    const card = renderRiskCard(
      { model: rbp, assessment, suggestions: [], provenance: noProvenance },
      context(),
    );
    const detail = card.detail ?? '';
    expect(detail).toContain(
      '| Depression (diagnosis or PHQ-9 ≥ 10) | yes | 2 | 3.43 | Yang 2019, [PMID 31561662](https://pubmed.ncbi.nlm.nih.gov/31561662/) |',
    );
    expect(detail).toContain(
      '| Low bone density (lowest DXA T-score, 2 years) | T −3.7 | 2 | 5.05 (1.87–13.62) | Mao 2024, 巴楚医学 7(3):41 |',
    );
    expect(detail).toContain(
      '**Not assessed (no data in the record):** Intravertebral cleft / Kümmell disease.',
    );
    expect(detail).toContain('Model rbp-v1 (version 1.0.0)');
    expect(detail).toMatch(/Tiers are relative.*local calibration/);
    expect(detail).toContain('low 0–1, intermediate 2–3, high ≥ 4');
    expect(card.source).toEqual({
      label: 'pvp-cds · PVP/PKP risk model',
      url: 'https://cds.example/models/rbp-v1',
    });
  });

  it('carries the machine-readable assessment', () => {
    const card = renderRiskCard(
      { model: rbp, assessment, suggestions: [], provenance: noProvenance },
      context(),
    );
    expect(card.extension).toEqual({
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
    const warning = renderRiskCard(
      { model: rbp, assessment, suggestions: [], provenance: noProvenance },
      context(),
    );
    expect(warning.overrideReasons?.map((r) => r.code)).toEqual([
      'already-addressed',
      'patient-declined',
      'not-applicable',
      'data-incorrect',
    ]);
    const low = renderRiskCard(
      { model: rbp, assessment: assess(rbp, factsWith({})), suggestions: [], provenance: noProvenance },
      context(),
    );
    expect(low.indicator).toBe('info');
    expect(low.overrideReasons).toBeUndefined();
    expect(low.detail).toContain('No scored risk factor was found');
  });

  it('sets selectionBehavior exactly when there are suggestions', () => {
    const withSuggestion = valid(
      renderRiskCard(
        {
          model: rbp,
          assessment,
          suggestions: [serviceSuggestion('phq9', context())],
          provenance: noProvenance,
        },
        context(),
      ),
    );
    expect(withSuggestion.selectionBehavior).toBe('at-most-one');
    const without = renderRiskCard(
      { model: rbp, assessment, suggestions: [], provenance: noProvenance },
      context(),
    );
    expect(without).not.toHaveProperty('selectionBehavior');
    expect(without).not.toHaveProperty('suggestions');
  });

  it('renders in Simplified Chinese', () => {
    const card = valid(
      renderRiskCard({ model: rbp, assessment, suggestions: [], provenance: noProvenance }, context('zh-CN')),
    );
    expect(card.summary).toMatch(/^椎体成形术后残余腰背痛风险：高（6 分）/);
    expect(card.detail).toContain('模型 rbp-v1');
  });

  it('says which sources could not be read', () => {
    const card = renderRiskCard(
      { model: rbp, assessment, suggestions: [], provenance: noProvenance },
      context('en', ['medicationStatements']),
    );
    expect(card.detail).toContain('**Could not be read from the FHIR server:** medicationStatements');
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
    const card = valid(
      renderRiskCard(
        {
          model: models['refracture-risk'],
          assessment: assess(models['refracture-risk'], facts),
          suggestions: [],
          provenance: noProvenance,
        },
        long,
      ),
    );
    expect([...card.summary].length).toBe(139);
  });
});

describe('care-gap cards', () => {
  it('treatment gap: warning with draft MedicationRequests for the patient, alendronate recommended', () => {
    const facts = factsWith(
      { noAntiOsteoporosisDrug: true },
      { antiOsteoporosis: [{ drug: 'alendronate', status: 'stopped', lastDate: '2024-01-20' }] },
    );
    const card = valid(treatmentGapCard(facts, context()));
    expect(card.indicator).toBe('warning');
    expect(card.detail).toContain('Previously used: alendronate (2024-01-20).');
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
    expect(card.extension).toEqual({
      'pvp-cds.assessment': { kind: 'treatment-gap', factors: [], notAssessed: [] },
    });
  });

  it('treatment gap suggests nothing when a drug is already in the draft orders', () => {
    const facts = factsWith(
      { noAntiOsteoporosisDrug: true },
      { draft: { glucocorticoids: [], antiOsteoporosis: ['alendronate'] } },
    );
    expect(valid(treatmentGapCard(facts, context())).suggestions).toBeUndefined();
  });

  it('missing DXA: info card with a draft DXA ServiceRequest (CPT 77080)', () => {
    const card = valid(missingDxaCard(context()));
    expect(card.indicator).toBe('info');
    expect(card.suggestions?.[0]?.actions?.[0]?.resource).toMatchObject({
      resourceType: 'ServiceRequest',
      status: 'draft',
      code: { coding: [{ system: 'http://www.ama-assn.org/go/cpt', code: '77080' }] },
    });
  });

  it('denosumab gap: critical, months since the last dose, resume or transition', () => {
    const card = valid(denosumabGapCard({ lastDose: '2026-02-15', monthsSince: 9 }, context()));
    expect(card.indicator).toBe('critical');
    expect(card.summary).toContain('last dose 9 months ago');
    expect(card.detail).toContain('2026-02-15');
    expect(card.suggestions?.map((s) => s.label)).toEqual([
      'Order denosumab 60 mg subcutaneously every 6 months (next dose now)',
      'Order zoledronic acid 5 mg IV once yearly',
    ]);
    expect(card.overrideReasons).toBeDefined();
  });

  it('glucocorticoid order: warning with the re-fracture score and bone protection if uncovered', () => {
    const facts = factsWith(
      { systemicGlucocorticoid: true, noAntiOsteoporosisDrug: true },
      { draft: { glucocorticoids: ['prednisone'], antiOsteoporosis: [] } },
    );
    const refracture = assess(models['refracture-risk'], facts);
    const card = valid(glucocorticoidOrderCard(facts, refracture, context()));
    expect(card.indicator).toBe('warning');
    expect(card.detail).toContain('This order is for prednisone');
    expect(card.detail).toContain('No anti-osteoporosis treatment is active or being ordered.');
    expect(card.detail).toContain(
      'Re-fracture risk with this order: moderate (4 points, model refracture-v1).',
    );
    expect(card.suggestions?.length).toBe(2);
    expect(card.extension?.['pvp-cds.assessment']).toMatchObject({
      kind: 'glucocorticoid-order',
      model: 'refracture-v1',
      points: 4,
    });
  });

  it('glucocorticoid order with bone protection in place suggests nothing', () => {
    const facts = factsWith(
      { systemicGlucocorticoid: true },
      {
        antiOsteoporosis: [{ drug: 'alendronate', status: 'active' }],
        draft: { glucocorticoids: ['prednisone'], antiOsteoporosis: [] },
      },
    );
    const card = valid(glucocorticoidOrderCard(facts, assess(models['refracture-risk'], facts), context()));
    expect(card.detail).toContain('Anti-osteoporosis treatment on record: alendronate.');
    expect(card.suggestions).toBeUndefined();
  });
});

describe('risk card summaries', () => {
  it('name whole factors only, dropping the last ones that do not fit', () => {
    const refracture = models['refracture-risk'];
    const facts = factsWith({
      priorFragilityFracture: true,
      noAntiOsteoporosisDrug: true,
      intravertebralCleft: true,
      solidLumpCement: true,
    });
    const card = renderRiskCard(
      { model: refracture, assessment: assess(refracture, facts), suggestions: [], provenance: noProvenance },
      context(),
    );
    expect(card.summary).toBe(
      'Re-fracture risk after vertebral augmentation: high (9 pts): Earlier fragility fracture, No active anti-osteoporosis drug',
    );
    expect(card.summary).not.toContain('…');
  });
});

describe('risk card provenance', () => {
  it('says what was recognised from text and what was not counted', () => {
    const rbp = models['residual-pain-risk'];
    const facts = factsWith({ depression: true });
    const card = renderRiskCard(
      {
        model: rbp,
        assessment: assess(rbp, facts),
        suggestions: [],
        provenance: {
          textMatches: [{ resourceType: 'Procedure', concept: 'augmentation:vertebroplasty' }],
          ignored: [
            { resourceType: 'Observation', reason: 'status entered-in-error' },
            { resourceType: 'Observation', reason: 'status entered-in-error' },
            { resourceType: 'Condition', reason: 'verification status refuted' },
          ],
        },
      },
      context(),
    );
    expect(card.detail).toContain(
      '**Recognised from free text, not from a standard code (please check):** augmentation:vertebroplasty (Procedure).',
    );
    expect(card.detail).toContain(
      '**Not counted:** 3 record(s): Observation: status entered-in-error (2); Condition: verification status refuted.',
    );
  });
});
