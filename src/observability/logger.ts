/**
 * Structured JSON logs (pino), or pino-pretty's lines for people in development. Each line written
 * while a request is handled carries its request id. Log lines carry service ids, status codes, key
 * names, counts and durations: never patient ids, names, tokens, JWTs or request bodies. The
 * redaction below is a second line of defence, not the first.
 *
 * Lines are written synchronously (pino's default). Asynchronous writes cost about 4% less a light
 * hook call, but with pino 10.4 (sonic-boom 4.2) a process holding buffered lines whose stdout reader
 * has gone never exits: its exit handler retries the write on EPIPE forever (bench/README.md, "The
 * layers around the hook").
 */
import type { DestinationStream } from 'pino';
import { type Logger, pino } from 'pino';
import pretty from 'pino-pretty';
import { currentRequestId } from './request-context.ts';

export type { Logger };

export function createLogger(
  level: string,
  format: 'json' | 'pretty' = 'json',
  destination?: DestinationStream,
): Logger {
  const options = {
    level,
    base: { service: 'pvp-cds' },
    mixin: () => {
      const requestId = currentRequestId();
      return requestId ? { requestId } : {};
    },
    redact: {
      paths: ['authorization', 'headers.authorization', 'req.headers.authorization', '*.access_token'],
      censor: '[redacted]',
    },
  };
  if (format === 'pretty') {
    const stream = pretty({
      colorize: process.stdout.isTTY,
      translateTime: 'SYS:HH:MM:ss.l',
      ignore: 'pid,hostname,service',
      singleLine: true,
      sync: true,
      ...(destination ? { destination } : {}),
    });
    return pino(options, stream);
  }
  return destination ? pino(options, destination) : pino(options);
}
