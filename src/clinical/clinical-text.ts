/**
 * Reading clinical free text, for the fallbacks CLINICAL.md allows when no known code is present:
 * whether a text mentions a concept, and whether that mention is negated ("no cement leakage", "未见渗漏").
 */
import { NEGATION_BEFORE } from './terminology/text-patterns.ts';

export type Mention = 'present' | 'absent';

/** The terminology patterns are compiled once; their global copies, needed by matchesOf, once each too. */
const globalVariants = new WeakMap<RegExp, RegExp>();

function globalVariant(pattern: RegExp): RegExp {
  let global = globalVariants.get(pattern);
  if (!global) {
    global = pattern.flags.includes('g') ? pattern : new RegExp(pattern.source, `${pattern.flags}g`);
    globalVariants.set(pattern, global);
  }
  return global;
}

/**
 * Every match of a global pattern in `words`, by `exec` from the start: `String#matchAll` copies the
 * pattern on every call, which made it three times slower on the short texts of a record.
 */
export function matchesOf(pattern: RegExp, words: string): RegExpExecArray[] {
  const found: RegExpExecArray[] = [];
  pattern.lastIndex = 0;
  for (let match = pattern.exec(words); match !== null; match = pattern.exec(words)) {
    found.push(match);
    if (match[0] === '') pattern.lastIndex++;
  }
  return found;
}

/**
 * Whether the texts mention the pattern: 'present' if any mention is not negated, 'absent' if every
 * mention is negated, undefined if there is no mention.
 */
export function mentionIn(texts: readonly string[], pattern: RegExp): Mention | undefined {
  const global = globalVariant(pattern);
  let negated = false;
  let previous: string | undefined;
  for (const words of texts) {
    // A display that repeats the concept's text says nothing more: the answer does not depend on repeats.
    if (words === previous) continue;
    previous = words;
    for (const match of matchesOf(global, words)) {
      const before = words.slice(Math.max(0, match.index - 40), match.index);
      if (!NEGATION_BEFORE.test(before)) return 'present';
      negated = true;
    }
  }
  return negated ? 'absent' : undefined;
}

/** Whether any text mentions the pattern without negating it. */
export function affirms(texts: readonly string[], pattern: RegExp): boolean {
  return mentionIn(texts, pattern) === 'present';
}

export function escapeRegExp(literal: string): string {
  return literal.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
