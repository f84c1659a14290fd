/**
 * Structured JSON logs (pino). Log lines carry service ids, status codes, key names, counts and
 * durations: never patient ids, names, tokens, JWTs or request bodies. The redaction below is a
 * second line of defence, not the first.
 */
import { type Logger, pino } from 'pino';

export type { Logger };

export function createLogger(level: string): Logger {
  return pino({
    level,
    base: { service: 'pvp-cds' },
    redact: {
      paths: ['authorization', 'headers.authorization', 'req.headers.authorization', '*.access_token'],
      censor: '[redacted]',
    },
  });
}
