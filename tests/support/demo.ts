/**
 * `npm run demo`: the service with development settings (it trusts the CDS Hooks sandbox, whose key it
 * holds, so no network is needed) and beside it a real in-memory FHIR R4 server loaded with every
 * fixture patient; then, per patient, a link that opens the CDS Hooks sandbox on both, and what each of
 * its screens shows. Ports: PORT (service, 3000) and DEMO_FHIR_PORT (8080); SANDBOX_URL is the sandbox
 * to link to (default the public one; a local build works offline, see README).
 */
import { spawn } from 'node:child_process';
import { readdir, readFile } from 'node:fs/promises';
import { readFixture, startFhirServer } from './fhir-server.ts';
import { type Expectations, patientIdOf } from './hook-calls.ts';

const fhirPort = Number(process.env.DEMO_FHIR_PORT ?? 8080);
const servicePort = Number(process.env.PORT ?? 3000);
const sandbox = (process.env.SANDBOX_URL ?? 'https://sandbox.cds-hooks.org').replace(/\/+$/, '');

const fhir = await startFhirServer({ port: fhirPort, host: '127.0.0.1' });
// Only the patient scenarios (`<scenario>.json`): not `<scenario>.draft-orders.json` (draft orders), not
// `<scenario>.foreign.json` (another patient's records, for the patient guard), not expectations.json.
const names = (await readdir(new URL('../../fhir-fixtures/', import.meta.url)))
  .filter((f) => /^[a-z0-9-]+\.json$/.test(f) && f !== 'expectations.json')
  .map((f) => f.replace(/\.json$/, ''))
  .sort();
for (const name of names) await fhir.load(await readFixture(name));

const service = spawn(process.execPath, ['src/main.ts'], {
  env: { ...process.env, PORT: String(servicePort), HOST: process.env.HOST ?? '127.0.0.1' },
  stdio: ['ignore', 'ignore', 'inherit'],
});
const serviceUrl = `http://127.0.0.1:${servicePort}`;
for (let i = 0; ; i++) {
  const up = await fetch(`${serviceUrl}/healthz`).then(
    (r) => r.ok,
    () => false,
  );
  if (up) break;
  if (service.exitCode !== null || i > 200) {
    process.stderr.write('the service did not start (see above)\n');
    await fhir.close();
    process.exit(1);
  }
  await new Promise((resolve) => setTimeout(resolve, 100));
}

const expectations = JSON.parse(
  await readFile(new URL('../../fhir-fixtures/expectations.json', import.meta.url), 'utf8'),
) as Expectations;
const kindNames = (
  JSON.parse(await readFile(new URL('../../cards/en.json', import.meta.url), 'utf8')) as {
    analytics: { kinds: Record<string, string> };
  }
).analytics.kinds;
const listed = (cards: string[]) =>
  cards.length ? cards.map((k) => kindNames[k] ?? k).join(', ') : 'no cards';

const out: string[] = [
  `pvp-cds ${serviceUrl}/cds-services (development: trusts the CDS Hooks sandbox)`,
  `FHIR R4 ${fhir.baseUrl} with ${names.length} fixture patients (fhir-fixtures/README.md says why each card)`,
  `Analytics: set ANALYTICS_TOKEN and open ${serviceUrl}/analytics`,
  '',
  'Open a patient in the CDS Hooks sandbox (Patient View fires at once; Rx Sign: pick a drug and sign;',
  'PAMA Imaging: pick a study, e.g. MRI lumbar spine without contrast, CPT 72148, to fire order-select):',
];
for (const name of names) {
  const patientId = await patientIdOf(name);
  const query = new URLSearchParams({
    fhirServiceUrl: fhir.baseUrl,
    serviceDiscoveryURL: `${serviceUrl}/cds-services`,
    patientId,
  });
  const expected = expectations.scenarios[name] ?? {};
  const screens = [
    expected['patient-view'] ? `Patient View: ${listed(expected['patient-view'].cards)}` : undefined,
    expected['order-sign']
      ? `order-sign with ${expected['order-sign'].draftOrders ?? 'its draft'}: ${listed(expected['order-sign'].cards)}`
      : undefined,
  ].filter(Boolean);
  out.push('', `${name} (${patientId})`, `  ${sandbox}/?${query}`, ...screens.map((s) => `  ${s}`));
}
out.push('', 'Ctrl-C stops both.');
process.stdout.write(`${out.join('\n')}\n`);

const stop = () => {
  service.kill('SIGTERM');
  void fhir.close().then(() => process.exit(0));
};
process.once('SIGINT', stop);
process.once('SIGTERM', stop);
service.once('exit', (code) => {
  if (code !== 0) process.stderr.write(`the service stopped (exit ${code})\n`);
  void fhir.close().then(() => process.exit(code ?? 1));
});
