/**
 * Every setting, read once from the environment and validated. A bad value stops the process with a
 * message naming the variable. Defaults live here and nowhere else.
 */
import { z } from 'zod';

export const locales = ['en', 'zh-CN'] as const;
export type Locale = (typeof locales)[number];

/** Whether a time zone name is one this runtime knows (an IANA name such as `Asia/Shanghai`, or `UTC`). */
function isTimeZone(name: string): boolean {
  try {
    new Intl.DateTimeFormat('en-CA', { timeZone: name });
    return true;
  } catch {
    return false;
  }
}

const integer = (min: number, max: number) => z.coerce.number().int().min(min).max(max);

const envSchema = z.object({
  NODE_ENV: z.enum(['development', 'test', 'production']).default('development'),
  PORT: integer(0, 65535).default(3000),
  /** Address to listen on: loopback by default outside production, where it must be set (`0.0.0.0` for all). */
  HOST: z.string().min(1).optional(),
  /** Public base URL of this service (behind a proxy); used for links to the model descriptions. */
  PUBLIC_BASE_URL: z
    .url({ protocol: /^https?$/ })
    .transform((u) => u.replace(/\/+$/, ''))
    .optional(),
  /** One deadline for all FHIR reads of one hook request. */
  FHIR_DEADLINE_MS: integer(100, 60_000).default(2000),
  /** Most search pages read per prefetch key (the first included); a key with more is not read. */
  FHIR_MAX_PAGES: integer(1, 100).default(10),
  /** Most Bundle entries read per prefetch key, all its pages together. */
  FHIR_MAX_ENTRIES: integer(1, 100_000).default(2000),
  /** Most body bytes (decoded) read per prefetch key, all its pages together. */
  FHIR_MAX_BYTES: integer(1024, 256 * 1024 * 1024).default(4 * 1024 * 1024),
  DEFAULT_LOCALE: z.enum(locales).default('en'),
  /** The clinic's IANA time zone: ages and "last N months" turn over at its midnight. Default: the process's. */
  CLINIC_TIME_ZONE: z
    .string()
    .refine(isTimeZone, { message: 'must be an IANA time zone such as Asia/Shanghai or UTC' })
    .default(() => Intl.DateTimeFormat().resolvedOptions().timeZone),
  /** Largest request body accepted (bytes). */
  BODY_LIMIT_BYTES: integer(1024, 50 * 1024 * 1024).default(1024 * 1024),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  /** `json` lines (default in test and production) or `pretty` for people (default in development). */
  LOG_FORMAT: z.enum(['json', 'pretty']).optional(),
  /** Longest wait, after SIGTERM, for the answers in flight; then the process exits anyway. */
  SHUTDOWN_GRACE_MS: integer(0, 600_000).default(10_000),
  /** Bearer token for /metrics; without it /metrics is open (it carries no patient data). */
  METRICS_TOKEN: z.string().min(24, { message: 'must be at least 24 characters' }).optional(),
  /** `off` accepts unauthenticated calls (development only; refused in production). */
  CDS_AUTH: z.enum(['on', 'off']).default('on'),
  /** JSON file of trusted CDS clients; without it, development trusts the public CDS Hooks sandbox. */
  CDS_CLIENTS_FILE: z.string().min(1).optional(),
  CDS_TOKEN_LEEWAY_S: integer(0, 300).default(60),
  CDS_TOKEN_MAX_LIFETIME_S: integer(10, 3600).default(300),
  JWKS_TIMEOUT_MS: integer(100, 30_000).default(2000),
  JWKS_REFRESH_COOLDOWN_MS: integer(0, 3_600_000).default(30_000),
  /** Browser origins allowed to call (comma-separated, or `*`); default `*` in development, none in production. */
  CORS_ORIGINS: z.string().optional(),
  /** Calls per minute per client (per issuer; per address when unauthenticated). */
  RATE_LIMIT_PER_MINUTE: integer(1, 1_000_000).default(600),
  /** A directory of model files (`npm run model` writes them); a kind without one there is the published v1. */
  MODEL_DIR: z.string().min(1).optional(),
  /** Where the embedded database (PGlite) keeps its files, when there is no DATABASE_URL. */
  DATA_DIR: z.string().min(1).default('data'),
  /** A PostgreSQL server shared by replicas: postgres://user:password@host:5432/db. */
  DATABASE_URL: z
    .url({ protocol: /^postgres(ql)?$/, message: 'must be a postgres:// or postgresql:// URL' })
    .optional(),
  DATABASE_POOL_SIZE: integer(1, 200).default(10),
  /** Longest wait for a database connection or statement. */
  DATABASE_TIMEOUT_MS: integer(100, 60_000).default(2000),
  /** Ledger and feedback older than this are deleted. */
  RETENTION_DAYS: integer(1, 3650).default(400),
  /** HMAC secret for the ledger's per-patient key; without it no per-patient key is stored. */
  PATIENT_KEY_SECRET: z.string().min(32, { message: 'must be at least 32 characters' }).optional(),
  /** Bearer token for /analytics; analytics are disabled without it. */
  ANALYTICS_TOKEN: z.string().min(24, { message: 'must be at least 24 characters' }).optional(),
});

