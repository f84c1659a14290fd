/** A pino logger whose lines a test can read, to check what is logged and what never is. */
import { Writable } from 'node:stream';
import { type Logger, pino } from 'pino';

export function capturedLogger(level = 'info'): { logger: Logger; lines: string[] } {
  const lines: string[] = [];
  const logger = pino(
    { level },
    new Writable({
      write(chunk, _encoding, done) {
        lines.push(String(chunk));
        done();
      },
    }),
  );
  return { logger, lines };
}
