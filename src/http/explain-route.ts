/**
 * `GET /explain/{cardUuid}`: the picture of a risk card, from the ledger, in the card's language (or
 * `?lang=`). Public like the card's other links: the uuid is unguessable and the page holds no patient
 * identifier. Unknown, expired or unrecorded cards answer 404: a page for browsers, an
 * OperationOutcome for other callers.
 */
import type { RequestHandler } from 'express';
import type { Wordings } from '../cards/wording.ts';
import type { Model } from '../clinical/model.ts';
import { type Config, type Locale, locales } from '../config.ts';
import { explainStyle, renderExplainNotFound, renderExplainPage } from '../pages/explain-page.ts';
import { recordedAssessment } from '../store/card-assessments.ts';
import type { Store } from '../store/store.ts';
import { NotFound } from './errors.ts';
import { askedLocale, sendPage, wantsPage } from './page-response.ts';
import { baseUrlOf } from './public-url.ts';

export interface ExplainRouteOptions {
  config: Config;
  store: Store;
  models: ReadonlyMap<string, Model>;
  wordings: Wordings;
  now: () => Date;
}

const isLocale = (value: string): value is Locale => (locales as readonly string[]).includes(value);

export function explainRoute(options: ExplainRouteOptions): RequestHandler {
  const { config, store, models, wordings } = options;
  return async (req, res) => {
    const uuid = String(req.params.cardUuid);
    const recorded = await recordedAssessment(store.db, uuid, {
      now: options.now(),
      retentionDays: config.retentionDays,
    });
    const model = recorded && models.get(recorded.model);
    const asked = askedLocale(req);
    if (!recorded || !model) {
      const why = store.ledger.wasLost(uuid) ? 'its record could not be written' : 'unknown or expired';
      if (!wantsPage(req)) throw new NotFound(`No risk card '${uuid}' to explain: ${why}.`);
      const locale = asked ?? config.defaultLocale;
      const html = renderExplainNotFound(wordings[locale], { locale, retentionDays: config.retentionDays });
      sendPage(res, 404, explainStyle, html);
      return;
    }
    const locale = asked ?? (isLocale(recorded.locale) ? recorded.locale : config.defaultLocale);
    const html = renderExplainPage(recorded, model, wordings[locale], {
      locale,
      modelUrl: `${baseUrlOf(req, config)}/models/${model.id}?lang=${locale}`,
      retentionDays: config.retentionDays,
    });
    sendPage(res, 200, explainStyle, html);
  };
}
