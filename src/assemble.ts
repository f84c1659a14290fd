/**
 * The service as one express app from a validated configuration: models and wording (a malformed file
 * throws, naming it), the client verifier, both hook services; and how it listens. The process entry,
 * the soak harness and the tests all build it here, so what they run is what is deployed.
 */
import type { Server } from 'node:http';
import type express from 'express';
import { loadWordings } from './cards/wording.ts';
import { type LoadedModels, loadModelFiles } from './clinical/model-files.ts';
import type { Config } from './config.ts';
import { type AppDependencies, createApp, lifecycleOf, metricsOf } from './http/app.ts';
import { answerClientError } from './http/client-error.ts';
import type { Logger } from './observability/logger.ts';
import { orderSelectService } from './services/order-select.ts';
import { orderSignService } from './services/order-sign.ts';
import { patientViewService } from './services/patient-view.ts';
import type { Store } from './store/store.ts';
import { configuredVerifier } from './trust.ts';

export function assembleApp(
  config: Config,
  logger: Logger,
  store: Store,
  overrides: Partial<Pick<AppDependencies, 'now' | 'fhirReader'>> & { models?: LoadedModels } = {},
): express.Express {
  const { models: loaded, ...rest } = overrides;
  const { models, files } = loaded ?? loadModelFiles(config.modelDir);
  for (const model of Object.values(models)) {
    logger.info(
      {
        model: model.id,
        version: model.version,
        calibrated: model.local?.method ?? false,
        file: files[model.kind],
      },
      'model loaded',
    );
  }
  const wordings = loadWordings(Object.values(models));
  return createApp({
    config,
    logger,
    models,
    wordings,
    store,
    verifier: configuredVerifier(config, logger, store.replayCache),
    services: [
      patientViewService(models, wordings),
      orderSignService(models, wordings),
      orderSelectService(models, wordings),
    ],
    ...rest,
  });
}

/**
 * Listens as deployed: bounded header and request times, an OperationOutcome for what Node's HTTP
 * parser refuses (http/client-error.ts), a fatal exit when the port cannot be had, and a graceful
 * shutdown on SIGTERM/SIGINT: readiness turns off at once (so the load balancer stops
 * sending), the answers in flight finish and their cards are recorded, the store closes, exit 0. After
 * SHUTDOWN_GRACE_MS the process exits 1 whatever is still running.
 */
export function serve(
  app: express.Express,
  config: Config,
  logger: Logger,
  store: Store,
  onListening?: () => void,
): Server {
  const server = app.listen(config.port, config.host, () => {
    logger.info({ port: config.port, host: config.host, env: config.nodeEnv }, 'pvp-cds listening');
    onListening?.();
  });
  // A hook request is a body of at most BODY_LIMIT_BYTES: a client that trickles it for longer holds a
  // socket for nothing (slowloris). The defaults are 60 s for headers and 300 s for the whole request.
  server.headersTimeout = 10_000;
  server.requestTimeout = 30_000;
  const metrics = metricsOf(app);
  server.on('clientError', (error: NodeJS.ErrnoException, socket) => {
    const status = answerClientError(error, socket);
    if (status !== undefined) metrics.httpResponses.inc({ route: 'unparsed', status });
  });
  server.on('error', (error) => {
    logger.fatal({ error: error.message }, 'cannot listen');
    process.exit(1);
  });
  const lifecycle = lifecycleOf(app);
  // A second signal (npm forwards one, a supervisor sends another) must not cut the drain short.
  let stopping = false;
  const shutdown = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    const started = performance.now();
    logger.info({ signal, inFlight: lifecycle.inFlight, graceMs: config.shutdownGraceMs }, 'draining');
    setTimeout(() => {
      logger.error(
        { inFlight: lifecycle.inFlight, graceMs: config.shutdownGraceMs },
        'shutdown grace period over: exiting with answers still in flight',
      );
      process.exit(1);
    }, config.shutdownGraceMs).unref();
    await lifecycle.drain();
    server.close();
    server.closeAllConnections();
    try {
      await store.close();
    } catch (error) {
      logger.error(
        { error: error instanceof Error ? error.name : 'error' },
        'database did not close cleanly',
      );
      process.exit(1);
    }
    logger.info({ ms: Math.round(performance.now() - started) }, 'stopped');
    process.exit(0);
  };
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
  process.on('SIGINT', () => void shutdown('SIGINT'));
  return server;
}
