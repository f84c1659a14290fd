import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config.ts';
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
