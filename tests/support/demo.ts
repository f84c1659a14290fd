/**
 * `npm run demo`: an in-memory FHIR R4 server loaded with every fixture scenario, for trying the
 * service by hand or from the CDS Hooks sandbox. Port: DEMO_FHIR_PORT (default 8080).
 */
import { readdir } from 'node:fs/promises';
import { readFixture, startFhirServer } from './fhir-server.ts';

const port = Number(process.env.DEMO_FHIR_PORT ?? 8080);
const server = await startFhirServer({ port, host: '127.0.0.1' });
// Only the patient scenarios (`<scenario>.json`): not `<scenario>.draft-orders.json` (draft orders), not
// `<scenario>.foreign.json` (another patient's records, for the patient guard), not expectations.json.
const names = (await readdir(new URL('../../fhir-fixtures/', import.meta.url)))
  .filter((f) => /^[a-z0-9-]+\.json$/.test(f) && f !== 'expectations.json')
  .map((f) => f.replace(/\.json$/, ''));
for (const name of names) await server.load(await readFixture(name));
process.stdout.write(`FHIR R4 server with ${names.length} fixture patients at ${server.baseUrl}\n`);
process.stdout.write(`patients: ${names.map((n) => n).join(', ')} (ids in fhir-fixtures/README.md)\n`);
const stop = () => void server.close().then(() => process.exit(0));
process.once('SIGINT', stop);
process.once('SIGTERM', stop);
