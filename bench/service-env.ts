/**
 * What `npm run bench` and `npm run soak` both give the service process they start: loopback, quiet
 * logs, its public URL (the token audience), one trusted EHR signing with an inline ES384 key and
 * allowed to name the given FHIR servers (and, when given, `moreEhrs`: further issuers with their own
 * inline keys, e.g. an RS384 one, allowed the same servers), no rate limit to speak of, and an embedded
 * database of its own beside the clients file (the ledger records every card, as deployed).
 */
import { writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { SigningKey } from '../tests/support/ehr-client.ts';

export async function benchServiceEnv(options: {
  port: number;
  clientsFile: string;
  ehr: { iss: string; key: SigningKey };
  fhirServers: string[];
  moreEhrs?: Array<{ iss: string; key: SigningKey }>;
}): Promise<NodeJS.ProcessEnv> {
  const { ehr, fhirServers } = options;
  const clients = [ehr, ...(options.moreEhrs ?? [])].map(({ iss, key }) => ({
    iss,
    jwks: { keys: [key.publicJwk] },
    fhirServers,
  }));
  await writeFile(options.clientsFile, JSON.stringify({ clients }));
  return {
    ...process.env,
    PORT: String(options.port),
    HOST: '127.0.0.1',
    LOG_LEVEL: 'warn',
    LOG_FORMAT: 'json',
    PUBLIC_BASE_URL: `http://127.0.0.1:${options.port}`,
    CDS_CLIENTS_FILE: options.clientsFile,
    RATE_LIMIT_PER_MINUTE: '1000000',
    DATA_DIR: join(dirname(options.clientsFile), 'data'),
  };
}
