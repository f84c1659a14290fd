/**
 * Process entry: configuration → store (migrations) → models and wording → app → listen → graceful
 * shutdown. A bad setting, an unreachable database or a malformed model/wording file stops the process
 * here, with a message naming it. `--print-config` prints the effective settings (secrets masked) and
 * exits without starting.
 */
import { assembleApp, serve } from './assemble.ts';
import { loadModelFiles } from './clinical/model-files.ts';
import { loadConfig, printableConfig } from './config.ts';
import { createLogger } from './observability/logger.ts';
import { openStore } from './store/store.ts';

try {
  if (process.argv.includes('--print-config')) {
    process.stdout.write(`${printableConfig()}\n`);
  } else {
    const config = loadConfig();
    const logger = createLogger(config.logLevel, config.logFormat);
    // A bad model file stops the process before the database is opened.
    const models = loadModelFiles(config.modelDir);
    const store = await openStore(config, logger);
    serve(assembleApp(config, logger, store, { models }), config, logger, store);
  }
} catch (error) {
  const message = error instanceof Error ? error.message : String(error);
  process.stderr.write(`pvp-cds cannot start: ${message}\n`);
  process.exit(1);
}
