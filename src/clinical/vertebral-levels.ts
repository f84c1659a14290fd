/**
 * Vertebral levels named in text: "L3", "T12 vertebra", "L1-L2", "L1–2", "T11, L1", "第3腰椎", "腰3",
 * "胸12", "第1、2腰椎", "lumbar vertebra 3", "third lumbar vertebra". Levels run C1–C7, T1–T12, L1–L5, S1.
 */
import { matchesOf } from './clinical-text.ts';
import { codings, conceptTexts, listOf } from './fhir-reading.ts';
import type { VertebralLevel } from './patient-facts.ts';

const REGION_SIZE: Readonly<Record<string, number>> = { C: 7, T: 12, L: 5, S: 1 };

/** Every level, top to bottom. */
export const SPINE: readonly VertebralLevel[] = Object.entries(REGION_SIZE).flatMap(([region, size]) =>
  Array.from({ length: size }, (_, i) => `${region}${i + 1}` as VertebralLevel),
);

const SPINE_INDEX = new Map(SPINE.map((level, index) => [level, index]));

/** A range longer than this many levels is read as its two ends only (a typo or a region, not fractures). */
const LONGEST_RANGE = 6;

const CHINESE_DIGITS: Readonly<Record<string, number>> = {
  一: 1,
  二: 2,
  三: 3,
  四: 4,
  五: 5,
  六: 6,
  七: 7,
  八: 8,
  九: 9,
};

const CHINESE_REGION: Readonly<Record<string, string>> = { 颈: 'C', 胸: 'T', 腰: 'L', 骶: 'S' };
const ENGLISH_REGION: Readonly<Record<string, string>> = {
  cervical: 'C',
  thoracic: 'T',
  dorsal: 'T',
  lumbar: 'L',
  sacral: 'S',
};
const ORDINALS = [
  'first',
  'second',
  'third',
  'fourth',
  'fifth',
  'sixth',
  'seventh',
  'eighth',
  'ninth',
  'tenth',
  'eleventh',
  'twelfth',
];

const RANGE_SEPARATOR = /^\s*(-|–|—|~|～|至|到|to|through|thru)\s*$/i;
const NUMBER = '\\d{1,2}|[一二三四五六七八九十]{1,3}';

/** Level patterns built from the constants above, compiled once. */
const chineseOrdinal = new RegExp(
  `第\\s*((?:${NUMBER})(?:\\s*[-–—~～至到、,，和及]\\s*(?:${NUMBER}))*)\\s*(颈|胸|腰|骶)\\s*椎`,
  'g',
);
const englishOrdinal = new RegExp(
  `\\b(${ORDINALS.join('|')}|\\d{1,2}(?:st|nd|rd|th))\\s+(cervical|thoracic|dorsal|lumbar|sacral)\\s+vertebra`,
  'gi',
);

/** "T1"/"T2" followed by these words are MRI sequences, not vertebrae. */
const MRI_SEQUENCE_AFTER =
  /^\s*(-?\s*weighted|WI\b|W\b|hyper|hypo|signal|image|sequence|FS\b|STIR|加权|信号|像|压脂)/i;

interface Token {
  start: number;
  end: number;
  levels: VertebralLevel[];
}

function chineseNumber(numeral: string): number | undefined {
  if (/^\d+$/.test(numeral)) return Number(numeral);
  if (numeral === '十') return 10;
  const tens = /^([二三四五六七八九]?)十([一二三四五六七八九]?)$/.exec(numeral);
  if (tens)
    return (
      (tens[1] ? (CHINESE_DIGITS[tens[1]] ?? 0) : 1) * 10 + (tens[2] ? (CHINESE_DIGITS[tens[2]] ?? 0) : 0)
    );
  return CHINESE_DIGITS[numeral];
}

function toLevel(region: string | undefined, n: number | undefined): VertebralLevel | undefined {
  if (region === undefined || n === undefined) return undefined;
  const size = REGION_SIZE[region];
  return size !== undefined && n >= 1 && n <= size ? (`${region}${n}` as VertebralLevel) : undefined;
}

function levelRange(from: VertebralLevel, to: VertebralLevel): VertebralLevel[] {
  const a = SPINE_INDEX.get(from) ?? 0;
  const b = SPINE_INDEX.get(to) ?? 0;
  const [low, high] = a <= b ? [a, b] : [b, a];
  if (high - low + 1 > LONGEST_RANGE) return [from, to];
  return SPINE.slice(low, high + 1);
}

/** A region then numbers joined by range or list separators: "腰1-3", "腰1、2", "L1-2". */
function regionNumbers(region: string, numbers: string): VertebralLevel[] {
  const parts = numbers.split(/\s*([-–—~～至到、,，和及])\s*/);
  const levels: VertebralLevel[] = [];
  let previous: VertebralLevel | undefined;
  for (let i = 0; i < parts.length; i += 2) {
    const level = toLevel(region, chineseNumber(parts[i] ?? ''));
    if (level === undefined) return levels;
    const separator = parts[i - 1];
    if (previous !== undefined && separator !== undefined && /[-–—~～至到]/.test(separator)) {
      levels.push(...levelRange(previous, level));
    } else {
      levels.push(level);
    }
    previous = level;
  }
  return levels;
}

