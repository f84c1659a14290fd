/**
 * `npm run profile`: a CPU profile of the heavy-patient path. The service runs as its own process with
 * `--cpu-prof`, plain (no client JWT: the profile is of our code, not of ES384), logging at info as
 * deployed (its lines to /dev/null), and takes order-sign
 * (or `PROFILE_HOOK=patient-view`) with the heavy patient's full prefetch (`PROFILE_PATIENT=light`: the
 * high-rbp-risk fixture's) from 10 connections for
 * PROFILE_SECONDS (default 10); then it stops, and the functions that took the most CPU themselves
 * (self time) are printed, with the profile's path to open in Chrome DevTools.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, readdir, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import autocannon from 'autocannon';
import { hookBody, scenarioPrefetch } from '../tests/support/hook-calls.ts';
import { freePort } from '../tests/support/service-process.ts';
import { heavyPatient } from './heavy-patient.ts';

const seconds = Number(process.env.PROFILE_SECONDS ?? 10);
const hook = process.env.PROFILE_HOOK === 'patient-view' ? 'patient-view' : 'order-sign';
const dir = await mkdtemp(join(tmpdir(), 'pvp-cds-profile-'));
const port = await freePort();
const base = `http://127.0.0.1:${port}`;
const child = spawn(process.execPath, ['--cpu-prof', `--cpu-prof-dir=${dir}`, 'src/main.ts'], {
  env: {
    PATH: process.env.PATH ?? '',
    NODE_ENV: 'test',
    CDS_AUTH: 'off',
    HOST: '127.0.0.1',
    PORT: String(port),
    LOG_LEVEL: 'info',
    LOG_FORMAT: 'json',
    RATE_LIMIT_PER_MINUTE: '1000000',
    DATA_DIR: join(dir, 'data'),
  },
  stdio: ['ignore', 'ignore', 'inherit'],
});
for (let i = 0; ; i++) {
  const up = await fetch(`${base}/healthz`).then(
    (r) => r.ok,
    () => false,
  );
  if (up) break;
  if (i > 200) throw new Error('the service did not start');
  await new Promise((resolve) => setTimeout(resolve, 100));
}

const patient =
  process.env.PROFILE_PATIENT === 'light' ? await scenarioPrefetch('high-rbp-risk') : await heavyPatient();
if ('fhir' in patient) await patient.fhir.close();
const body = await hookBody(hook, patient.patientId, {
  prefetch: patient.prefetch,
  ...(hook === 'order-sign' ? { draftOrders: 'high-rbp-risk.draft-orders' } : {}),
});
const path = `/cds-services/pvp-risk-${hook}`;
const result = await autocannon({
  url: `${base}${path}`,
  method: 'POST',
  headers: { 'content-type': 'application/json' },
  body: JSON.stringify(body),
  connections: 10,
  duration: seconds,
});
child.kill('SIGTERM');
await once(child, 'exit');

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
}
const file = (await readdir(dir)).find((name) => name.endsWith('.cpuprofile'));
if (!file) throw new Error('no profile was written');
const profile = JSON.parse(await readFile(join(dir, file), 'utf8')) as {
  nodes: ProfileNode[];
  samples: number[];
};
const hits = new Map<string, number>();
for (const node of profile.nodes) {
  const { functionName, url, lineNumber } = node.callFrame;
  const where = url.startsWith('file://')
    ? relative(process.cwd(), new URL(url).pathname)
    : url || '(native)';
  const name = `${functionName || '(anonymous)'} ${where}:${lineNumber + 1}`;
  hits.set(name, (hits.get(name) ?? 0) + (node.hitCount ?? 0));
}
const total = profile.samples.length;
const idle = [...hits].filter(([name]) => /^\((idle|program|garbage collector)\)/.test(name));
process.stdout.write(
  `${hook}, ${process.env.PROFILE_PATIENT === 'light' ? 'light' : 'heavy'} patient, ${Math.round(result.requests.average)} req/s at 10 connections, p50 ${result.latency.p50} ms; ${total} samples; profile: ${join(dir, file)}\n`,
);
for (const [name, n] of idle) process.stdout.write(`  ${((n / total) * 100).toFixed(1)}%  ${name}\n`);
process.stdout.write('top functions by self time:\n');
for (const [name, n] of [...hits]
  .filter(([name]) => !/^\((idle|program|garbage collector)\)/.test(name))
  .sort((a, b) => b[1] - a[1])
  .slice(0, Number(process.env.PROFILE_TOP ?? 25))) {
  process.stdout.write(`  ${((n / total) * 100).toFixed(1)}%  ${name}\n`);
}
