/**
 * For the platform that runs the service: `/healthz` (the process answers), `/readyz` (configuration
 * loaded, database reachable, the trusted clients' keys loadable or cached, not draining) and
 * `/metrics` (Prometheus text, behind METRICS_TOKEN when it is set).
 */
import { Router } from 'express';
import type { ClientVerifier } from '../cds-hooks/client-jwt.ts';
import type { Config } from '../config.ts';
import type { Logger } from '../observability/logger.ts';
import type { Metrics } from '../observability/metrics.ts';
import type { Database } from '../store/database.ts';
import { bearerToken, sameSecret } from './bearer.ts';
import { Unauthorized } from './errors.ts';
import type { Lifecycle } from './lifecycle.ts';

export interface OperationsOptions {
  config: Config;
  logger: Logger;
  db: Database;
  verifier: ClientVerifier | undefined;
  metrics: Metrics;
  lifecycle: Lifecycle;
}

async function databaseReachable(db: Database, timeoutMs: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<boolean>((resolve) => {
    timer = setTimeout(() => resolve(false), timeoutMs);
  });
  const ping = db.query('SELECT 1').then(
    () => true,
    () => false,
  );
  try {
    return await Promise.race([ping, late]);
  } finally {
    clearTimeout(timer);
  }
}

export function operationsRouter(options: OperationsOptions): Router {
  const { config, metrics, lifecycle } = options;
  const router = Router();
  router.get('/healthz', (_req, res) => {
    res.set('Cache-Control', 'no-store').json({ status: 'ok' });
  });
  router.get('/readyz', async (_req, res) => {
    const [database, issuersWithoutKeys] = await Promise.all([
      databaseReachable(options.db, config.databaseTimeoutMs),
      options.verifier?.issuersWithoutKeys() ?? Promise.resolve([]),
    ]);
    if (!database) metrics.databaseErrors.inc({ operation: 'readiness' });
    const ready = database && issuersWithoutKeys.length === 0 && !lifecycle.draining;
    if (!ready) {
      options.logger.warn({ database, issuersWithoutKeys, draining: lifecycle.draining }, 'not ready');
    }
    res
      .status(ready ? 200 : 503)
      .set('Cache-Control', 'no-store')
      .json({
        status: lifecycle.draining ? 'draining' : ready ? 'ready' : 'not ready',
        checks: {
          configuration: 'ok',
          database: database ? 'ok' : 'unreachable',
          clientKeys: issuersWithoutKeys.length === 0 ? 'ok' : { unavailable: issuersWithoutKeys },
        },
      });
  });
  router.get('/metrics', async (req, res) => {
    const token = bearerToken(req);
    if (config.metricsToken && !(token !== undefined && sameSecret(token, config.metricsToken))) {
      throw new Unauthorized();
    }
    res
      .set('Cache-Control', 'no-store')
      .type(metrics.registry.contentType)
      .send(await metrics.registry.metrics());
  });
  return router;
}
