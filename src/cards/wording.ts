/**
 * Card wording per locale, from `cards/<locale>.json` at the repository root: what clinicians read,
 * editable without touching code. Loaded and validated once at start-up.
 */
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { type Model, modifiableActions } from '../clinical/model.ts';
import { type Locale, locales } from '../config.ts';

const strings = z.record(z.string(), z.string().min(1));

const wordingSchema = z.object({
  locale: z.enum(locales),
  sources: strings,
  tiers: strings,
  factors: strings,
  values: z.object({
    yes: z.string(),
    years: z.string(),
    levels: z.string(),
    tScore: z.string(),
    bmi: z.string(),
    listIntro: z.string(),
    listSeparator: z.string(),
    /** Something in parentheses, in the locale's typography: " (x)" or "（x）". */
    aside: z.string(),
  }),
  oddsRatio: z.object({ per: strings, notes: strings, designs: strings }),
  drugs: strings,
  evidence: z.object({
    order: z.string(),
    statement: z.string(),
    dispense: z.string(),
    administration: z.string(),
  }),
  records: strings,
  prefetchKeys: strings,
  ignored: z.object({ reasons: strings, topics: strings, statuses: strings }),
  textConcepts: strings,
  detail: z.object({
    tierLine: z.string(),
    tableHeader: z.string(),
    noFactors: z.string(),
    notAssessed: z.string(),
    shown: z.string(),
    unreadable: z.string(),
    misfiled: z.string(),
    foreign: z.string(),
    textMatches: z.string(),
    ignoredData: z.string(),
    provisional: z.string(),
    calibration: z.string(),
    adviceHeading: z.string(),
  }),
  cards: z.object({
    'residual-pain-risk': z.object({
      summary: z.string(),
      imagingSummary: z.string(),
      imagingAdvice: z.object({ MRI: z.string(), CT: z.string() }),
      advice: z.object({
        mri: z.string(),
        cement: z.string(),
        depressionCoded: z.string(),
        depressionByScore: z.string(),
        phq9Screen: z.string(),
        rehabilitation: z.string(),
        consent: z.string(),
        otherCause: z.string(),
        usual: z.string(),
      }),
    }),
    'refracture-risk': z.object({
      summary: z.string(),
      advice: z.object({
        keepTreating: z.string(),
        treatNow: z.string(),
        anabolic: z.string(),
        followUp: z.string(),
        falls: z.string(),
      }),
    }),
    'treatment-gap': z.object({
      summary: z.string(),
      detail: z.string(),
      stale: z.string(),
      overdue: z.string(),
      stopped: z.string(),
      notPreventing: z.string(),
      notPreventingReasons: strings,
      choice: z.string(),
      caveats: z.string(),
    }),
    'missing-dxa': z.object({ summary: z.string(), detail: z.string() }),
    'denosumab-gap': z.object({ summary: z.string(), detail: z.string() }),
    'glucocorticoid-order': z.object({
      summary: z.string(),
      detail: z.string(),
      planned: z.string(),
      covered: z.string(),
      uncovered: z.string(),
      ifContinued: z.string(),
      notCounted: z.string(),
    }),
    'repeat-augmentation': z.object({
      summary: z.string(),
      orderedAgain: z.string(),
      newFracture: z.string(),
      when: z.string(),
      advice: z.array(z.string().min(1)).min(1),
      source: z.string(),
    }),
  }),
  suggestions: strings,
  orderText: strings,
  regions: z.object({ thoracic: z.string(), lumbar: z.string() }),
  actions: z.object({ create: z.string() }),
  overrideReasons: strings,
  analytics: z.object({
    title: z.string(),
    intro: z.string(),
    form: z.object({ from: z.string(), to: z.string(), language: z.string(), show: z.string() }),
    /** Each locale's name in its own language, for the language select. */
    languages: z.record(z.enum(locales), z.string().min(1)),
    totals: z.string(),
    groupsTitle: z.string(),
    columns: z.object({
      service: z.string(),
      kind: z.string(),
      tier: z.string(),
      model: z.string(),
      week: z.string(),
      issued: z.string(),
      accepted: z.string(),
      overridden: z.string(),
      noFeedback: z.string(),
      acceptance: z.string(),
    }),
    modelVersion: z.string(),
    kinds: z.object({
      'residual-pain-risk': z.string().min(1),
      'refracture-risk': z.string().min(1),
      'treatment-gap': z.string().min(1),
      'missing-dxa': z.string().min(1),
      'denosumab-gap': z.string().min(1),
      'glucocorticoid-order': z.string().min(1),
      'repeat-augmentation': z.string().min(1),
    }),
    acceptanceChart: z.object({
      title: z.string(),
      label: z.string(),
      axis: z.string(),
      barTitle: z.string(),
    }),
    reasonsChart: z.object({
      title: z.string(),
      label: z.string(),
      barTitle: z.string(),
      noReason: z.string(),
      none: z.string(),
    }),
    suggestions: z.object({
      title: z.string(),
      order: z.string(),
      offered: z.string(),
      accepted: z.string(),
      none: z.string(),
    }),
    empty: z.string(),
    footnote: z.string(),
    login: z.object({ title: z.string(), token: z.string(), submit: z.string(), refused: z.string() }),
  }),
  explain: z.object({
    link: z.string(),
    title: z.string(),
    issued: z.string(),
    olderModel: z.string(),
    tierHeading: z.string(),
    tierLine: z.string(),
    scaleLabel: z.string(),
    scaleRange: z.string(),
    you: z.string(),
    factorsHeading: z.string(),
    factorsIntro: z.string(),
    chartLabel: z.string(),
    barTitle: z.string(),
    columns: z.object({
      factor: z.string(),
      points: z.string(),
      share: z.string(),
      bar: z.string(),
      change: z.string(),
    }),
    points: z.string(),
    noFactors: z.string(),
    provisional: z.string(),
    changeHeading: z.string(),
    changeIntro: z.string(),
    noChange: z.string(),
    /** Per modifiable action: a short tag beside the factor, and what to do. */
    tags: z.record(z.enum(modifiableActions), z.string().min(1)),
    actions: z.record(z.enum(modifiableActions), z.string().min(1)),
    notAssessedHeading: z.string(),
    notAssessedIntro: z.string(),
    allAssessed: z.string(),
    sourcesHeading: z.string(),
    modelLink: z.string(),
    calibration: z.string(),
    footnote: z.string(),
    notFound: z.object({ title: z.string(), text: z.string() }),
  }),
  /** What a model calibrated on the hospital's cohort adds: the probability, and how it was made. */
  local: z.object({
    methods: z.object({ fitted: z.string(), recalibrated: z.string() }),
    summary: z.string(),
    probabilityLine: z.string(),
    /** The factor table of a fitted model: the published columns, then the hospital's odds ratio. */
    tableHeader: z.string(),
    calibration: z.string(),
    explainLine: z.string(),
    explainCalibration: z.string(),
    modelHeading: z.string(),
    modelIntro: z.string(),
    figures: z.object({
      auc: z.string(),
      aucCorrected: z.string(),
      calibrationIntercept: z.string(),
      calibrationSlope: z.string(),
      brier: z.string(),
      intercept: z.string(),
      slope: z.string(),
      coefficient: z.string(),
      importance: z.string(),
      penalty: z.string(),
    }),
  }),
  modelPage: z.object({
    title: z.string(),
    version: z.string(),
    pointsRule: z.string(),
    tiersHeading: z.string(),
    tierRange: z.string(),
    factorsHeading: z.string(),
    columns: z.object({
      factor: z.string(),
      rule: z.string(),
      oddsRatio: z.string(),
      source: z.string(),
      modifiable: z.string(),
    }),
    present: z.string(),
    band: z.string(),
    provisional: z.string(),
    shownHeading: z.string(),
    shownIntro: z.string(),
    limitsHeading: z.string(),
    /** The first limit, which a model calibrated on the hospital's cohort lifts. */
    relativeTiers: z.string(),
    limits: z.array(z.string().min(1)).min(1),
    json: z.string(),
    notFound: z.object({ title: z.string(), text: z.string() }),
  }),
});

