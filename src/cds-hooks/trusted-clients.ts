/**
 * The CDS clients (EHRs) we trust: their issuer, where their signing keys are, and the FHIR servers
 * we may call with the tokens they hand us. Read from CDS_CLIENTS_FILE and validated at start-up;
 * a bad entry stops the process with a message naming it.
 */
import { readFileSync } from 'node:fs';
import { z } from 'zod';

const jwkSchema = z.looseObject({ kty: z.string(), kid: z.string().min(1) });
const jwksSchema = z.object({ keys: z.array(jwkSchema).min(1) });
const httpUrl = z.url({ protocol: /^https?$/ });

const clientSchema = z
  .object({
    iss: z.string().min(1),
    jwksUrls: z.array(httpUrl).default([]),
    jwks: jwksSchema.optional(),
    fhirServers: z.array(httpUrl).default([]),
    tenant: z.string().min(1).optional(),
  })
  .refine((c) => c.jwksUrls.length > 0 || c.jwks !== undefined, {
    message: 'needs jwksUrls or an inline jwks',
  });

const clientsFileSchema = z
  .object({ clients: z.array(clientSchema).min(1) })
  .refine((f) => new Set(f.clients.map((c) => c.iss)).size === f.clients.length, {
    message: 'each iss may appear once',
  });

/** A trusted client; its `fhirServers` are normalised base URLs (see `normaliseBaseUrl`). */
export type TrustedClient = z.infer<typeof clientSchema>;

/** A FHIR base URL compared by scheme, host, port and path, without a trailing slash or default port. */
export function normaliseBaseUrl(url: string): string | undefined {
  try {
    const parsed = new URL(url);
    if (parsed.username || parsed.password || parsed.search || parsed.hash) return undefined;
    return `${parsed.protocol}//${parsed.host}${parsed.pathname.replace(/\/+$/, '')}`;
  } catch {
    return undefined;
  }
}

/** The public CDS Hooks sandbox (CDS-HOOKS.md). Its private key is published: development trust only. */
export const sandboxIssuer = 'https://sandbox.cds-hooks.org';
const sandboxJku = 'https://sandbox.cds-hooks.org/.well-known/jwks.json';
const sandboxKid = '44823f3d-0b01-4a6c-a80e-b9d3e8a7226f';

export function sandboxClient(): TrustedClient {
  const jwks = jwksSchema.parse(
    JSON.parse(readFileSync(new URL('./sandbox-jwks.json', import.meta.url), 'utf8')),
  );
  return {
    iss: sandboxIssuer,
    jwksUrls: [sandboxJku],
    jwks,
    // The sandbox's default R4 server, and `npm run demo`'s local one (already normalised base URLs).
    fhirServers: [
      'https://launch.smarthealthit.org/v/r4/fhir',
      'http://localhost:8080/fhir',
      'http://127.0.0.1:8080/fhir',
    ],
  };
}

export function trustsSandboxKey(client: TrustedClient): boolean {
  return client.iss === sandboxIssuer || (client.jwks?.keys.some((k) => k.kid === sandboxKid) ?? false);
}

export class ClientsFileError extends Error {
  override name = 'ClientsFileError';
}

export function parseClientsFile(text: string, source: string, production: boolean): TrustedClient[] {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new ClientsFileError(`${source} is not valid JSON`);
  }
  const parsed = clientsFileSchema.safeParse(json);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.join('.') || 'file'}: ${i.message}`).join('; ');
    throw new ClientsFileError(`${source} is invalid: ${problems}`);
  }
  parsed.data.clients.forEach((client, i) => {
    const name = `${source}: clients.${i} (${client.iss})`;
    if (client.fhirServers.some((u) => normaliseBaseUrl(u) === undefined)) {
      throw new ClientsFileError(`${name}: a fhirServers entry is not a plain base URL`);
    }
    if (production) {
      if (trustsSandboxKey(client)) {
        throw new ClientsFileError(
          `${name}: trusts the public CDS Hooks sandbox key, whose private key is published`,
        );
      }
      if ([...client.jwksUrls, ...client.fhirServers].some((u) => !u.startsWith('https://'))) {
        throw new ClientsFileError(`${name}: jwksUrls and fhirServers must use https in production`);
      }
    }
  });
  // Normalised once here, so each hook call compares its fhirServer against plain strings.
  return parsed.data.clients.map((client) => ({
    ...client,
    fhirServers: client.fhirServers.flatMap((url) => normaliseBaseUrl(url) ?? []),
  }));
}

export function loadClientsFile(path: string, production: boolean): TrustedClient[] {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    throw new ClientsFileError(`CDS_CLIENTS_FILE ${path} cannot be read`);
  }
  return parseClientsFile(text, `CDS_CLIENTS_FILE ${path}`, production);
}
