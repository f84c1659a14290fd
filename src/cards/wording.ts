/**
 * Card wording per locale, from `cards/<locale>.json` at the repository root: what clinicians read,
 * editable without touching code. Loaded and validated once at start-up.
 */
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { type Locale, locales } from '../config.ts';

const strings = z.record(z.string(), z.string().min(1));
const adviceByTier = z.record(z.string(), z.array(z.string().min(1)).min(1));

const wordingSchema = z.object({
  locale: z.enum(locales),
  sourceLabel: z.string().min(1),
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
  }),
  drugs: strings,
  detail: z.object({
    tierLine: z.string(),
    tableHeader: z.string(),
    noFactors: z.string(),
    notAssessed: z.string(),
    shown: z.string(),
    unreadable: z.string(),
    textMatches: z.string(),
    ignoredData: z.string(),
    provisional: z.string(),
    orNotPublished: z.string(),
    calibration: z.string(),
    adviceHeading: z.string(),
  }),
  cards: z.object({
    'residual-pain-risk': z.object({ summary: z.string(), advice: adviceByTier }),
    'refracture-risk': z.object({ summary: z.string(), advice: adviceByTier }),
    'treatment-gap': z.object({ summary: z.string(), detail: z.string(), stopped: z.string() }),
    'missing-dxa': z.object({ summary: z.string(), detail: z.string() }),
    'denosumab-gap': z.object({ summary: z.string(), detail: z.string() }),
    'glucocorticoid-order': z.object({
      summary: z.string(),
      detail: z.string(),
      covered: z.string(),
      uncovered: z.string(),
      withOrder: z.string(),
    }),
  }),
  suggestions: strings,
  orderText: strings,
  actions: z.object({ create: z.string() }),
  overrideReasons: strings,
});

export type Wording = z.infer<typeof wordingSchema>;
export type Wordings = Record<Locale, Wording>;

const cardsDir = new URL('../../cards/', import.meta.url);

export function loadWordings(): Wordings {
  const entries = locales.map((locale) => {
    const parsed = wordingSchema.safeParse(
      JSON.parse(readFileSync(new URL(`${locale}.json`, cardsDir), 'utf8')),
    );
    if (!parsed.success) throw new Error(`cards/${locale}.json is invalid: ${parsed.error.message}`);
    return [locale, parsed.data] as const;
  });
  return Object.fromEntries(entries) as Wordings;
}

/** Fills `{name}` placeholders; an unknown placeholder is left as it is, so a typo shows. */
export function fill(template: string, values: Record<string, string | number>): string {
  return template.replace(/\{(\w+)\}/g, (whole, name: string) =>
    Object.hasOwn(values, name) ? String(values[name]) : whole,
  );
}

/** A wording entry that must exist: missing ones are caught by the wording tests, this keeps output sane. */
export function word(table: Record<string, string>, key: string): string {
  return table[key] ?? key;
}
