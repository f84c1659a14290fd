/**
 * Process entry: configuration → models and wording → app → listen → graceful shutdown.
 * A bad setting or a malformed model/wording file stops the process here, with a message naming it.
 */
import type { Server } from 'node:http';
import { loadWordings } from './cards/wording.ts';
import { loadModels } from './clinical/model-files.ts';
import { ConfigError, loadConfig } from './config.ts';
import { createApp } from './http/app.ts';
import { createLogger } from './observability/logger.ts';
import { orderSignService } from './services/order-sign.ts';
import { patientViewService } from './services/patient-view.ts';
import { configuredVerifier } from './trust.ts';

function start(): Server {
  const config = loadConfig();
  const logger = createLogger(config.logLevel);
  const models = loadModels();
  const wordings = loadWordings(Object.values(models));
  const app = createApp({
    config,
    logger,
    models,
    verifier: configuredVerifier(config, logger),
    services: [patientViewService(models, wordings), orderSignService(models, wordings)],
  });
  const server = app.listen(config.port, config.host, () => {
    logger.info({ port: config.port, host: config.host, env: config.nodeEnv }, 'pvp-cds listening');
  });
  server.on('error', (error) => {
    logger.fatal({ error: error.message }, 'cannot listen');
    process.exit(1);
  });
  const shutdown = (signal: string) => {
    logger.info({ signal }, 'shutting down');
    server.close(() => process.exit(0));
    server.closeIdleConnections();
    setTimeout(() => process.exit(1), 10_000).unref();
  };
  process.once('SIGTERM', () => shutdown('SIGTERM'));
  process.once('SIGINT', () => shutdown('SIGINT'));
  return server;
}

try {
  start();
} catch (error) {
  const message = error instanceof ConfigError || error instanceof Error ? error.message : String(error);
  process.stderr.write(`pvp-cds cannot start: ${message}\n`);
  process.exit(1);
}
