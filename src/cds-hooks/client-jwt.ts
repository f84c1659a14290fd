/**
 * Verifies the JWT a CDS client signs for every call (CDS Hooks 2.0, Security; the Inferno CRD
 * token checklist): asymmetric algorithm with a kid, a trusted issuer, keys only from that issuer's
 * configured JWK Set URLs or inline keys, aud = the URL called, exp/iat with leeway, a bounded
 * lifetime, a jti never seen before, and the tenant when configured.
 */
import {
  type CryptoKey,
  createLocalJWKSet,
  createRemoteJWKSet,
  decodeJwt,
  decodeProtectedHeader,
  errors,
  type FlattenedJWSInput,
  type JWSHeaderParameters,
  type JWTPayload,
  jwtVerify,
} from 'jose';
import type { ReplayCache } from '../store/replay-cache.ts';
import type { TrustedClient } from './trusted-clients.ts';

export const acceptedAlgorithms = [
  'ES256',
  'ES384',
  'ES512',
  'RS256',
  'RS384',
  'RS512',
  'PS256',
  'PS384',
  'PS512',
] as const;

/** Which check refused the token: logged (never the token itself), never told to the client. */
export type FailedCheck =
  | 'no-token'
  | 'malformed'
  | 'algorithm'
  | 'kid'
  | 'issuer'
  | 'jku'
  | 'keys-unavailable'
  | 'signature'
  | 'audience'
  | 'exp'
  | 'iat'
  | 'lifetime'
  | 'jti'
  | 'replay'
  | 'tenant';

export class ClientTokenRefused extends Error {
  readonly check: FailedCheck;
  readonly issuer: string | undefined;
  constructor(check: FailedCheck, issuer?: string) {
    super(`client token refused: ${check}`);
    this.name = 'ClientTokenRefused';
    this.check = check;
    this.issuer = issuer;
  }
}

export interface ClientVerifierOptions {
  clients: readonly TrustedClient[];
  replayCache: ReplayCache;
  leewaySeconds: number;
  maxLifetimeSeconds: number;
  jwksTimeoutMs: number;
  /** Least time between two fetches of one JWK Set (an unknown kid triggers a refetch). */
  jwksCooldownMs: number;
  now?: () => Date;
}

export interface VerifiedClient {
  client: TrustedClient;
  claims: JWTPayload;
}

type KeyLookup = (header: JWSHeaderParameters, token: FlattenedJWSInput) => Promise<CryptoKey>;

type RemoteKeySet = ReturnType<typeof createRemoteJWKSet>;

interface ClientKeys {
  client: TrustedClient;
  inline: KeyLookup | undefined;
  remote: Map<string, KeyLookup>;
  remoteSets: RemoteKeySet[];
}

function keysOf(client: TrustedClient, options: ClientVerifierOptions): ClientKeys {
  const remoteSets = client.jwksUrls.map((url) =>
    createRemoteJWKSet(new URL(url), {
      timeoutDuration: options.jwksTimeoutMs,
      cooldownDuration: options.jwksCooldownMs,
      cacheMaxAge: 10 * 60_000,
    }),
  );
  const remote = new Map<string, KeyLookup>(
    client.jwksUrls.map((url, i) => [url, remoteSets[i] as KeyLookup]),
  );
  const inline = client.jwks
    ? (createLocalJWKSet(client.jwks as Parameters<typeof createLocalJWKSet>[0]) as KeyLookup)
    : undefined;
  return { client, inline, remote, remoteSets };
}

/**
 * Whether a client's keys can be had: inline keys, or a JWK Set already fetched (jose keeps the last
 * good copy), or one that loads now. A set is fetched here at most once per cooldown after it loaded.
 */
async function keysAvailable(keys: ClientKeys): Promise<boolean> {
  if (keys.inline) return true;
  for (const set of keys.remoteSets) {
    if (set.jwks() !== undefined) return true;
  }
  for (const set of keys.remoteSets) {
    if (set.coolingDown) continue;
    await set.reload().catch(() => undefined);
    if (set.jwks() !== undefined) return true;
  }
  return false;
}

/**
 * Inline keys first (no network), then the listed JWK Set URLs; with a jku header (already checked to be
 * on the issuer's list) that one alone after the inline keys. So a configured copy of a key set verifies
 * its tokens offline, and the jku is fetched only for a kid no configured key has.
 */
function keyLookup(keys: ClientKeys): KeyLookup {
  return async (header, token) => {
    const remote = header.jku
      ? [keys.remote.get(header.jku)].filter((k): k is KeyLookup => k !== undefined)
      : [...keys.remote.values()];
    const sources: KeyLookup[] = [...(keys.inline ? [keys.inline] : []), ...remote];
    let unavailable = false;
    for (const source of sources) {
      try {
        return await source(header, token);
      } catch (error) {
        if (
          !(error instanceof errors.JWKSNoMatchingKey || error instanceof errors.JWKSMultipleMatchingKeys)
        ) {
          unavailable = true;
        }
      }
    }
    throw new ClientTokenRefused(unavailable ? 'keys-unavailable' : 'kid', keys.client.iss);
  };
}

