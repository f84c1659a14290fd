/**
 * The worker thread of bench/tokens.ts: signs client JWTs for one issuer and audience (each with a jti
 * of its own) and posts them back.
 */
import { parentPort } from 'node:worker_threads';
import { clientToken, type SigningKey } from '../tests/support/ehr-client.ts';

export interface SignRequest {
  id: number;
  iss: string;
  aud: string;
  key: SigningKey;
  count: number;
  lifetimeSeconds: number;
}

export interface Signed {
  id: number;
  tokens: string[];
}

parentPort?.on('message', ({ id, iss, aud, key, count, lifetimeSeconds }: SignRequest) => {
  const tokens = Array.from({ length: count }, () => clientToken({ iss, aud, key, lifetimeSeconds }));
  parentPort?.postMessage({ id, tokens } satisfies Signed);
});
