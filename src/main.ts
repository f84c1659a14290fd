/**
 * Process entry: configuration → models and wording → app → listen → graceful shutdown.
 * A bad setting or a malformed model/wording file stops the process here, with a message naming it.
 */
import { assembleApp, serve } from './assemble.ts';
import { ConfigError, loadConfig } from './config.ts';
import { createLogger } from './observability/logger.ts';

try {
  const config = loadConfig();
  const logger = createLogger(config.logLevel);
  serve(assembleApp(config, logger), config, logger);
} catch (error) {
  const message = error instanceof ConfigError || error instanceof Error ? error.message : String(error);
  process.stderr.write(`pvp-cds cannot start: ${message}\n`);
  process.exit(1);
}