export type Config = {
  nodeEnv: 'development' | 'test' | 'production';
  port: number;
  host: string;
  publicBaseUrl: string | undefined;
  fhirDeadlineMs: number;
  fhirMaxPages: number;
  fhirMaxEntries: number;
  fhirMaxBytes: number;
  defaultLocale: Locale;
  clinicTimeZone: string;
  bodyLimitBytes: number;
  logLevel: string;
  logFormat: 'json' | 'pretty';
  shutdownGraceMs: number;
  metricsToken: string | undefined;
  auth: 'on' | 'off';
  clientsFile: string | undefined;
  tokenLeewaySeconds: number;
  tokenMaxLifetimeSeconds: number;
  jwksTimeoutMs: number;
  jwksCooldownMs: number;
  /** `*`, or the exact origins allowed. */
  corsOrigins: '*' | string[];
  rateLimitPerMinute: number;
  modelDir: string | undefined;
  dataDir: string;
  databaseUrl: string | undefined;
  databasePoolSize: number;
  databaseTimeoutMs: number;
  retentionDays: number;
  patientKeySecret: string | undefined;
  analyticsToken: string | undefined;
};

/** Every setting the service reads, by its variable name. */
export const settingNames = Object.keys(envSchema.shape) as Array<keyof typeof envSchema.shape>;

/** Settings whose values are never printed or logged. */
const secretSettings = new Set<string>(['PATIENT_KEY_SECRET', 'ANALYTICS_TOKEN', 'METRICS_TOKEN']);

export class ConfigError extends Error {
  override name = 'ConfigError';
}

type Settings = z.infer<typeof envSchema> & {
  HOST: string;
  LOG_FORMAT: 'json' | 'pretty';
  /** `*`, or the allowed origins comma-separated (empty: none). */
  CORS_ORIGINS: string;
};

/** The settings in effect: validated, defaults applied, production's refusals checked. */
function effectiveSettings(env: Record<string, string | undefined>): Settings {
  const parsed = envSchema.safeParse(env);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ');
    throw new ConfigError(`invalid configuration: ${problems}`);
  }
  const e = parsed.data;
  const production = e.NODE_ENV === 'production';
  const refuse = (message: string) => {
    throw new ConfigError(`invalid configuration: ${message}`);
  };
  if (production && e.CDS_AUTH === 'off') refuse('CDS_AUTH: off is refused in production');
  if (production && e.CDS_AUTH === 'on' && !e.CDS_CLIENTS_FILE)
    refuse('CDS_CLIENTS_FILE: production needs the trusted CDS clients');
  if (production && !e.PUBLIC_BASE_URL)
    refuse('PUBLIC_BASE_URL: production needs it to check the token audience');
  if (production && !e.HOST)
    refuse('HOST: production needs the address to listen on set explicitly (0.0.0.0 for every interface)');
  return {
    ...e,
    HOST: e.HOST ?? '127.0.0.1',
    CORS_ORIGINS: e.CORS_ORIGINS?.trim() ?? (production ? '' : '*'),
    LOG_FORMAT: e.LOG_FORMAT ?? (e.NODE_ENV === 'development' ? 'pretty' : 'json'),
  };
}

/** A database URL without its password. */
function maskedUrl(url: string): string {
  const parsed = new URL(url);
  if (parsed.password) parsed.password = '*****';
  return parsed.toString();
}

/**
 * The effective configuration, one `NAME=value` line per setting (unset ones as `NAME=`), secrets
 * shown only as set or not: what `npm start -- --print-config` prints.
 */
export function printableConfig(env: Record<string, string | undefined> = process.env): string {
  const settings: Record<string, unknown> = effectiveSettings(env);
  return settingNames
    .map((name) => {
      const value = settings[name];
      if (value === undefined) return `${name}=`;
      if (secretSettings.has(name)) return `${name}=(set, masked)`;
      if (name === 'DATABASE_URL') return `${name}=${maskedUrl(String(value))}`;
      return `${name}=${String(value)}`;
    })
    .join('\n');
}

export function loadConfig(env: Record<string, string | undefined> = process.env): Config {
  const e = effectiveSettings(env);
  const corsOrigins: Config['corsOrigins'] =
    e.CORS_ORIGINS === '*'
      ? '*'
      : e.CORS_ORIGINS.split(',')
          .map((o) => o.trim())
          .filter(Boolean);
  return {
    nodeEnv: e.NODE_ENV,
    port: e.PORT,
    host: e.HOST,
    publicBaseUrl: e.PUBLIC_BASE_URL,
    fhirDeadlineMs: e.FHIR_DEADLINE_MS,
    fhirMaxPages: e.FHIR_MAX_PAGES,
    fhirMaxEntries: e.FHIR_MAX_ENTRIES,
    fhirMaxBytes: e.FHIR_MAX_BYTES,
    defaultLocale: e.DEFAULT_LOCALE,
    clinicTimeZone: e.CLINIC_TIME_ZONE,
    bodyLimitBytes: e.BODY_LIMIT_BYTES,
    logLevel: e.LOG_LEVEL,
    logFormat: e.LOG_FORMAT,
    shutdownGraceMs: e.SHUTDOWN_GRACE_MS,
    metricsToken: e.METRICS_TOKEN,
    auth: e.CDS_AUTH,
    clientsFile: e.CDS_CLIENTS_FILE,
    tokenLeewaySeconds: e.CDS_TOKEN_LEEWAY_S,
    tokenMaxLifetimeSeconds: e.CDS_TOKEN_MAX_LIFETIME_S,
    jwksTimeoutMs: e.JWKS_TIMEOUT_MS,
    jwksCooldownMs: e.JWKS_REFRESH_COOLDOWN_MS,
    corsOrigins,
    rateLimitPerMinute: e.RATE_LIMIT_PER_MINUTE,
    modelDir: e.MODEL_DIR,
    dataDir: e.DATA_DIR,
    databaseUrl: e.DATABASE_URL,
    databasePoolSize: e.DATABASE_POOL_SIZE,
    databaseTimeoutMs: e.DATABASE_TIMEOUT_MS,
    retentionDays: e.RETENTION_DAYS,
    patientKeySecret: e.PATIENT_KEY_SECRET,
    analyticsToken: e.ANALYTICS_TOKEN,
  };
}
