import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { loadWordings } from '../../src/cards/wording.ts';
import { loadModels } from '../../src/clinical/model-files.ts';
import { analyticsStyle, renderAnalyticsLogin, renderAnalyticsPage } from '../../src/pages/analytics-page.ts';
import type { AnalyticsReport, CardGroup } from '../../src/store/analytics-report.ts';

const wordings = loadWordings(Object.values(loadModels()));

const alendronate = 'MedicationRequest:http://www.nlm.nih.gov/research/umls/rxnorm|904419';
const dxa = 'ServiceRequest:http://www.ama-assn.org/go/cpt|77080';

const refracture: CardGroup = {
  service: 'pvp-risk-order-sign',
  kind: 'refracture-risk',
  tier: 'high',
  model: 'refracture-v1',
  modelVersion: '1.0.0',
  issued: 40,
  accepted: 22,
  overridden: 12,
  noFeedback: 6,
  overrideReasons: [
    { code: 'already-addressed', count: 7 },
    { code: 'patient-declined', count: 3 },
    { count: 2 },
  ],
  suggestions: [
    { key: alendronate, label: 'Alendronate 70 mg oral tablet, weekly', offered: 30, accepted: 15 },
    { key: dxa, label: 'DXA bone density, axial skeleton', offered: 10, accepted: 4 },
  ],
  weeks: [
    { week: '2026-09-07', issued: 10, accepted: 6, overridden: 3, noFeedback: 1 },
    { week: '2026-09-14', issued: 12, accepted: 7, overridden: 3, noFeedback: 2 },
    { week: '2026-09-28', issued: 18, accepted: 9, overridden: 6, noFeedback: 3 },
  ],
};

const residualPain: CardGroup = {
  service: 'pvp-risk-patient-view',
  kind: 'residual-pain-risk',
  tier: 'intermediate',
  model: 'rbp-v1',
  modelVersion: '1.1.0',
  issued: 25,
  accepted: 10,
  overridden: 9,
  noFeedback: 6,
  overrideReasons: [
    { code: 'not-applicable', count: 5 },
    { code: 'already-addressed', count: 2 },
    { code: 'legacy-reason', count: 2 },
  ],
  suggestions: [
    {
      key: 'ServiceRequest:http://loinc.org|44249-1',
      label: 'PHQ-9 depression screen',
      offered: 8,
      accepted: 5,
    },
  ],
  weeks: [
    { week: '2026-09-07', issued: 8, accepted: 3, overridden: 3, noFeedback: 2 },
    { week: '2026-09-21', issued: 9, accepted: 4, overridden: 3, noFeedback: 2 },
    { week: '2026-09-28', issued: 8, accepted: 3, overridden: 3, noFeedback: 2 },
  ],
};

const missingDxa: CardGroup = {
  service: 'pvp-risk-order-sign',
  kind: 'missing-dxa',
  issued: 6,
  accepted: 2,
  overridden: 1,
  noFeedback: 3,
  overrideReasons: [{ count: 1 }],
  suggestions: [{ key: dxa, label: 'DXA bone density, axial skeleton', offered: 6, accepted: 2 }],
  weeks: [{ week: '2026-09-14', issued: 6, accepted: 2, overridden: 1, noFeedback: 3 }],
};

/** Four weeks in Shanghai: 2026-09-07 to 2026-10-04, both included, the bounds as UTC instants. */
const report: AnalyticsReport = {
  from: '2026-09-07',
  to: '2026-10-04',
  timeZone: 'Asia/Shanghai',
  totals: { issued: 71, accepted: 34, overridden: 22, noFeedback: 15 },
  groups: [refracture, residualPain, missingDxa],
};

const options = { locale: 'en', basePath: '/analytics' } as const;
const english = renderAnalyticsPage(report, wordings.en, options);
const chinese = renderAnalyticsPage(report, wordings['zh-CN'], { ...options, locale: 'zh-CN' });

const cellPattern = /<t[hd][^>]*>([\s\S]*?)<\/t[hd]>/g;

function table(html: string, id: string): string {
  const found = new RegExp(`<table id="${id}"[^>]*>([\\s\\S]*?)</table>`).exec(html)?.[1];
  expect(found, `table #${id}`).toBeDefined();
  return found ?? '';
}

