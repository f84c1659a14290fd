import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Card } from '../../src/cds-hooks/schemas.ts';
import { type RunningApp, startApp } from '../support/app.ts';
import {
  clientToken,
  hmacWithPublicKey,
  type JwksServer,
  type SigningKey,
  serveJwks,
  signingKey,
  unsignedToken,
  writeClientsFile,
} from '../support/ehr-client.ts';
import { readFixture, startFhirServer, type TestFhirServer } from '../support/fhir-server.ts';
import { cardKind, fullPrefetch, hookBody } from '../support/hook-calls.ts';
import { capturedLogger } from '../support/log-capture.ts';

const ehrA = 'https://ehr-a.example.org';
const ehrB = 'https://ehr-b.example.org';
/** Like the CDS Hooks sandbox: a jku on every token, and a configured copy of the same key set. */
const ehrC = 'https://ehr-c.example.org';
const patientId = 'pvp-high-rbp-risk';

let app: RunningApp;
let fhir: TestFhirServer;
let jwks: JwksServer;
let elsewhere: JwksServer;
let keyA: SigningKey;
let keyB: SigningKey;
let keyC: SigningKey;
let jwksC: JwksServer;
const { logger, lines: logLines } = capturedLogger();

beforeAll(async () => {
  keyA = signingKey('ES384');
  keyB = signingKey('RS384');
  keyC = signingKey('ES384');
  [jwks, elsewhere, jwksC, fhir] = await Promise.all([
    serveJwks([keyA]),
    serveJwks([keyA]),
    serveJwks([keyC]),
    startFhirServer(),
  ]);
  await fhir.load(await readFixture('high-rbp-risk'));
  const clientsFile = await writeClientsFile([
    { iss: ehrA, jwksUrls: [jwks.url], fhirServers: [`${fhir.baseUrl}/`] },
    { iss: ehrB, jwks: { keys: [keyB.publicJwk] }, fhirServers: [fhir.baseUrl], tenant: 'hospital-b' },
    { iss: ehrC, jwksUrls: [jwksC.url], jwks: { keys: [keyC.publicJwk] }, fhirServers: [fhir.baseUrl] },
  ]);
  app = await startApp(
    { CDS_AUTH: 'on', CDS_CLIENTS_FILE: clientsFile, JWKS_REFRESH_COOLDOWN_MS: '0', JWKS_TIMEOUT_MS: '500' },
    { logger },
  );
});
afterAll(async () => {
  await Promise.all([app.close(), fhir.close(), jwks.close(), elsewhere.close(), jwksC.close()]);
});
beforeEach(() => {
  logLines.length = 0;
  jwks.failing = false;
});

const servicePath = '/cds-services/pvp-risk-patient-view';
const serviceUrl = () => `${app.url}${servicePath}`;

async function call(token: string | undefined, body?: unknown, path = servicePath) {
  const requestBody =
    body ??
    (await hookBody('patient-view', patientId, { fhirServer: fhir.baseUrl, token: 'ehr-access-token' }));
  return app.post(path, requestBody, token === undefined ? {} : { authorization: `Bearer ${token}` });
}

function tokenA(options: Partial<Parameters<typeof clientToken>[0]> = {}) {
  return clientToken({ iss: ehrA, aud: serviceUrl(), key: keyA, ...options });
}

