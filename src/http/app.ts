/**
 * The express app (no listen): security headers, CORS for browser clients, JSON body with a size
 * limit, request logs without PHI, discovery, the hook services, feedback, analytics, the model
 * descriptions, the picture of each risk card, errors.
 */
import express, { type RequestHandler } from 'express';
import type { Wordings } from '../cards/wording.ts';
import type { ClientVerifier } from '../cds-hooks/client-jwt.ts';
import type { BaseContext, CdsService } from '../cds-hooks/service.ts';
import type { Models } from '../clinical/model-files.ts';
import type { Config } from '../config.ts';
import type { Logger } from '../observability/logger.ts';
import type { Store } from '../store/store.ts';
import { analyticsRouter } from './analytics-route.ts';
import { clientAuth } from './client-auth.ts';
import { errorHandler, notFoundHandler } from './error-handler.ts';
import { explainRoute } from './explain-route.ts';
import { feedbackRoute } from './feedback-route.ts';
import { type HookRouteOptions, hookRoute } from './hook-route.ts';
import { modelsRouter } from './models-route.ts';
import { rateLimit } from './rate-limit.ts';

export interface AppDependencies {
  config: Config;
  logger: Logger;
  services: Array<CdsService<BaseContext>>;
  models: Models;
  wordings: Wordings;
  /** The ledger, feedback and analytics. */
  store: Store;
  now?: () => Date;
  fhirReader?: HookRouteOptions['fhirReader'];
  /** Verifies CDS clients' JWTs; absent only when authentication is off (development). */
  verifier: ClientVerifier | undefined;
}

const securityHeaders: RequestHandler = (_req, res, next) => {
  res.set({
    'X-Content-Type-Options': 'nosniff',
    'X-Frame-Options': 'DENY',
    'Referrer-Policy': 'no-referrer',
    'Content-Security-Policy': "default-src 'none'; frame-ancestors 'none'",
    'Cross-Origin-Resource-Policy': 'cross-origin',
  });
  next();
};

/** Browser clients (the CDS Hooks sandbox) call us cross-origin; preflights carry no credentials. */
function cors(origins: Config['corsOrigins']): RequestHandler {
  return (req, res, next) => {
    const origin = req.get('origin');
    const allowed = origins === '*' ? '*' : origin && origins.includes(origin) ? origin : undefined;
    if (allowed) {
      res.set({
        'Access-Control-Allow-Origin': allowed,
        'Access-Control-Allow-Methods': 'GET, POST, OPTIONS',
        'Access-Control-Allow-Headers': 'Authorization, Content-Type, Accept-Language',
        'Access-Control-Max-Age': '600',
      });
      if (allowed !== '*') res.vary('Origin');
    }
    if (req.method === 'OPTIONS') {
      res.status(204).end();
      return;
    }
    next();
  };
}

function requestLog(logger: Logger): RequestHandler {
  return (req, res, next) => {
    const started = performance.now();
    res.on('finish', () => {
      logger.info(
        {
          method: req.method,
          path: req.path,
          status: res.statusCode,
          ms: Math.round(performance.now() - started),
        },
        'request',
      );
    });
    next();
  };
}

export function createApp(deps: AppDependencies): express.Express {
  const { config, logger } = deps;
  const services = new Map(deps.services.map((s) => [s.definition.id, s]));
  const models = new Map(Object.values(deps.models).map((m) => [m.id, m]));
  const modelVersions = Object.fromEntries([...models.values()].map((m) => [m.id, m.version]));
  const now = deps.now ?? (() => new Date());
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  app.use(securityHeaders, cors(config.corsOrigins), requestLog(logger));
  // Callers are verified before their bodies are read; the model descriptions and health stay public.
  app.use('/cds-services', clientAuth(config, deps.verifier, logger), rateLimit(config.rateLimitPerMinute));
  app.use(express.json({ limit: config.bodyLimitBytes, type: ['application/json', 'application/*+json'] }));

  app.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });
  app.get('/cds-services', (_req, res) => {
    res.json({ services: deps.services.map((s) => s.definition) });
  });
  app.post(
    '/cds-services/:id/feedback',
    feedbackRoute({ serviceIds: new Set(services.keys()), store: deps.store, logger, now }),
  );
  app.post(
    '/cds-services/:id',
    hookRoute({
      config,
      logger,
      services,
      now,
      fhirReader: deps.fhirReader,
      recordCards: (issued) => deps.store.ledger.record({ ...issued, modelVersions }),
    }),
  );
  app.use('/analytics', analyticsRouter({ config, store: deps.store, wordings: deps.wordings, now }));
  app.use('/models', modelsRouter({ config, models, wordings: deps.wordings }));
  app.get(
    '/explain/:cardUuid',
    explainRoute({ config, store: deps.store, models, wordings: deps.wordings, now }),
  );
  app.use(notFoundHandler);
  app.use(errorHandler(logger));
  return app;
}
