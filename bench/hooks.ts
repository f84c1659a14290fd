/**
 * `npm run bench`: latency and throughput of the two hooks, and the service's memory.
 * The service runs as its own process (as deployed); autocannon and the FHIR server run here,
 * all on loopback. Bounded: each scenario runs for BENCH_SECONDS (default 10) and stops by itself.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import autocannon from 'autocannon';
import { clientToken, signingKey } from '../tests/support/ehr-client.ts';
import { readFixture, startFhirServer } from '../tests/support/fhir-server.ts';
import { fullPrefetch, hookBody } from '../tests/support/hook-calls.ts';
import { benchServiceEnv } from './service-env.ts';

const seconds = Number(process.env.BENCH_SECONDS ?? 10);
const connections = Number(process.env.BENCH_CONNECTIONS ?? 10);
const port = 3900;
const base = `http://127.0.0.1:${port}`;

const ehr = { iss: 'https://bench-ehr.example.org', key: signingKey('ES384') };

/** The service trusts one EHR whose ES384 key is inline; every request carries a freshly signed token. */
async function startService(fhirBaseUrl: string): Promise<ChildProcess> {
  const clientsFile = join(await mkdtemp(join(tmpdir(), 'pvp-cds-bench-')), 'clients.json');
  const child = spawn(process.execPath, ['src/main.ts'], {
    env: await benchServiceEnv({ port, clientsFile, ehr, fhirServers: [fhirBaseUrl] }),
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  for (let i = 0; i < 100; i++) {
    if (
      await fetch(`${base}/healthz`).then(
        (r) => r.ok,
        () => false,
      )
    )
      return child;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error('service did not start');
}

/** Resident memory of the service process in MB: `VmRSS` now, or `VmHWM` (the peak so far). */
async function rssMb(pid: number, field: 'VmRSS' | 'VmHWM'): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  const kb = Number(new RegExp(`${field}:\\s+(\\d+)`).exec(status)?.[1] ?? 0);
  return Math.round(kb / 1024);
}

async function run(service: ChildProcess, title: string, path: string, body: unknown) {
  const result = await autocannon({
    url: `${base}${path}`,
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
    requests: [
      {
        setupRequest: (request) => ({
          ...request,
          headers: {
            ...request.headers,
            authorization: `Bearer ${clientToken({ iss: ehr.iss, aud: `${base}${path}`, key: ehr.key })}`,
          },
        }),
      },
    ],
    connections,
    duration: seconds,
  });
  const { latency, requests, non2xx, errors } = result;
  const rss = await rssMb(service.pid ?? 0, 'VmRSS');
  return {
    rss,
    title,
    reqPerSec: Math.round(requests.average),
    p50: latency.p50,
    p97_5: latency.p97_5,
    p99: latency.p99,
    non2xx,
    errors,
  };
}

const fhir = await startFhirServer();
for (const name of ['high-rbp-risk', 'case-report']) await fhir.load(await readFixture(name));
const service = await startService(fhir.baseUrl);
const idleRss = await rssMb(service.pid ?? 0, 'VmRSS');
try {
  const prefetch = await fullPrefetch(fhir.baseUrl, 'pvp-high-rbp-risk');
  const rows = [
    await run(
      service,
      'patient-view, full prefetch',
      '/cds-services/pvp-risk-patient-view',
      await hookBody('patient-view', 'pvp-high-rbp-risk', { prefetch }),
    ),
    await run(
      service,
      'order-sign (PVP draft), full prefetch',
      '/cds-services/pvp-risk-order-sign',
      await hookBody('order-sign', 'pvp-high-rbp-risk', {
        prefetch,
        draftOrders: 'high-rbp-risk.draft-orders',
      }),
    ),
    await run(
      service,
      'patient-view, no prefetch (9 FHIR searches)',
      '/cds-services/pvp-risk-patient-view',
      await hookBody('patient-view', 'pvp-high-rbp-risk', { fhirServer: fhir.baseUrl }),
    ),
  ];
  const peakRss = await rssMb(service.pid ?? 0, 'VmHWM');
  process.stdout.write(`node ${process.version}, ${connections} connections, ${seconds} s per scenario\n\n`);
  process.stdout.write(
    '| scenario | req/s | p50 ms | p97.5 ms | p99 ms | non-2xx | errors | RSS after, MB |\n|---|---|---|---|---|---|---|---|\n',
  );
  for (const r of rows) {
    process.stdout.write(
      `| ${r.title} | ${r.reqPerSec} | ${r.p50} | ${r.p97_5} | ${r.p99} | ${r.non2xx} | ${r.errors} | ${r.rss} |\n`,
    );
  }
  process.stdout.write(`\nservice RSS idle after start: ${idleRss} MB; peak: ${peakRss} MB\n`);
} finally {
  service.kill('SIGTERM');
  await fhir.close();
}