describe('valid tokens from two configured clients', () => {
  it('an ES384 token (keys from the JWK Set URL) gets cards, and the FHIR server gets the EHR access token', async () => {
    const before = fhir.requests.length;
    const res = await call(tokenA());
    expect(res.status).toBe(200);
    const { cards } = (await res.json()) as { cards: Card[] };
    expect(cards.map(cardKind)).toEqual(['treatment-gap']);
    const calls = fhir.requests.slice(before);
    expect(calls.length).toBeGreaterThan(0);
    expect(calls.every((r) => r.authorization === 'Bearer ehr-access-token')).toBe(true);
  });

  it('an RS384 token (inline keys, tenant) gets cards without any key fetch', async () => {
    const fetched = jwks.requests;
    const token = clientToken({ iss: ehrB, aud: serviceUrl(), key: keyB, claims: { tenant: 'hospital-b' } });
    const res = await call(token);
    expect(res.status).toBe(200);
    expect(((await res.json()) as { cards: Card[] }).cards.map(cardKind)).toEqual(['treatment-gap']);
    expect(jwks.requests).toBe(fetched);
  });

  it('a token naming an allowed jku verifies with the configured copy of its key set, offline', async () => {
    const fetched = jwksC.requests;
    jwksC.failing = true;
    try {
      const token = clientToken({ iss: ehrC, aud: serviceUrl(), key: keyC, header: { jku: jwksC.url } });
      expect((await call(token)).status).toBe(200);
      expect(jwksC.requests).toBe(fetched);
    } finally {
      jwksC.failing = false;
    }
  });

  it('fetches the jku only for a kid no configured key has, and never a jku off the list', async () => {
    const rotated = signingKey('ES384');
    jwksC.keys = [keyC, rotated];
    try {
      const fetched = jwksC.requests;
      const fresh = clientToken({ iss: ehrC, aud: serviceUrl(), key: rotated, header: { jku: jwksC.url } });
      expect((await call(fresh)).status).toBe(200);
      expect(jwksC.requests).toBe(fetched + 1);
      const offList = clientToken({
        iss: ehrC,
        aud: serviceUrl(),
        key: keyC,
        header: { jku: elsewhere.url },
      });
      expect((await call(offList)).status).toBe(401);
      expect(logLines.some((l) => l.includes('"check":"jku"'))).toBe(true);
    } finally {
      jwksC.keys = [keyC];
    }
  });

  it.each([
    ['59 s ahead', 59, 60],
    ['59 s behind, with a 30 s token already expired by its own clock', -59, 30],
  ])('a token from an EHR whose clock is %s still authenticates', async (_, skewSeconds, lifetimeSeconds) => {
    const issuedAt = Math.floor(Date.now() / 1000) + skewSeconds;
    const res = await call(tokenA({ issuedAt, lifetimeSeconds }));
    expect(res.status).toBe(200);
  });

  it('discovery needs a token for its own URL', async () => {
    expect((await fetch(`${app.url}/cds-services`)).status).toBe(401);
    const token = tokenA({ aud: `${app.url}/cds-services` });
    const res = await fetch(`${app.url}/cds-services`, { headers: { authorization: `Bearer ${token}` } });
    expect(res.status).toBe(200);
  });

  it('accepts aud as an array that contains the URL called', async () => {
    expect((await call(tokenA({ aud: ['https://other.example/x', serviceUrl()] }))).status).toBe(200);
  });

  it('lets CORS preflights through without a token', async () => {
    const res = await fetch(serviceUrl(), {
      method: 'OPTIONS',
      headers: { origin: 'https://sandbox.cds-hooks.org' },
    });
    expect(res.status).toBe(204);
  });

  it('keeps the model descriptions public (clinicians open them from the card)', async () => {
    expect((await fetch(`${app.url}/models/rbp-v1`)).status).toBe(200);
  });
});

const now = () => Math.floor(Date.now() / 1000);

const attacks: Array<[string, () => string | undefined, string]> = [
  ['no Authorization header', () => undefined, 'no-token'],
  ['a malformed token', () => 'not.a.jwt!', 'malformed'],
  [
    'alg none',
    () =>
      unsignedToken(
        { kid: keyA.kid },
        { iss: ehrA, aud: serviceUrl(), iat: now(), exp: now() + 60, jti: 'x1' },
      ),
    'algorithm',
  ],
  [
    'HS256 signed with the public key',
    () =>
      hmacWithPublicKey(keyA, {}, { iss: ehrA, aud: serviceUrl(), iat: now(), exp: now() + 60, jti: 'x2' }),
    'algorithm',
  ],
  ['an unknown kid', () => clientToken({ iss: ehrA, aud: serviceUrl(), key: signingKey('ES384') }), 'kid'],
  ['an untrusted issuer', () => tokenA({ iss: 'https://evil.example.org' }), 'issuer'],
  [
    'a jku pointing elsewhere',
    () => tokenA({ header: { jku: 'https://attacker.example/jwks.json' } }),
    'jku',
  ],
  ['the wrong aud', () => tokenA({ aud: 'https://other-service.example/cds-services/x' }), 'audience'],
  ['an expired token', () => tokenA({ issuedAt: now() - 400, lifetimeSeconds: 300 }), 'exp'],
  ['iat in the future', () => tokenA({ issuedAt: now() + 600, lifetimeSeconds: 60 }), 'iat'],
  ['a lifetime over 5 minutes', () => tokenA({ lifetimeSeconds: 3600 }), 'lifetime'],
  ['no jti', () => tokenA({ claims: { jti: undefined } }), 'jti'],
  ['no exp', () => tokenA({ claims: { exp: undefined } }), 'exp'],
  [
    'the wrong tenant',
    () => clientToken({ iss: ehrB, aud: serviceUrl(), key: keyB, claims: { tenant: 'hospital-c' } }),
    'tenant',
  ],
  [
    'a forged signature under the issuer’s real kid',
    () => clientToken({ iss: ehrB, aud: serviceUrl(), key: { ...signingKey('RS384'), kid: keyB.kid } }),
    'signature',
  ],
  [
    "a valid token for another service's URL",
    () => tokenA({ aud: `${app.url}/cds-services/pvp-risk-order-sign` }),
    'audience',
  ],
];

