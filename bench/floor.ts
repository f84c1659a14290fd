/**
 * The floor of `npm run bench`, run as its own process: an express 5 app with the service's settings
 * (the same `express.json` limit and types, `x-powered-by` off, etag off) that only parses the body and
 * answers a fixed card list, a real answer the service gave for the same request before the runs. What
 * the service costs beyond this is its own work (facts, models, cards, ledger, logs, metrics…).
 *
 *   POST /plain/<answer>/cds-services/<id>  parse the body, answer the card list named <answer>
 *   POST /auth/<answer>/cds-services/<id>   the same after verifying the client JWT as the service does:
 *        `jose` `jwtVerify` with the issuer's public key (imported once), issuer, audience = the URL
 *        called, exp/iat/jti required, the service's leeway; 401 otherwise. No replay check.
 *   GET /healthz
 *
 *   FLOOR_PORT     port on 127.0.0.1 (default 3910)
 *   FLOOR_DATA     JSON file `{ answers: { <name>: <the service's JSON answer> }, clients: [{ iss, jwk }] }`
 *   BODY_LIMIT_BYTES, CDS_TOKEN_LEEWAY_S as for the service (its defaults, from src/config.ts)
 */
import { readFileSync } from 'node:fs';
import express, { type RequestHandler } from 'express';
import { type CryptoKey, decodeJwt, importJWK, type JWK, jwtVerify } from 'jose';
import { acceptedAlgorithms } from '../src/cds-hooks/client-jwt.ts';
import { loadConfig } from '../src/config.ts';

interface FloorData {
  answers: Record<string, unknown>;
  clients: Array<{ iss: string; jwk: JWK }>;
}

async function main(): Promise<void> {
  const port = Number(process.env.FLOOR_PORT ?? 3910);
  const dataFile = process.env.FLOOR_DATA;
  if (!dataFile) throw new Error('FLOOR_DATA: the file of answers and client keys is required');
  const data = JSON.parse(readFileSync(dataFile, 'utf8')) as FloorData;
  const config = loadConfig({
    BODY_LIMIT_BYTES: process.env.BODY_LIMIT_BYTES,
    CDS_TOKEN_LEEWAY_S: process.env.CDS_TOKEN_LEEWAY_S,
  });
  const keys = new Map<string, CryptoKey>();
  for (const { iss, jwk } of data.clients) {
    keys.set(iss, (await importJWK(jwk, String(jwk.alg))) as CryptoKey);
  }
  const base = `http://127.0.0.1:${port}`;

  const verify: RequestHandler = async (req, res, next) => {
    const token = /^Bearer\s+([A-Za-z0-9\-_.]+)$/.exec(req.get('authorization') ?? '')?.[1];
    try {
      if (!token) throw new Error('no token');
      const iss = decodeJwt(token).iss;
      const key = iss === undefined ? undefined : keys.get(iss);
      if (!key) throw new Error('unknown issuer');
      await jwtVerify(token, key, {
        issuer: iss,
        audience: `${base}${req.originalUrl.split('?')[0] ?? ''}`,
        algorithms: [...acceptedAlgorithms],
        clockTolerance: config.tokenLeewaySeconds,
        requiredClaims: ['exp', 'iat', 'jti'],
      });
    } catch {
      res.status(401).end();
      return;
    }
    next();
  };

  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  app.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });
  app.use('/auth', verify);
  app.use(express.json({ limit: config.bodyLimitBytes, type: ['application/json', 'application/*+json'] }));
  const answer: RequestHandler = (req, res) => {
    const cards = data.answers[String(req.params.answer)];
    if (cards === undefined || typeof req.body !== 'object' || req.body === null) {
      res.status(404).end();
      return;
    }
    res.json(cards);
  };
  app.post('/plain/:answer/cds-services/:id', answer);
  app.post('/auth/:answer/cds-services/:id', answer);
  const server = app.listen(port, '127.0.0.1');
  process.on('SIGTERM', () => {
    server.closeAllConnections();
    server.close(() => process.exit(0));
  });
}

if (import.meta.main) await main();
