import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  ClientsFileError,
  normaliseBaseUrl,
  parseClientsFile,
  sandboxClient,
  sandboxIssuer,
} from '../../src/cds-hooks/trusted-clients.ts';
import { loadConfig } from '../../src/config.ts';
import { createLogger } from '../../src/observability/logger.ts';
import { MemoryReplayCache } from '../../src/store/replay-cache.ts';
import { configuredVerifier } from '../../src/trust.ts';

const good = {
  iss: 'https://ehr.example.org',
  jwksUrls: ['https://ehr.example.org/jwks.json'],
  fhirServers: ['https://ehr.example.org/fhir/r4'],
};
const file = (clients: unknown[]) => JSON.stringify({ clients });

describe('the trusted clients file', () => {
  it('normalises fhirServers once, at load', () => {
    const [client] = parseClientsFile(
      file([{ ...good, fhirServers: ['https://EHR.example.org:443/fhir/r4/'] }]),
      'f',
      true,
    );
    expect(client?.fhirServers).toEqual(['https://ehr.example.org/fhir/r4']);
  });

  it('accepts a valid file', () => {
    expect(parseClientsFile(file([good]), 'clients.json', true)).toMatchObject([
      { iss: good.iss, fhirServers: good.fhirServers },
    ]);
  });

  it.each([
    ['not JSON', '{', /clients.json is not valid JSON/],
    ['no clients', file([]), /clients: /],
    [
      'a client with no keys',
      file([{ iss: 'x', fhirServers: [] }]),
      /clients.0: needs jwksUrls or an inline jwks/,
    ],
    ['a bad jwksUrls entry', file([{ ...good, jwksUrls: ['not a url'] }]), /clients.0.jwksUrls.0/],
    ['an issuer twice', file([good, good]), /each iss may appear once/],
    [
      'a fhirServer with a query',
      file([{ ...good, fhirServers: ['https://ehr.example.org/fhir?x=1'] }]),
      /clients.0 \(https:\/\/ehr.example.org\): a fhirServers entry/,
    ],
  ])('stops on %s, naming it', (_name, text, message) => {
    expect(() => parseClientsFile(text, 'clients.json', false)).toThrow(ClientsFileError);
    expect(() => parseClientsFile(text, 'clients.json', false)).toThrow(message);
  });

  it('refuses in production a client that trusts the public sandbox key, or plain http', () => {
    const sandbox = sandboxClient();
    expect(() => parseClientsFile(file([{ ...sandbox, fhirServers: [] }]), 'f', true)).toThrow(
      /trusts the public CDS Hooks sandbox key/,
    );
    expect(() =>
      parseClientsFile(file([{ ...good, iss: 'https://x', jwks: sandbox.jwks }]), 'f', true),
    ).toThrow(/sandbox key/);
    expect(() =>
      parseClientsFile(file([{ ...good, fhirServers: ['http://ehr.example.org/fhir'] }]), 'f', true),
    ).toThrow(/must use https in production/);
    expect(
      parseClientsFile(file([{ ...good, fhirServers: ['http://localhost:8080/fhir'] }]), 'f', false),
    ).toHaveLength(1);
  });
});

describe('production refuses insecure settings', () => {
  const production = {
    NODE_ENV: 'production',
    PUBLIC_BASE_URL: 'https://cds.example.org',
    CDS_CLIENTS_FILE: '/etc/pvp-cds/clients.json',
    HOST: '0.0.0.0',
  };

  it('refuses CDS_AUTH=off', () => {
    expect(() => loadConfig({ ...production, CDS_AUTH: 'off' })).toThrow(
      /CDS_AUTH: off is refused in production/,
    );
  });

  it('refuses to run with no trusted clients', () => {
    const { CDS_CLIENTS_FILE: _, ...noClients } = production;
    expect(() => loadConfig(noClients)).toThrow(/CDS_CLIENTS_FILE: production needs/);
  });

  it('refuses to guess its public URL (the token audience)', () => {
    const { PUBLIC_BASE_URL: _, ...noUrl } = production;
    expect(() => loadConfig(noUrl)).toThrow(/PUBLIC_BASE_URL: production needs/);
  });

  it('has no CORS origins unless configured', () => {
    expect(loadConfig(production).corsOrigins).toEqual([]);
    expect(
      loadConfig({ ...production, CORS_ORIGINS: 'https://a.example, https://b.example' }).corsOrigins,
    ).toEqual(['https://a.example', 'https://b.example']);
    expect(loadConfig({}).corsOrigins).toBe('*');
  });

  it('stops at start-up on a bad clients file, naming it', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'pvp-cds-'));
    const path = join(dir, 'clients.json');
    await writeFile(path, file([{ ...good, jwksUrls: [], jwks: undefined }]));
    const config = loadConfig({ CDS_CLIENTS_FILE: path, LOG_LEVEL: 'silent' });
    expect(() => configuredVerifier(config, createLogger('silent'), new MemoryReplayCache())).toThrow(
      new RegExp(`CDS_CLIENTS_FILE ${path} is invalid: clients.0`),
    );
  });
});

describe('development defaults', () => {
  it('trusts the public CDS Hooks sandbox with its published inline key', () => {
    const sandbox = sandboxClient();
    expect(sandbox.iss).toBe(sandboxIssuer);
    expect(sandbox.jwksUrls).toEqual(['https://sandbox.cds-hooks.org/.well-known/jwks.json']);
    expect(sandbox.jwks?.keys[0]).toMatchObject({
      kid: '44823f3d-0b01-4a6c-a80e-b9d3e8a7226f',
      alg: 'ES384',
      crv: 'P-384',
    });
    expect(sandbox.fhirServers.every((url) => normaliseBaseUrl(url) === url)).toBe(true);
  });

  it('has no verifier when authentication is off, and one by default', () => {
    const silent = createLogger('silent');
    expect(
      configuredVerifier(loadConfig({ CDS_AUTH: 'off' }), silent, new MemoryReplayCache()),
    ).toBeUndefined();
    expect(configuredVerifier(loadConfig({}), silent, new MemoryReplayCache())).toBeDefined();
  });
});

describe('base URL normalisation', () => {
  it.each([
    ['https://EHR.example.org:443/fhir/r4/', 'https://ehr.example.org/fhir/r4'],
    ['http://localhost:80/fhir', 'http://localhost/fhir'],
    ['http://127.0.0.1:8080/fhir//', 'http://127.0.0.1:8080/fhir'],
  ])('%s → %s', (input, output) => {
    expect(normaliseBaseUrl(input)).toBe(output);
  });

  it('rejects URLs with credentials, queries or fragments', () => {
    expect(normaliseBaseUrl('https://user:pw@ehr.example.org/fhir')).toBeUndefined();
    expect(normaliseBaseUrl('https://ehr.example.org/fhir?x=1')).toBeUndefined();
    expect(normaliseBaseUrl('nonsense')).toBeUndefined();
  });
});

describe('the replay cache', () => {
  it('refuses a key until it expires, and forgets expired keys', async () => {
    let now = 1_000_000;
    const cache = new MemoryReplayCache(() => now);
    expect(await cache.remember('iss jti', now + 60_000)).toBe(true);
    expect(await cache.remember('iss jti', now + 60_000)).toBe(false);
    now += 61_000;
    expect(await cache.remember('iss jti', now + 60_000)).toBe(true);
    now += 120_000;
    await cache.remember('other', now + 1000);
    expect(cache.size).toBe(1);
  });
});