describe('attack suite: each is a bare 401, logged by check, and nothing else happens', () => {
  it.each(attacks)('%s', async (_name, token, check) => {
    const fhirBefore = fhir.requests.length;
    const elsewhereBefore = elsewhere.requests;
    const res = await call(token());
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toBe('Bearer');
    expect(await res.json()).toEqual({
      resourceType: 'OperationOutcome',
      issue: [{ severity: 'error', code: 'login', diagnostics: 'Unauthorized.' }],
    });
    expect(fhir.requests.length).toBe(fhirBefore);
    expect(elsewhere.requests).toBe(elsewhereBefore);
    const refusal = logLines.find((l) => l.includes('client token refused'));
    expect(refusal).toBeDefined();
    expect(JSON.parse(refusal ?? '{}')).toMatchObject({ check, path: servicePath });
    const tokenText = token();
    if (tokenText) expect(logLines.join('')).not.toContain(tokenText.split('.')[2] || tokenText);
  });

  it('a replayed jti', async () => {
    const token = tokenA();
    expect((await call(token)).status).toBe(200);
    const fhirBefore = fhir.requests.length;
    const replay = await call(token);
    expect(replay.status).toBe(401);
    expect(fhir.requests.length).toBe(fhirBefore);
    expect(logLines.some((l) => l.includes('"check":"replay"'))).toBe(true);
  });

  it('a refused token does not use up its jti', async () => {
    const jti = 'one-time-id';
    expect((await call(tokenA({ aud: 'https://wrong.example', claims: { jti } }))).status).toBe(401);
    expect((await call(tokenA({ claims: { jti } }))).status).toBe(200);
  });
});

describe('the FHIR server a request names', () => {
  it('is never contacted when it is not one of the client’s servers: 412 instead', async () => {
    const stranger = await startFhirServer();
    try {
      await stranger.load(await readFixture('high-rbp-risk'));
      const body = await hookBody('patient-view', patientId, {
        fhirServer: stranger.baseUrl,
        token: 'ehr-access-token',
      });
      const res = await call(tokenA(), body);
      expect(res.status).toBe(412);
      expect(JSON.stringify(await res.json())).toMatch(/not trusted to name, so it was not contacted/);
      expect(stranger.requests).toEqual([]);
    } finally {
      await stranger.close();
    }
  });

  it('does not matter when prefetch is complete', async () => {
    const prefetch = await fullPrefetch(fhir.baseUrl, patientId);
    const body = await hookBody('patient-view', patientId, {
      fhirServer: 'https://stranger.example/fhir',
      prefetch,
    });
    expect((await call(tokenA(), body)).status).toBe(200);
  });
});

describe('keys', () => {
  it('rotation: a new kid in the JWK Set works without a restart', async () => {
    const rotated = signingKey('ES384');
    jwks.keys = [rotated];
    try {
      const res = await call(clientToken({ iss: ehrA, aud: serviceUrl(), key: rotated }));
      expect(res.status).toBe(200);
    } finally {
      jwks.keys = [keyA];
    }
  });

  it('a JWK Set endpoint that is down fails only that client’s unknown keys; the service stays up', async () => {
    jwks.failing = true;
    const res = await call(clientToken({ iss: ehrA, aud: serviceUrl(), key: signingKey('ES384') }));
    expect(res.status).toBe(401);
    expect(logLines.some((l) => l.includes('"check":"keys-unavailable"'))).toBe(true);
    const inline = await call(
      clientToken({ iss: ehrB, aud: serviceUrl(), key: keyB, claims: { tenant: 'hospital-b' } }),
    );
    expect(inline.status).toBe(200);
    expect((await fetch(`${app.url}/healthz`)).status).toBe(200);
  });
});
