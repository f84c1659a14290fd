/**
 * A CDS client as an EHR would be: its own key pairs (generated here), its JWK Set served by a real
 * HTTP server, and tokens signed with jsonwebtoken (an implementation independent of the verifier).
 */
import { createHmac, createPublicKey, generateKeyPairSync, type KeyObject, randomUUID } from 'node:crypto';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import jwt from 'jsonwebtoken';

export type SigningAlg = 'ES384' | 'RS384';

export interface SigningKey {
  kid: string;
  alg: SigningAlg;
  privateKey: KeyObject;
  publicJwk: Record<string, unknown>;
}

export function signingKey(alg: SigningAlg, kid = randomUUID()): SigningKey {
  const { privateKey, publicKey } =
    alg === 'ES384'
      ? generateKeyPairSync('ec', { namedCurve: 'P-384' })
      : generateKeyPairSync('rsa', { modulusLength: 2048 });
  return {
    kid,
    alg,
    privateKey,
    publicJwk: { ...publicKey.export({ format: 'jwk' }), kid, alg, use: 'sig' },
  };
}

/** A JWK Set endpoint: its keys can be rotated and it can be made to fail, and it counts its requests. */
export interface JwksServer {
  url: string;
  requests: number;
  keys: SigningKey[];
  failing: boolean;
  close(): Promise<void>;
}

export async function serveJwks(keys: SigningKey[]): Promise<JwksServer> {
  const state = { requests: 0, keys, failing: false };
  const server: Server = createServer((_req, res) => {
    state.requests++;
    if (state.failing) {
      res.writeHead(503).end();
      return;
    }
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ keys: state.keys.map((k) => k.publicJwk) }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/jwks.json`;
  return Object.assign(state, {
    url,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  }) as JwksServer;
}

export interface TokenOptions {
  iss: string;
  aud: string | string[];
  key: SigningKey;
  /** Claims to add or override; `undefined` removes a claim. */
  claims?: Record<string, unknown>;
  /** Extra protected header fields (jku, typ…). */
  header?: Record<string, unknown>;
  lifetimeSeconds?: number;
  issuedAt?: number;
}

export function clientToken(options: TokenOptions): string {
  const iat = options.issuedAt ?? Math.floor(Date.now() / 1000);
  const payload: Record<string, unknown> = {
    iss: options.iss,
    aud: options.aud,
    iat,
    exp: iat + (options.lifetimeSeconds ?? 300),
    jti: randomUUID(),
    ...options.claims,
  };
  for (const [k, v] of Object.entries(payload)) if (v === undefined) delete payload[k];
  return jwt.sign(payload, options.key.privateKey, {
    algorithm: options.key.alg,
    keyid: options.key.kid,
    header: { typ: 'JWT', alg: options.key.alg, ...options.header },
  });
}

const base64url = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');

/** `alg: none`: an unsigned token. */
export function unsignedToken(header: Record<string, unknown>, payload: Record<string, unknown>): string {
  return `${base64url({ alg: 'none', typ: 'JWT', ...header })}.${base64url(payload)}.`;
}

/** The classic key-confusion attack: HS256 with the verifier's public key as the HMAC secret. */
export function hmacWithPublicKey(
  key: SigningKey,
  header: Record<string, unknown>,
  payload: Record<string, unknown>,
): string {
  const publicPem = createPublicKey(key.privateKey).export({ type: 'spki', format: 'pem' });
  const signingInput = `${base64url({ alg: 'HS256', typ: 'JWT', kid: key.kid, ...header })}.${base64url(payload)}`;
  const signature = createHmac('sha256', publicPem).update(signingInput).digest('base64url');
  return `${signingInput}.${signature}`;
}

/** Writes a CDS_CLIENTS_FILE trusting `clients` into a new temporary directory; resolves with its path. */
export async function writeClientsFile(clients: Array<Record<string, unknown>>): Promise<string> {
  const file = join(await mkdtemp(join(tmpdir(), 'pvp-cds-clients-')), 'clients.json');
  await writeFile(file, JSON.stringify({ clients }));
  return file;
}
