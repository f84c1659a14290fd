import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig, printableConfig, settingNames } from '../../src/config.ts';
import { negotiateLocale } from '../../src/http/locale.ts';

describe('configuration', () => {
  it('has working defaults', () => {
    expect(loadConfig({})).toMatchObject({
      port: 3000,
      fhirDeadlineMs: 2000,
      fhirMaxPages: 10,
      defaultLocale: 'en',
    });
  });

  it.each([
    ['PORT', 'eighty'],
    ['FHIR_DEADLINE_MS', '5'],
    ['DEFAULT_LOCALE', 'fr'],
    ['PUBLIC_BASE_URL', 'ftp://cds.example.org'],
    ['NODE_ENV', 'staging'],
    ['CLINIC_TIME_ZONE', 'Mars/Olympus_Mons'],
    ['CLINIC_TIME_ZONE', 'GMT+25'],
  ])('refuses a bad %s, naming it', (name, value) => {
    expect(() => loadConfig({ [name]: value })).toThrow(ConfigError);
    expect(() => loadConfig({ [name]: value })).toThrow(new RegExp(name));
  });

  it("takes the clinic's time zone as an IANA name, by default the process's own", () => {
    expect(loadConfig({ CLINIC_TIME_ZONE: 'Asia/Shanghai' }).clinicTimeZone).toBe('Asia/Shanghai');
    expect(loadConfig({ CLINIC_TIME_ZONE: 'UTC' }).clinicTimeZone).toBe('UTC');
    expect(loadConfig({}).clinicTimeZone).toBe(Intl.DateTimeFormat().resolvedOptions().timeZone);
  });

  it('caps each prefetch key: pages, entries and bytes, with defaults a compliant server stays within', () => {
    expect(loadConfig({})).toMatchObject({
      fhirMaxPages: 10,
      fhirMaxEntries: 2000,
      fhirMaxBytes: 4 * 1024 * 1024,
    });
    expect(loadConfig({ FHIR_MAX_ENTRIES: '500', FHIR_MAX_BYTES: '65536' })).toMatchObject({
      fhirMaxEntries: 500,
      fhirMaxBytes: 65536,
    });
    expect(() => loadConfig({ FHIR_MAX_ENTRIES: '0' })).toThrow(/FHIR_MAX_ENTRIES/);
    expect(() => loadConfig({ FHIR_MAX_BYTES: '12' })).toThrow(/FHIR_MAX_BYTES/);
    expect(() => loadConfig({ FHIR_MAX_BYTES: 'lots' })).toThrow(/FHIR_MAX_BYTES/);
  });
});

describe('Accept-Language', () => {
  it.each([
    [undefined, 'en'],
    ['zh-CN', 'zh-CN'],
    ['zh-Hans-CN,zh;q=0.9', 'zh-CN'],
    ['en-US,zh-CN;q=0.8', 'en'],
    ['zh-CN;q=0.2,en;q=0.9', 'en'],
    ['de-DE', 'en'],
    ['en;q=0', 'en'],
  ] as const)('%s → %s', (header, locale) => {
    expect(negotiateLocale(header, 'en')).toBe(locale);
  });

  it('falls back to the configured default', () => {
    expect(negotiateLocale('de-DE', 'zh-CN')).toBe('zh-CN');
  });
});

describe('configuration for operations', () => {
  const production = {
    NODE_ENV: 'production',
    CDS_CLIENTS_FILE: '/etc/pvp-cds/clients.json',
    PUBLIC_BASE_URL: 'https://cds.example-hospital.org',
  };

  it('listens on loopback by default, and production must say where', () => {
    expect(loadConfig({}).host).toBe('127.0.0.1');
    expect(() => loadConfig(production)).toThrow(/HOST: production needs the address/);
    expect(loadConfig({ ...production, HOST: '0.0.0.0' }).host).toBe('0.0.0.0');
  });

  it('logs for people in development and JSON elsewhere, unless told', () => {
    expect(loadConfig({}).logFormat).toBe('pretty');
    expect(loadConfig({ NODE_ENV: 'test' }).logFormat).toBe('json');
    expect(loadConfig({ ...production, HOST: '0.0.0.0' }).logFormat).toBe('json');
    expect(loadConfig({ LOG_FORMAT: 'json' }).logFormat).toBe('json');
    expect(() => loadConfig({ LOG_FORMAT: 'xml' })).toThrow(/LOG_FORMAT/);
  });

  it.each([
    ['SHUTDOWN_GRACE_MS', '-1'],
    ['METRICS_TOKEN', 'short'],
  ])('refuses a bad %s, naming it', (name, value) => {
    expect(() => loadConfig({ [name]: value })).toThrow(new RegExp(name));
  });

  it('prints every setting in effect, secrets masked and the database password hidden', () => {
    const secrets = {
      PATIENT_KEY_SECRET: 'patient-key-secret-of-at-least-32-chars',
      ANALYTICS_TOKEN: 'analytics-token-0123456789ab',
      METRICS_TOKEN: 'metrics-token-0123456789abcd',
    };
    const printed = printableConfig({
      ...secrets,
      DATABASE_URL: 'postgres://pvp:hunter2-db-password@db.internal:5432/pvp',
      RATE_LIMIT_PER_MINUTE: '120',
    });
    const lines = printed.split('\n');
    expect(lines.map((line) => line.split('=')[0])).toEqual(settingNames);
    expect(lines).toContain('RATE_LIMIT_PER_MINUTE=120');
    expect(lines).toContain('HOST=127.0.0.1');
    expect(lines).toContain('SHUTDOWN_GRACE_MS=10000');
    expect(lines).toContain('DATABASE_URL=postgres://pvp:*****@db.internal:5432/pvp');
    for (const name of Object.keys(secrets)) expect(lines).toContain(`${name}=(set, masked)`);
    for (const value of [...Object.values(secrets), 'hunter2-db-password'])
      expect(printed).not.toContain(value);
  });

  it('names every setting in the README table, and only settings', () => {
    const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
    const section = readme.slice(
      readme.indexOf('## Configuration'),
      readme.indexOf('\n## ', readme.indexOf('## Configuration') + 1),
    );
    const documented = [...section.matchAll(/^\| `([A-Z_]+)` \|/gm)].map((match) => match[1]);
    expect([...documented].sort()).toEqual([...settingNames].sort());
  });
});
