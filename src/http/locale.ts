/** Picks the card locale from Accept-Language (q-values honoured), else the configured default. */
import type { Locale } from '../config.ts';

function localeOf(tag: string): Locale | undefined {
  const lower = tag.toLowerCase();
  if (lower === 'zh' || lower.startsWith('zh-cn') || lower.startsWith('zh-hans') || lower === 'zh-sg')
    return 'zh-CN';
  if (lower === 'en' || lower.startsWith('en-')) return 'en';
  return undefined;
}

export function negotiateLocale(acceptLanguage: string | undefined, fallback: Locale): Locale {
  if (!acceptLanguage) return fallback;
  const ranked = acceptLanguage
    .split(',')
    .map((part, index) => {
      const [tag = '', ...params] = part.trim().split(';');
      const q = params.map((p) => p.trim()).find((p) => p.startsWith('q='));
      const quality = q ? Number.parseFloat(q.slice(2)) : 1;
      return { locale: localeOf(tag.trim()), quality: Number.isFinite(quality) ? quality : 0, index };
    })
    .filter(
      (r): r is { locale: Locale; quality: number; index: number } => r.locale !== undefined && r.quality > 0,
    )
    .sort((a, b) => b.quality - a.quality || a.index - b.index);
  return ranked[0]?.locale ?? fallback;
}
