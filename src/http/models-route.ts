/**
 * The model descriptions: `GET /models` lists them, `GET /models/{id}` gives the model file as JSON, or
 * a readable page to a browser (`Accept: text/html`), in `?lang=` or the Accept-Language's language.
 * `?format=json` asks for the JSON whatever the Accept header says.
 */
import { Router } from 'express';
import type { Wordings } from '../cards/wording.ts';
import type { Model } from '../clinical/model.ts';
import type { Config } from '../config.ts';
import { modelStyle, renderModelNotFound, renderModelPage } from '../pages/model-page.ts';
import { NotFound } from './errors.ts';
import { pageLocale, sendPage, wantsPage } from './page-response.ts';

export function modelsRouter(options: {
  config: Config;
  models: ReadonlyMap<string, Model>;
  wordings: Wordings;
}): Router {
  const { config, models, wordings } = options;
  const router = Router();
  router.get('/', (_req, res) => {
    res.json({ models: [...models.values()].map((m) => ({ id: m.id, title: m.title, version: m.version })) });
  });
  router.get('/:id', (req, res) => {
    const model = models.get(req.params.id);
    const page = req.query.format !== 'json' && wantsPage(req);
    const locale = pageLocale(req, config.defaultLocale);
    res.vary('Accept').vary('Accept-Language');
    if (!model) {
      if (!page) throw new NotFound(`No model with id '${req.params.id}'.`);
      sendPage(res, 404, modelStyle, renderModelNotFound(wordings[locale], { locale, id: req.params.id }));
      return;
    }
    if (!page) {
      res.json(model);
      return;
    }
    const html = renderModelPage(model, wordings[locale], {
      locale,
      jsonUrl: `${req.baseUrl}/${model.id}?format=json`,
    });
    sendPage(res, 200, modelStyle, html);
  });
  return router;
}