/** "L3", "T12-L1", "Th12": a region letter and a number, not inside a word or a decimal. */
const latinLevel = /(?<![A-Za-z0-9])(Th|[CTLS])(\d{1,2})(?:\s*[-–—~～]\s*(\d{1,2})(?!\d|\.\d))?(?!\d|\.\d)/gi;
/** "腰3", "胸12、腰1", "腰一椎". */
const chineseRegionLevel =
  /(颈|胸|腰|骶)(\d{1,2}(?:\s*[-–—~～至到、,，和及]\s*\d{1,2}(?=\s*(?:椎|、|,|，|$|\s|骨折|压缩)))*(?![\d])|[一二三四五六七八九十]{1,3}(?=椎))/g;
/** "lumbar vertebra 3", "thoracic 12". */
const englishNumbered =
  /\b(cervical|thoracic|dorsal|lumbar|sacral)\s+(?:(?:vertebra|vertebrae|vertebral\s+body|spine)\s+)?(\d{1,2})\b/gi;

/** What each pattern needs: most texts (a drug, a diagnosis without a level) have none of it. */
const DIGIT = /\d/;
const CHINESE_REGION_CHARACTER = /[颈胸腰骶]/;
const ENGLISH_REGION_WORD = /cervical|thoracic|dorsal|lumbar|sacral/i;

function* tokensOf(words: string): Generator<Token> {
  const digit = DIGIT.test(words);
  const englishRegion = ENGLISH_REGION_WORD.test(words);
  if (digit) {
    for (const m of matchesOf(latinLevel, words)) {
      const region = (m[1] ?? '').charAt(0).toUpperCase();
      if (
        region === 'T' &&
        /^[12]$/.test(m[2] ?? '') &&
        MRI_SEQUENCE_AFTER.test(words.slice(m.index + m[0].length))
      ) {
        continue;
      }
      const levels = regionNumbers(region, m[3] === undefined ? (m[2] ?? '') : `${m[2]}-${m[3]}`);
      if (levels.length > 0) yield { start: m.index, end: m.index + m[0].length, levels };
    }
  }
  if (CHINESE_REGION_CHARACTER.test(words)) {
    for (const m of matchesOf(chineseOrdinal, words)) {
      const levels = regionNumbers(CHINESE_REGION[m[2] ?? ''] ?? '', m[1] ?? '');
      if (levels.length > 0) yield { start: m.index, end: m.index + m[0].length, levels };
    }
    for (const m of matchesOf(chineseRegionLevel, words)) {
      const levels = regionNumbers(CHINESE_REGION[m[1] ?? ''] ?? '', m[2] ?? '');
      if (levels.length > 0) yield { start: m.index, end: m.index + m[0].length, levels };
    }
  }
  if (!englishRegion) return;
  if (digit) {
    for (const m of matchesOf(englishNumbered, words)) {
      const level = toLevel(ENGLISH_REGION[(m[1] ?? '').toLowerCase()], Number(m[2]));
      if (level) yield { start: m.index, end: m.index + m[0].length, levels: [level] };
    }
  }
  for (const m of matchesOf(englishOrdinal, words)) {
    const ordinal = (m[1] ?? '').toLowerCase();
    const n = ORDINALS.includes(ordinal) ? ORDINALS.indexOf(ordinal) + 1 : Number.parseInt(ordinal, 10);
    const level = toLevel(ENGLISH_REGION[(m[2] ?? '').toLowerCase()], n);
    if (level) yield { start: m.index, end: m.index + m[0].length, levels: [level] };
  }
}

/** Levels top to bottom, each once. */
export function inSpineOrder(levels: Iterable<VertebralLevel>): VertebralLevel[] {
  return [...new Set(levels)].sort((a, b) => (SPINE_INDEX.get(a) ?? 0) - (SPINE_INDEX.get(b) ?? 0));
}

/** The vertebral levels a text names, top to bottom, each once. Ranges ("L1-L3", "T12–L1") are expanded. */
export function parseVertebralLevels(words: string): VertebralLevel[] {
  if (typeof words !== 'string' || words === '') return [];
  const tokens = [...tokensOf(words)].sort((a, b) => a.start - b.start || b.end - a.end);
  // Most texts read for levels name none.
  if (tokens.length === 0) return [];
  const kept: Token[] = [];
  for (const token of tokens) {
    const previous = kept.at(-1);
    if (previous && token.start < previous.end) continue;
    kept.push(token);
  }
  const levels: VertebralLevel[] = [];
  kept.forEach((token, i) => {
    const previous = kept[i - 1];
    const last = previous?.levels.at(-1);
    const first = token.levels[0];
    if (previous && last && first && RANGE_SEPARATOR.test(words.slice(previous.end, token.start))) {
      levels.push(...levelRange(last, first));
    }
    levels.push(...token.levels);
  });
  return inSpineOrder(levels);
}

/** Levels named by any of the texts. */
export function levelsInTexts(texts: readonly string[]): VertebralLevel[] {
  const levels: VertebralLevel[] = [];
  for (const words of texts) levels.push(...parseVertebralLevels(words));
  return inSpineOrder(levels);
}

/** A code that is itself a level (a local code system's "L3", "T12", "腰3"). */
const LEVEL_LIKE_CODE = /^(th|[ctls])\d{1,2}$|[颈胸腰骶]/i;

/** Levels named by body sites (CodeableConcepts): their text, displays, and codes that look like a level. */
export function levelsInBodySites(bodySites: unknown): VertebralLevel[] {
  const texts = listOf(bodySites).flatMap((site) => [
    ...conceptTexts(site),
    ...codings(site)
      .map((coding) => coding.code)
      .filter((code): code is string => code !== undefined && LEVEL_LIKE_CODE.test(code)),
  ]);
  return levelsInTexts(texts);
}
