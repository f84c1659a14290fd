/** What the routes serving HTML pages share: the page's language, page or JSON, and the response. */
import type { Request, Response } from 'express';
import { type Locale, locales } from '../config.ts';
import { type PageStyle, pagePolicy } from '../pages/page-frame.ts';
import { negotiateLocale } from './locale.ts';

/** The locale named by `?lang=`, if it is one of ours. */
export function askedLocale(req: Request): Locale | undefined {
  const asked = req.query.lang;
  return typeof asked === 'string' && (locales as readonly string[]).includes(asked)
    ? (asked as Locale)
    : undefined;
}

/** `?lang=`, else Accept-Language, else `fallback`. */
export function pageLocale(req: Request, fallback: Locale): Locale {
  return askedLocale(req) ?? negotiateLocale(req.get('accept-language'), fallback);
}

/** Whether the caller is a browser that would rather read a page than JSON. */
export function wantsPage(req: Request): boolean {
  return req.accepts(['json', 'html']) === 'html';
}

/** Sends a server-rendered page with its style's CSP (and `extra` directives). */
export function sendPage(
  res: Response,
  status: number,
  style: PageStyle,
  html: string,
  extra?: string,
): void {
  res
    .status(status)
    .set({ 'Content-Security-Policy': pagePolicy(style, extra), 'Cache-Control': 'no-store' })
    .type('html')
    .send(html);
}
