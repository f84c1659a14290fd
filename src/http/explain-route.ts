/**
 * `GET /explain/{cardUuid}`: the picture of a risk card, from the ledger, in the card's language (or
 * `?lang=`). Public like the card's other links: the uuid is unguessable and the page holds no patient
 * identifier. Unknown, expired or unrecorded cards answer 404: a page for browsers, an
 * OperationOutcome for other callers.
 */
import type { Request, RequestHandler, Response } from 'express';
import type { Wordings } from '../cards/wording.ts';
import type { Model } from '../clinical/model.ts';
import { type Config, type Locale, locales } from '../config.ts';
import { explainStyle, renderExplainNotFound, renderExplainPage } from '../pages/explain-page.ts';
import { type PageStyle, pagePolicy } from '../pages/page-frame.ts';
import { recordedAssessment } from '../store/card-assessments.ts';
import type { Store } from '../store/store.ts';
import { NotFound } from './errors.ts';
import { baseUrlOf } from './public-url.ts';

export interface ExplainRouteOptions {
  config: Config;
  store: Store;
  models: ReadonlyMap<string, Model>;
  wordings: Wordings;
  now: () => Date;
}

const isLocale = (value: unknown): value is Locale =>
  typeof value === 'string' && (locales as readonly string[]).includes(value);

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

/** Whether the caller is a browser that would rather read a page than JSON. */
export function wantsPage(req: Request): boolean {
  return req.accepts(['json', 'html']) === 'html';
}

export function explainRoute(options: ExplainRouteOptions): RequestHandler {
  const { config, store, models, wordings } = options;
  return async (req, res) => {
    const uuid = String(req.params.cardUuid);
    const recorded = await recordedAssessment(store.db, uuid, {
      now: options.now(),
      retentionDays: config.retentionDays,
    });
    const model = recorded && models.get(recorded.model);
    const requested = req.query.lang;
    if (!recorded || !model) {
      const why = store.ledger.wasLost(uuid) ? 'its record could not be written' : 'unknown or expired';
      if (!wantsPage(req)) throw new NotFound(`No risk card '${uuid}' to explain: ${why}.`);
      const locale = isLocale(requested) ? requested : config.defaultLocale;
      const html = renderExplainNotFound(wordings[locale], { locale, retentionDays: config.retentionDays });
      sendPage(res, 404, explainStyle, html);
      return;
    }
    const locale = isLocale(requested)
      ? requested
      : isLocale(recorded.locale)
        ? recorded.locale
        : config.defaultLocale;
    const html = renderExplainPage(recorded, model, wordings[locale], {
      locale,
      modelUrl: `${baseUrlOf(req, config)}/models/${model.id}?lang=${locale}`,
      retentionDays: config.retentionDays,
    });
    sendPage(res, 200, explainStyle, html);
  };
}
