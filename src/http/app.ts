/**
 * The express app (no listen): security headers (helmet's, worked out once), CORS for browser clients
 * (cors), a request id and one log line per request without PHI, metrics, health and readiness, the
 * per-client rate limit, a JSON body with a size limit, discovery, the hook services, feedback,
 * analytics, the model descriptions, the picture of each risk card, errors.
 */
import cors from 'cors';
import express, { type RequestHandler } from 'express';
import type { RateLimiterAbstract } from 'rate-limiter-flexible';
import type { Wordings } from '../cards/wording.ts';
import type { ClientVerifier } from '../cds-hooks/client-jwt.ts';
import type { BaseContext, CdsService } from '../cds-hooks/service.ts';
import type { Models } from '../clinical/model-files.ts';
import type { Config } from '../config.ts';
import type { Logger } from '../observability/logger.ts';
import { createMetrics, type Metrics } from '../observability/metrics.ts';
import { requestIdFrom, runWithRequestId } from '../observability/request-context.ts';
import type { Store } from '../store/store.ts';
import { analyticsRouter } from './analytics-route.ts';
import { arrivedAt, stampArrival } from './arrival.ts';
import { clientAuth } from './client-auth.ts';
import { errorHandler, notFoundHandler } from './error-handler.ts';
import { explainRoute } from './explain-route.ts';
import { feedbackRoute } from './feedback-route.ts';
import { type HookLog, type HookRouteOptions, hookLogOf, hookRoute } from './hook-route.ts';
import { Lifecycle } from './lifecycle.ts';
import { modelsRouter } from './models-route.ts';
import { operationsRouter } from './operations-routes.ts';
import { createRateLimiter, rateLimit } from './rate-limit.ts';
import { answerSecurityOptions, securityHeaders } from './security-headers.ts';

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
  /** This app's metrics; made here when not given. */
  metrics?: Metrics;
  /** Per-client call counts; by default in the store's database (shared by replicas on PostgreSQL). */
  rateLimiter?: RateLimiterAbstract;
}

/** What `serve` needs of an app it did not build: its draining state. */
export function lifecycleOf(app: express.Express): Lifecycle {
  return app.locals.lifecycle as Lifecycle;
}

/** And its metrics, to count what the HTTP parser refuses before the app sees it. */
export function metricsOf(app: express.Express): Metrics {
  return app.locals.metrics as Metrics;
}

/** Every line logged while a request is handled carries its id; the caller gets it back. */
const requestId: RequestHandler = (req, res, next) => {
  const id = requestIdFrom(req.get('x-request-id'));
  res.locals.requestId = id;
  res.set('X-Request-Id', id);
  runWithRequestId(id, next);
};

/** Reading a body continues in the socket's context, not the request's: enter it again. */
const sameRequestId: RequestHandler = (_req, res, next) => {
  runWithRequestId(res.locals.requestId as string, next);
};

const probes = new Set(['/healthz', '/readyz', '/metrics']);

const topLevel = new Set(['cds-services', 'analytics', 'models', 'explain']);

/** A request refused before a route took it (401, 429, 404) is counted under its top-level path. */
function unmatchedRoute(path: string): string {
  const first = path.split('/')[1] ?? '';
  return topLevel.has(first) ? `/${first}/*` : 'unmatched';
}

/**
 * One line and the response counters per request, when it has been answered: the route pattern (the
 * path itself may carry a card's uuid), the status, the time, and for hooks what the hook route
 * noted (service, hook, data source, FHIR calls and their time), never a patient's data.
 */
function requestLog(logger: Logger, metrics: Metrics): RequestHandler {
  return (req, res, next) => {
    res.once('finish', () => {
      const ms = performance.now() - arrivedAt(res);
      const route = req.route ? `${req.baseUrl}${String(req.route.path)}` : unmatchedRoute(req.path);
      const status = res.statusCode;
      const hook: HookLog | undefined = hookLogOf(res);
      metrics.httpResponses.inc({ route, status });
      if (hook) metrics.hookDuration.observe({ service: hook.cdsService, status }, ms / 1000);
      // Probes and scrapes come every few seconds: at debug level, unless they fail.
      const level = probes.has(route) && status < 400 ? 'debug' : 'info';
      if (!logger.isLevelEnabled(level)) return;
      runWithRequestId(res.locals.requestId as string, () => {
        logger[level]({ method: req.method, route, status, ms: Math.round(ms), ...hook }, 'request');
      });
    });
    next();
  };
}

export function createApp(deps: AppDependencies): express.Express {
  const { config, logger } = deps;
  const metrics = deps.metrics ?? createMetrics({ ledgerCardsLost: () => deps.store.ledger.lostCount });
  const lifecycle = new Lifecycle();
  const services = new Map(deps.services.map((s) => [s.definition.id, s]));
  const models = new Map(Object.values(deps.models).map((m) => [m.id, m]));
  const modelVersions = Object.fromEntries([...models.values()].map((m) => [m.id, m.version]));
  const now = deps.now ?? (() => new Date());
  const app = express();
  app.locals.lifecycle = lifecycle;
  app.locals.metrics = metrics;
  app.disable('x-powered-by');
  app.set('etag', false);
  app.use(
    stampArrival,
    securityHeaders(answerSecurityOptions),
    // Preflights carry no credentials; the JWT comes in the Authorization header.
    cors({
      origin: config.corsOrigins,
      methods: ['GET', 'POST', 'OPTIONS'],
      allowedHeaders: ['Authorization', 'Content-Type', 'Accept-Language'],
      exposedHeaders: ['Retry-After', 'X-Request-Id'],
      maxAge: 600,
      optionsSuccessStatus: 204,
    }),
    requestId,
    requestLog(logger, metrics),
  );
  // Probes and scrapes are not work in flight: they must keep answering while the service drains.
  app.use(
    operationsRouter({ config, logger, db: deps.store.db, verifier: deps.verifier, metrics, lifecycle }),
  );
  app.use(lifecycle.tracker);
  // Callers are verified before their bodies are read; the model descriptions and health stay public.
  app.use(
    '/cds-services',
    clientAuth(config, deps.verifier, logger, metrics),
    rateLimit(deps.rateLimiter ?? createRateLimiter(config.rateLimitPerMinute, deps.store.db)),
  );
  app.use(
    express.json({ limit: config.bodyLimitBytes, type: ['application/json', 'application/*+json'] }),
    sameRequestId,
  );

  app.get('/cds-services', (_req, res) => {
    res.json({ services: deps.services.map((s) => s.definition) });
  });
  app.post(
    '/cds-services/:id/feedback',
    feedbackRoute({ serviceIds: new Set(services.keys()), store: deps.store, logger, metrics, now }),
  );
  app.post(
    '/cds-services/:id',
    hookRoute({
      config,
      logger,
      metrics,
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
  app.use(errorHandler(logger, metrics));
  return app;
}