/** The cells of a table's body, row by row, as they are in the HTML. */
function rows(html: string, id: string): string[][] {
  const body = /<tbody>([\s\S]*?)<\/tbody>/.exec(table(html, id))?.[1] ?? '';
  return [...body.matchAll(/<tr>([\s\S]*?)<\/tr>/g)].map(([, row = '']) =>
    [...row.matchAll(cellPattern)].map(([, cell = '']) => cell),
  );
}

function headers(html: string, id: string): string[] {
  const head = /<thead>([\s\S]*?)<\/thead>/.exec(table(html, id))?.[1] ?? '';
  return [...head.matchAll(cellPattern)].map(([, cell = '']) => cell);
}

function section(html: string, titleId: string): string {
  return new RegExp(`<section aria-labelledby="${titleId}">([\\s\\S]*?)</section>`).exec(html)?.[1] ?? '';
}

function svgTexts(html: string, className: string): string[] {
  return [...html.matchAll(new RegExp(`<text class="${className}"[^>]*>([^<]*)</text>`, 'g'))].map(
    ([, text = '']) => text,
  );
}

describe('analytics page', () => {
  it('shows every group with its counts and acceptance in the right cells', () => {
    expect(headers(english, 'groups')).toEqual([
      'Service',
      'Card kind',
      'Risk tier',
      'Model version',
      'Issued',
      'Accepted',
      'Overridden',
      'No feedback',
      'Acceptance',
    ]);
    expect(rows(english, 'groups')).toEqual([
      [
        'pvp-risk-order-sign',
        'Re-fracture risk',
        'high',
        'refracture-v1 v1.0.0',
        '40',
        '22',
        '12',
        '6',
        '55.0%',
      ],
      [
        'pvp-risk-patient-view',
        'Residual back pain risk',
        'intermediate',
        'rbp-v1 v1.1.0',
        '25',
        '10',
        '9',
        '6',
        '40.0%',
      ],
      ['pvp-risk-order-sign', 'Missing DXA scan', '—', '—', '6', '2', '1', '3', '33.3%'],
    ]);
    expect(english).toContain(
      '<p class="totals">71 cards issued: 34 accepted, 22 overridden, 15 without feedback. Acceptance 47.9%.</p>',
    );
  });

  it('shows a dash for the acceptance of a group without issued cards, and an unknown kind as it is', () => {
    const none = { ...missingDxa, kind: 'future-kind', issued: 0, accepted: 0, overridden: 0, noFeedback: 0 };
    const html = renderAnalyticsPage({ ...report, groups: [refracture, none] }, wordings.en, options);
    expect(rows(html, 'groups')[1]).toEqual([
      'pvp-risk-order-sign',
      'future-kind',
      '—',
      '—',
      '0',
      '0',
      '0',
      '0',
      '—',
    ]);
  });

  it('charts the weeks of all groups together, stacked by outcome, with the numbers in a table', () => {
    expect(rows(english, 'weeks')).toEqual([
      ['2026-09-07', '18', '9', '6', '3', '50.0%'],
      ['2026-09-14', '18', '9', '4', '5', '50.0%'],
      ['2026-09-21', '9', '4', '3', '2', '44.4%'],
      ['2026-09-28', '26', '12', '9', '5', '46.2%'],
    ]);
    const chart = section(english, 'acceptance-title');
    expect(chart).toContain('<h2 id="acceptance-title">Acceptance over time</h2>');
    expect(chart).toMatch(
      /<svg class="chart" viewBox="[^"]+" role="img" aria-label="[^"]*2026-09-07 to 2026-09-28/,
    );
    expect(chart.match(/<rect class="accepted"/g)).toHaveLength(4);
    expect(chart.match(/<rect class="overridden"/g)).toHaveLength(4);
    expect(chart.match(/<rect class="no-feedback"/g)).toHaveLength(4);
    expect(chart).toContain('<title>Week of 2026-09-28: Accepted 12 of 26</title>');
    expect(svgTexts(chart, 'count')).toEqual(['18', '18', '9', '26']);
    expect(chart).toContain('Sep 28</text>');
  });

  it('shows a week without cards between two weeks with cards as zeros', () => {
    const sparse = {
      ...refracture,
      weeks: [refracture.weeks[0], refracture.weeks[2]].flatMap((w) => w ?? []),
    };
    const html = renderAnalyticsPage({ ...report, groups: [sparse] }, wordings.en, options);
    expect(rows(html, 'weeks').map((row) => row.slice(0, 2))).toEqual([
      ['2026-09-07', '10'],
      ['2026-09-14', '0'],
      ['2026-09-21', '0'],
      ['2026-09-28', '18'],
    ]);
  });

  it('sums the override reasons over groups, most frequent first, with a label for each', () => {
    const chart = section(english, 'reasons-title');
    expect(svgTexts(chart, 'reason')).toEqual([
      'Already addressed',
      'Not applicable to this patient',
      'Patient declined',
      'No reason given',
      'legacy-reason',
    ]);
    expect(svgTexts(chart, 'count')).toEqual(['9', '5', '3', '3', '2']);
    expect(chart).toContain(
      'aria-label="Overridden cards by reason: Already addressed: 9, Not applicable to this patient: 5, Patient declined: 3, No reason given: 3, legacy-reason: 2."',
    );
    expect(chart).toContain('<title>Already addressed: 9 (40.9% of overridden cards)</title>');
  });

  it('says so when no card was overridden or offered an order', () => {
    const quiet = { ...missingDxa, overridden: 0, noFeedback: 4, overrideReasons: [], suggestions: [] };
    const html = renderAnalyticsPage({ ...report, groups: [quiet] }, wordings.en, options);
    expect(section(html, 'reasons-title')).toContain('No card was overridden in this window.');
    expect(section(html, 'reasons-title')).not.toContain('<svg');
    expect(section(html, 'suggestions-title')).toContain('No card offered an order in this window.');
  });

  it('sums the suggested orders over groups by key', () => {
    expect(headers(english, 'suggestions')).toEqual(['Order', 'Offered', 'Accepted', 'Acceptance']);
    expect(rows(english, 'suggestions')).toEqual([
      ['Alendronate 70 mg oral tablet, weekly', '30', '15', '50.0%'],
      ['DXA bone density, axial skeleton', '16', '6', '37.5%'],
      ['PHQ-9 depression screen', '8', '5', '62.5%'],
    ]);
  });

  it('asks for the window with a GET form that shows the dates of the report, both included', () => {
    const form = /<form class="window" method="get" action="\/analytics">([\s\S]*?)<\/form>/.exec(
      english,
    )?.[1];
    expect(form).toBeDefined();
    expect(form).toContain('<input type="date" name="from" value="2026-09-07" required>');
    expect(form).toContain('<input type="date" name="to" value="2026-10-04" required>');
    expect(form).toContain(
      '<select name="lang"><option value="en" selected>English</option><option value="zh-CN">简体中文</option></select>',
    );
    expect(form).toContain('<button type="submit">Show</button>');
    expect(english).toContain('issued from 2026-09-07 to 2026-10-04 (both days included)');
    expect(english).toContain('in the clinic&#39;s time zone (Asia/Shanghai)');
  });

  it('is a complete UTF-8 document in the language asked for', () => {
    expect(english.startsWith('<!doctype html>\n<html lang="en">')).toBe(true);
    expect(english).toContain('<meta charset="utf-8">');
    expect(chinese.startsWith('<!doctype html>\n<html lang="zh-CN">')).toBe(true);
    expect(headers(chinese, 'groups')).toEqual([
      '服务',
      '提示卡类型',
      '风险分层',
      '模型版本',
      '发出',
      '采纳',
      '驳回',
      '无反馈',
      '采纳率',
    ]);
    expect(rows(chinese, 'groups').map((row) => row.slice(1, 3))).toEqual([
      ['再骨折风险', '高'],
      ['术后残余腰背痛风险', '中'],
      ['缺少 DXA 骨密度检查', '—'],
    ]);
    expect(svgTexts(section(chinese, 'reasons-title'), 'reason')).toContain('未填写原因');
    expect(chinese).toContain('<option value="zh-CN" selected>简体中文</option>');
    expect(chinese).toContain('<title>临床决策支持提示卡：治理分析</title>');
  });

  it('escapes every string of the report', () => {
    const hostile: CardGroup = {
      ...refracture,
      service: '<script>alert(1)</script>',
      kind: '<img src=x onerror=alert(2)>',
      tier: '"><svg onload=alert(3)>',
      model: "m' onmouseover='alert(4)",
      overrideReasons: [{ code: '<b>code</b>', count: 1 }],
      suggestions: [{ key: 'k', label: '</td><script>alert(5)</script>', offered: 1, accepted: 0 }],
    };
    const html = renderAnalyticsPage({ ...report, timeZone: 'UTC', groups: [hostile] }, wordings.en, {
      ...options,
      basePath: '/a"><script>alert(6)</script>',
    });
    expect(html).toContain('<td class="id">&lt;script&gt;alert(1)&lt;/script&gt;</td>');
    expect(html).toContain('<td>&lt;img src=x onerror=alert(2)&gt;</td>');
    expect(html).toContain('<td>&quot;&gt;&lt;svg onload=alert(3)&gt;</td>');
    expect(html).toContain('m&#39; onmouseover=&#39;alert(4)');
    expect(html).toContain('&lt;b&gt;code&lt;/b&gt;');
    expect(html).toContain('<td>&lt;/td&gt;&lt;script&gt;alert(5)&lt;/script&gt;</td>');
    expect(html).toContain('action="/a&quot;&gt;&lt;script&gt;alert(6)&lt;/script&gt;"');
    expect(html).not.toMatch(/<script|<img|<svg onload|<b>/i);
  });

  it('shows an empty state when no card was issued', () => {
    const html = renderAnalyticsPage(
      { ...report, totals: { issued: 0, accepted: 0, overridden: 0, noFeedback: 0 }, groups: [] },
      wordings['zh-CN'],
      { ...options, locale: 'zh-CN' },
    );
    expect(html).toContain('<p class="empty">本时段内未发出任何提示卡。</p>');
    expect(html).not.toMatch(/<table|<svg/);
    expect(html).toContain('name="from" value="2026-09-07"');
  });
});

