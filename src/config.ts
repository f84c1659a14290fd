/**
 * Every setting, read once from the environment and validated. A bad value stops the process with a
 * message naming the variable. Defaults live here and nowhere else.
 */
import { z } from 'zod';

export const locales = ['en', 'zh-CN'] as const;
export type Locale = (typeof locales)[number];

const integer = (min: number, max: number) => z.coerce.number().int().min(min).max(max);

const envSchema = z.object({
  NODE_ENV: z.enum(['development', 'test', 'production']).default('development'),
  PORT: integer(0, 65535).default(3000),
  HOST: z.string().min(1).default('0.0.0.0'),
  /** Public base URL of this service (behind a proxy); used for links to the model descriptions. */
  PUBLIC_BASE_URL: z
    .url({ protocol: /^https?$/ })
    .transform((u) => u.replace(/\/+$/, ''))
    .optional(),
  /** One deadline for all FHIR reads of one hook request. */
  FHIR_DEADLINE_MS: integer(100, 60_000).default(2000),
  /** Most search pages followed per prefetch key. */
  FHIR_MAX_PAGES: integer(1, 100).default(10),
  DEFAULT_LOCALE: z.enum(locales).default('en'),
  /** Largest request body accepted (bytes). */
  BODY_LIMIT_BYTES: integer(1024, 50 * 1024 * 1024).default(1024 * 1024),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  /** fhir-kit-client logs request headers, bearer tokens included, when its debug namespace is on. */
  DEBUG: z
    .string()
    .refine((v) => !/fhir-kit-client|\*/.test(v), {
      message: 'must not enable fhir-kit-client debug logging: it prints bearer tokens',
    })
    .optional(),
});

export type Config = {
  nodeEnv: 'development' | 'test' | 'production';
  port: number;
  host: string;
  publicBaseUrl: string | undefined;
  fhirDeadlineMs: number;
  fhirMaxPages: number;
  defaultLocale: Locale;
  bodyLimitBytes: number;
  logLevel: string;
};

export class ConfigError extends Error {
  override name = 'ConfigError';
}

export function loadConfig(env: Record<string, string | undefined> = process.env): Config {
  const parsed = envSchema.safeParse(env);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ');
    throw new ConfigError(`invalid configuration: ${problems}`);
  }
  const e = parsed.data;
  return {
    nodeEnv: e.NODE_ENV,
    port: e.PORT,
    host: e.HOST,
    publicBaseUrl: e.PUBLIC_BASE_URL,
    fhirDeadlineMs: e.FHIR_DEADLINE_MS,
    fhirMaxPages: e.FHIR_MAX_PAGES,
    defaultLocale: e.DEFAULT_LOCALE,
    bodyLimitBytes: e.BODY_LIMIT_BYTES,
    logLevel: e.LOG_LEVEL,
  };
}
