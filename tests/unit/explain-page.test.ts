import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { loadWordings } from '../../src/cards/wording.ts';
import { loadModels } from '../../src/clinical/model-files.ts';
import { explainStyle, renderExplainNotFound, renderExplainPage } from '../../src/pages/explain-page.ts';
import { modelStyle, renderModelPage } from '../../src/pages/model-page.ts';
import type { RecordedAssessment } from '../../src/store/card-assessments.ts';

const models = loadModels();
const wordings = loadWordings(Object.values(models));
const options = {
  locale: 'en' as const,
  modelUrl: 'https://cds.example/models/refracture-v1',
  retentionDays: 400,
};

const refracture: RecordedAssessment = {
  kind: 'refracture-risk',
  model: 'refracture-v1',
  modelVersion: '1.1.0',
  tier: 'high',
  points: 8,
  locale: 'en',
  issuedAt: new Date('2026-11-22T10:00:00Z'),
  factors: [
    { id: 'glucocorticoid', points: 2 },
    { id: 'prior-fragility-fracture', points: 3 },
    { id: 'smoker', points: 1 },
    { id: 'thoracolumbar-junction', points: 2 },
  ],
  notAssessed: ['bmd'],
};

const rows = (html: string) => [...html.matchAll(/<tr data-factor="([a-z-]+)">/g)].map(([, id]) => id);

describe('the explain page', () => {
  const html = renderExplainPage(refracture, models['refracture-risk'], wordings.en, options);

  it('lists the factors by points, most first, with their share of the total', () => {
    expect(rows(html)).toEqual([
      'prior-fragility-fracture',
      'glucocorticoid',
      'thoracolumbar-junction',
      'smoker',
    ]);
    expect(html).toMatch(/data-factor="prior-fragility-fracture">[\s\S]*?3 pt[\s\S]*?38%/);
    expect(html).toMatch(/data-factor="smoker">[\s\S]*?1 pt[\s\S]*?13%/);
  });

  it('groups the modifiable factors by what a clinician can do, and only those', () => {
    const actions = [...html.matchAll(/<li data-action="([a-z-]+)">/g)].map(([, action]) => action);
    expect(actions).toEqual(['glucocorticoid-review', 'smoking-cessation']);
    expect(html).toContain('Glucocorticoid review: use the lowest dose');
    const row = /<tr data-factor="thoracolumbar-junction">[\s\S]*?<\/tr>/.exec(html)?.[0];
    expect(row).toBeDefined();
    expect(row).not.toContain('class="tag"');
  });

  it('names what could not be assessed, and marks the marker on the tier scale', () => {
    expect(html).toContain('<li data-factor="bmd">Low bone density (lowest DXA T-score, 2 years)</li>');
    expect(html).toContain('aria-label="Tier scale: low 0–2, moderate 3–5, high ≥ 6. This card: 8 points."');
  });

  it('says when the card was scored with another version of the model', () => {
    const older = renderExplainPage(
      { ...refracture, modelVersion: '1.0.0' },
      models['refracture-risk'],
      wordings.en,
      options,
    );
    expect(older).toContain('The card was scored with version 1.0.0 of the model');
    expect(html).not.toContain('was scored with version');
  });

  it('says so when no factor counted, and that nothing can be acted on', () => {
    const none = renderExplainPage(
      { ...refracture, tier: 'low', points: 0, factors: [], notAssessed: [] },
      models['refracture-risk'],
      wordings.en,
      options,
    );
    expect(none).toContain('No scored risk factor was found in the record: the score is 0.');
    expect(none).toContain('Every factor of the model could be assessed from the record.');
    expect(none).toContain('None of the factors found can be changed by treatment');
    expect(rows(none)).toEqual([]);
  });

  it('has one hashed style and no script, on the page and on the not-found page', () => {
    const missing = renderExplainNotFound(wordings['zh-CN'], { locale: 'zh-CN', retentionDays: 400 });
    expect(missing).toContain('没有该提示的图解');
    for (const page of [html, missing]) {
      expect([...page.matchAll(/<style>([\s\S]*?)<\/style>/g)].map(([, css]) => css)).toEqual([
        explainStyle.css,
      ]);
      expect(page).not.toMatch(/\sstyle=|<script|\son\w+=|javascript:/i);
    }
    const hash = createHash('sha256').update(explainStyle.css, 'utf8').digest('base64');
    expect(explainStyle.hash).toBe(`sha256-${hash}`);
  });
});

describe('the model page', () => {
  it('shows every factor with its bands, odds ratios, sources and modifiable tag', () => {
    const model = models['residual-pain-risk'];
    const html = renderModelPage(model, wordings.en, { locale: 'en', jsonUrl: '/models/rbp-v1?format=json' });
    expect(rows(html)).toEqual(model.factors.map((f) => f.id));
    expect(html).toMatch(/data-factor="bmd">[\s\S]*?≤ −3\.5: 2 pt[\s\S]*?≤ −2\.5: 1 pt[\s\S]*?Mao 2024/);
    expect(html).toMatch(
      /data-factor="no-anti-osteoporosis-drug">[^\n]*provisional weight[^\n]*class="tag">treatment</,
    );
    expect(html).toContain('Shown on the card, not scored');
    expect(html).toContain('href="/models/rbp-v1?format=json"');
    expect([...html.matchAll(/<style>([\s\S]*?)<\/style>/g)].map(([, css]) => css)).toEqual([modelStyle.css]);
  });
});
