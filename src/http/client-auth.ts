/**
 * Every CDS call carries the client's JWT; this lets through only verified ones and remembers which
 * client it was (for its FHIR servers and its rate limit). A refusal is a bare 401; the log line
 * names the failed check and the issuer, never the token.
 */
import type { RequestHandler, Response } from 'express';
import { ClientTokenRefused, type ClientVerifier } from '../cds-hooks/client-jwt.ts';
import type { TrustedClient } from '../cds-hooks/trusted-clients.ts';
import type { Config } from '../config.ts';
import type { Logger } from '../observability/logger.ts';
import type { Metrics } from '../observability/metrics.ts';
import { Unauthorized } from './errors.ts';
import { calledUrl } from './public-url.ts';

export function verifiedClient(res: Response): TrustedClient | undefined {
  return res.locals.cdsClient as TrustedClient | undefined;
}

export function clientAuth(
  config: Config,
  verifier: ClientVerifier | undefined,
  logger: Logger,
  metrics: Metrics,
): RequestHandler {
  return async (req, res, next) => {
    if (!verifier) {
      next();
      return;
    }
    try {
      res.locals.cdsClient = (await verifier.verify(req.get('authorization'), calledUrl(req, config))).client;
    } catch (error) {
      if (!(error instanceof ClientTokenRefused)) throw error;
      metrics.clientTokensRefused.inc({ check: error.check });
      logger.warn(
        { check: error.check, issuer: error.issuer, path: req.originalUrl.split('?')[0] },
        'client token refused',
      );
      throw new Unauthorized();
    }
    next();
  };
}
