/**
 * Whom this process trusts, from configuration: the verifier of CDS clients' JWTs, or none when
 * authentication is off (development only; config refuses it in production).
 */
import { type ClientVerifier, createClientVerifier } from './cds-hooks/client-jwt.ts';
import { loadClientsFile, sandboxClient } from './cds-hooks/trusted-clients.ts';
import type { Config } from './config.ts';
import type { Logger } from './observability/logger.ts';
import type { ReplayCache } from './store/replay-cache.ts';

export function configuredVerifier(
  config: Config,
  logger: Logger,
  replayCache: ReplayCache,
): ClientVerifier | undefined {
  if (config.auth === 'off') {
    logger.warn(
      'CDS_AUTH=off: calls are accepted without a client JWT and any fhirServer is called (development only)',
    );
    return undefined;
  }
  const clients = config.clientsFile
    ? loadClientsFile(config.clientsFile, config.nodeEnv === 'production')
    : [sandboxClient()];
  if (!config.clientsFile) {
    logger.warn(
      'no CDS_CLIENTS_FILE: trusting the public CDS Hooks sandbox, whose private key is published (development only)',
    );
  }
  logger.info({ issuers: clients.map((c) => c.iss) }, 'trusted CDS clients');
  return createClientVerifier({
    clients,
    replayCache,
    leewaySeconds: config.tokenLeewaySeconds,
    maxLifetimeSeconds: config.tokenMaxLifetimeSeconds,
    jwksTimeoutMs: config.jwksTimeoutMs,
    jwksCooldownMs: config.jwksCooldownMs,
  });
}