export type Wording = z.infer<typeof wordingSchema>;
export type Wordings = Record<Locale, Wording>;

const cardsDir = new URL('../../cards/', import.meta.url);

/** The keys of a wording table that a model file uses but the wording does not translate. */
function untranslated(models: readonly Model[], wording: Wording): string[] {
  const missing: string[] = [];
  const need = (table: Record<string, string>, key: string | undefined, where: string) => {
    if (key !== undefined && !Object.hasOwn(table, key)) missing.push(`${where}.${key}`);
  };
  for (const model of models) {
    for (const factor of [...model.factors, ...model.shownNotScored])
      need(wording.factors, factor.id, 'factors');
    for (const tier of model.tiers) need(wording.tiers, tier.id, 'tiers');
    const scored = model.factors.flatMap((factor) => [
      { oddsRatio: factor.oddsRatio, citation: factor.citation },
      ...(factor.rule.type === 'bands' ? factor.rule.bands : []),
    ]);
    for (const { oddsRatio, citation } of scored) {
      need(wording.oddsRatio.per, oddsRatio?.per, 'oddsRatio.per');
      need(wording.oddsRatio.notes, oddsRatio?.note, 'oddsRatio.notes');
      need(wording.oddsRatio.designs, citation?.design, 'oddsRatio.designs');
    }
  }
  return [...new Set(missing)];
}

/** Loads and validates every locale's wording; a key a model file uses must be translated in each. */
export function loadWordings(models: readonly Model[]): Wordings {
  const entries = locales.map((locale) => {
    const parsed = wordingSchema.safeParse(
      JSON.parse(readFileSync(new URL(`${locale}.json`, cardsDir), 'utf8')),
    );
    if (!parsed.success) throw new Error(`cards/${locale}.json is invalid: ${parsed.error.message}`);
    const missing = untranslated(models, parsed.data);
    if (missing.length > 0) throw new Error(`cards/${locale}.json does not translate: ${missing.join(', ')}`);
    return [locale, parsed.data] as const;
  });
  return Object.fromEntries(entries) as Wordings;
}

/**
 * A template cut at its placeholders once: text, name, text, name, …, text (always an odd count). The
 * templates are the wording files' (a few hundred); the cache is emptied should it ever grow past that.
 */
const templateParts = new Map<string, readonly string[]>();
const mostTemplates = 2000;

function partsOf(template: string): readonly string[] {
  let parts = templateParts.get(template);
  if (parts === undefined) {
    if (templateParts.size >= mostTemplates) templateParts.clear();
    parts = template.split(/\{(\w+)\}/);
    templateParts.set(template, parts);
  }
  return parts;
}

/** Fills `{name}` placeholders; an unknown placeholder is left as it is, so a typo shows. */
export function fill(template: string, values: Record<string, string | number>): string {
  const parts = partsOf(template);
  let out = parts[0] as string;
  for (let i = 1; i < parts.length; i += 2) {
    const name = parts[i] as string;
    out += Object.hasOwn(values, name) ? String(values[name]) : `{${name}}`;
    out += parts[i + 1] as string;
  }
  return out;
}

/** A wording entry that must exist: missing ones are caught by the wording tests, this keeps output sane. */
export function word(table: Record<string, string>, key: string): string {
  return table[key] ?? key;
}