function claimCheck(error: errors.JWTClaimValidationFailed): FailedCheck {
  switch (error.claim) {
    case 'aud':
      return 'audience';
    case 'iss':
      return 'issuer';
    case 'iat':
      return 'iat';
    case 'exp':
      return 'exp';
    case 'jti':
      return 'jti';
    default:
      return 'malformed';
  }
}

function refusal(error: unknown, issuer: string): ClientTokenRefused {
  if (error instanceof ClientTokenRefused) return error;
  if (error instanceof errors.JWTExpired) return new ClientTokenRefused('exp', issuer);
  if (error instanceof errors.JWTClaimValidationFailed)
    return new ClientTokenRefused(claimCheck(error), issuer);
  if (error instanceof errors.JWSSignatureVerificationFailed)
    return new ClientTokenRefused('signature', issuer);
  if (error instanceof errors.JOSEAlgNotAllowed) return new ClientTokenRefused('algorithm', issuer);
  return new ClientTokenRefused('malformed', issuer);
}

function unverifiedParts(token: string): { header: JWSHeaderParameters; payload: JWTPayload } {
  try {
    return { header: decodeProtectedHeader(token), payload: decodeJwt(token) };
  } catch {
    throw new ClientTokenRefused('malformed');
  }
}

export function createClientVerifier(options: ClientVerifierOptions) {
  const byIssuer = new Map(options.clients.map((client) => [client.iss, keysOf(client, options)]));
  const now = options.now ?? (() => new Date());
  const accepted: readonly string[] = acceptedAlgorithms;

  return {
    /** The issuers none of whose keys can be had (empty when every client's can). */
    async issuersWithoutKeys(): Promise<string[]> {
      const all = [...byIssuer.values()];
      const available = await Promise.all(all.map(keysAvailable));
      return all.filter((_, i) => !available[i]).map((keys) => keys.client.iss);
    },
    /** Verifies `Authorization: Bearer <JWT>` for a call to `audience` (the URL called). */
    async verify(authorization: string | undefined, audience: string): Promise<VerifiedClient> {
      const match = /^Bearer\s+([A-Za-z0-9\-_.]+)$/.exec(authorization ?? '');
      if (!match?.[1]) throw new ClientTokenRefused(authorization ? 'malformed' : 'no-token');
      const token = match[1];
      const { header, payload } = unverifiedParts(token);
      if (typeof header.alg !== 'string' || !accepted.includes(header.alg))
        throw new ClientTokenRefused('algorithm');
      if (header.typ !== undefined && header.typ.toUpperCase() !== 'JWT')
        throw new ClientTokenRefused('malformed');
      if (typeof header.kid !== 'string' || header.kid === '') throw new ClientTokenRefused('kid');
      const keys = typeof payload.iss === 'string' ? byIssuer.get(payload.iss) : undefined;
      if (!keys) throw new ClientTokenRefused('issuer');
      const { iss } = keys.client;
      if (header.jku !== undefined && !keys.client.jwksUrls.includes(header.jku))
        throw new ClientTokenRefused('jku', iss);

      let claims: JWTPayload;
      try {
        ({ payload: claims } = await jwtVerify(token, keyLookup(keys), {
          issuer: iss,
          audience,
          algorithms: [...acceptedAlgorithms],
          clockTolerance: options.leewaySeconds,
          requiredClaims: ['exp', 'iat', 'jti'],
          currentDate: now(),
        }));
      } catch (error) {
        throw refusal(error, iss);
      }
      const nowSeconds = Math.floor(now().getTime() / 1000);
      const { exp, iat, jti } = claims as { exp: number; iat: number; jti: unknown };
      if (iat > nowSeconds + options.leewaySeconds) throw new ClientTokenRefused('iat', iss);
      if (exp - iat > options.maxLifetimeSeconds) throw new ClientTokenRefused('lifetime', iss);
      if (typeof jti !== 'string' || jti === '') throw new ClientTokenRefused('jti', iss);
      if (keys.client.tenant !== undefined && claims.tenant !== keys.client.tenant) {
        throw new ClientTokenRefused('tenant', iss);
      }
      // Last, so that a token failing any other check cannot use up a jti.
      const firstUse = await options.replayCache.remember(
        `${iss} ${jti}`,
        (exp + options.leewaySeconds) * 1000,
      );
      if (!firstUse) throw new ClientTokenRefused('replay', iss);
      return { client: keys.client, claims };
    },
  };
}

export type ClientVerifier = ReturnType<typeof createClientVerifier>;