describe('analytics login page', () => {
  const login = (refused: boolean) =>
    renderAnalyticsLogin(wordings.en, { locale: 'en', action: '/analytics/login?lang=en', refused });

  it('posts a password field named token to the action', () => {
    const html = login(false);
    expect(html).toContain(
      '<form class="login" method="post" action="/analytics/login?lang=en" enctype="application/x-www-form-urlencoded">',
    );
    expect(html).toMatch(/<input id="token" name="token" type="password" autocomplete="off"[^>]*>/);
    expect(html).toContain('<label for="token">Analytics token</label>');
    expect(html).toContain('<button type="submit">Sign in</button>');
  });

  it('shows the refusal only after a refused token', () => {
    expect(login(false)).not.toContain('The token was not accepted.');
    expect(login(true)).toContain('<p class="error" role="alert">The token was not accepted.</p>');
    const chinese = renderAnalyticsLogin(wordings['zh-CN'], {
      locale: 'zh-CN',
      action: '/analytics/login',
      refused: true,
    });
    expect(chinese).toContain('<html lang="zh-CN">');
    expect(chinese).toContain('该令牌未被接受。');
    expect(chinese).toContain('分析访问令牌');
  });
});

describe('analytics page style', () => {
  const pages = [
    english,
    chinese,
    renderAnalyticsPage({ ...report, groups: [] }, wordings.en, options),
    renderAnalyticsLogin(wordings.en, { locale: 'en', action: '/analytics/login', refused: true }),
  ];

  it('has one style element, hashed for the CSP, and no script or style attribute', () => {
    for (const html of pages) {
      const styles = [...html.matchAll(/<style>([\s\S]*?)<\/style>/g)].map(([, text]) => text);
      expect(styles).toEqual([analyticsStyle.css]);
      expect(html).not.toMatch(/\sstyle=|<script|\son\w+=|javascript:/i);
    }
    const hash = createHash('sha256').update(analyticsStyle.css, 'utf8').digest('base64');
    expect(analyticsStyle.hash).toBe(`sha256-${hash}`);
  });

  it('uses a font stack with Simplified Chinese fonts', () => {
    for (const font of ['"Noto Sans CJK SC"', '"PingFang SC"', '"Microsoft YaHei"'])
      expect(analyticsStyle.css).toContain(font);
  });
});
