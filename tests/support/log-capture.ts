/**
 * The service's own logger (JSON lines, request ids, redaction) writing to lines a test can read, to
 * check what is logged and what never is.
 */
import { Writable } from 'node:stream';
import { createLogger, type Logger } from '../../src/observability/logger.ts';

export function capturedLogger(level = 'info'): { logger: Logger; lines: string[] } {
  const lines: string[] = [];
  const destination = new Writable({
    write(chunk, _encoding, done) {
      lines.push(String(chunk));
      done();
    },
  });
  return { logger: createLogger(level, 'json', destination), lines };
}
