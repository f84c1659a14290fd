/**
 * The bench's client JWTs signed before a run (bench/tokens.ts): each one valid for its issuer and
 * audience with a jti of its own, as the service's replay check needs; a run that outgrows what was
 * signed signs the rest itself and counts them; the floor's runs take the same tokens in turn.
 */
import { importJWK, type JWK, jwtVerify } from 'jose';
import { afterAll, describe, expect, it } from 'vitest';
import { RunTokens, TokenSigner } from '../../bench/tokens.ts';
import { signingKey } from '../support/ehr-client.ts';

const signer = new TokenSigner(2);
afterAll(() => signer.close());

const aud = 'http://127.0.0.1:3901/cds-services/pvp-risk-patient-view';

describe('tokens signed before a run', () => {
  it.each(['ES384', 'RS384'] as const)(
    'are %s tokens of the issuer for the URL, each with its own jti',
    async (alg) => {
      const ehr = { iss: `https://bench-${alg}.example.org`, key: signingKey(alg) };
      const tokens = await signer.sign(ehr, aud, 7);
      expect(tokens).toHaveLength(7);
      const key = await importJWK(ehr.key.publicJwk as JWK, alg);
      const jtis = new Set<unknown>();
      for (const token of tokens) {
        const { payload, protectedHeader } = await jwtVerify(token, key, { issuer: ehr.iss, audience: aud });
        expect(protectedHeader.alg).toBe(alg);
        jtis.add(payload.jti);
      }
      expect(jtis.size).toBe(7);
    },
  );

  it('sign none when none are asked for', async () => {
    const ehr = { iss: 'https://bench.example.org', key: signingKey('ES384') };
    expect(await signer.sign(ehr, aud, 0)).toEqual([]);
  });

  it('are sent in order; past the last, a service run signs each further one and counts it', async () => {
    const ehr = { iss: 'https://bench.example.org', key: signingKey('ES384') };
    const signed = await signer.sign(ehr, aud, 2);
    const run = new RunTokens(signed, ehr, aud, false);
    const sent = [run.next(), run.next(), run.next(), run.next()];
    expect(sent.slice(0, 2)).toEqual(signed);
    expect(new Set(sent).size).toBe(4);
    expect(run.signedInRun).toBe(2);
  });

  it('are taken in turn by a floor run, which checks no replay, without signing any', async () => {
    const ehr = { iss: 'https://bench.example.org', key: signingKey('RS384') };
    const signed = await signer.sign(ehr, aud, 3);
    const run = new RunTokens(signed, ehr, aud, true);
    const sent = Array.from({ length: 7 }, () => run.next());
    expect(sent).toEqual([...signed, ...signed, signed[0]]);
    expect(run.signedInRun).toBe(0);
  });
});
