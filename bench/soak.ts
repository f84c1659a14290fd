/**
 * `npm run soak`: a mixed load against the service for SOAK_MINUTES (default 10; 0.5 for a quick run),
 * watching the service process for growth: RSS, V8 heap, event-loop utilisation and delay, open file
 * descriptors, sampled after warm-up, in the middle, at the end (all under load) and once idle after.
 * The service runs as its own process (bench/soak-service.ts: src/main.ts's app plus an IPC channel
 * answering samples from inside); autocannon and three in-memory FHIR servers (one with the patient's
 * record, one slower than the deadline, one failing with 500) run here, all on loopback.
 * Bounded: everything stops by itself after SOAK_MINUTES, and on Ctrl-C.
 * Exit status: 0; 1 if a response was a 5xx, the service died, or open fds grew by more than 50;
 * 130 when interrupted.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { createInterface } from 'node:readline';
import { setTimeout as sleep } from 'node:timers/promises';
import autocannon from 'autocannon';
import { clientToken, signingKey } from '../tests/support/ehr-client.ts';
import { readFixture, startFhirServer, type TestFhirServer } from '../tests/support/fhir-server.ts';
import { fullPrefetch, hookBody } from '../tests/support/hook-calls.ts';
import { benchServiceEnv } from './service-env.ts';
import type { Sample, SoakMessage } from './soak-service.ts';

const minutes = Number(process.env.SOAK_MINUTES ?? 10);
if (!Number.isFinite(minutes) || minutes * 60 < 10 || minutes > 24 * 60) {
  process.stderr.write(
    `SOAK_MINUTES must be a number of minutes from 0.17 (10 s) to 1440, not "${minutes}"\n`,
  );
  process.exit(2);
}
const port = Number(process.env.SOAK_PORT ?? 3901);
const base = `http://127.0.0.1:${port}`;
const totalSeconds = minutes * 60;
/** Warm-up: 10 % of the run, 5 s to 60 s; the rest is split in two halves around the middle sample. */
const warmupSeconds = Math.min(60, Math.max(5, Math.round(totalSeconds * 0.1)));
const halfSeconds = (totalSeconds - warmupSeconds) / 2;
const deadlineMs = 1000;
/** Short-lived client tokens, so that the service's replay cache (jti kept until exp + leeway) is at its
 * steady size well before the middle sample of a default run. */
const tokenLifetimeSeconds = Number(process.env.SOAK_TOKEN_LIFETIME_S ?? 60);
const tokenLeewaySeconds = Number(process.env.CDS_TOKEN_LEEWAY_S ?? 60);
const maxFdGrowth = 50;

const ehr = { iss: 'https://soak-ehr.example.org', key: signingKey('ES384') };
const patientId = 'pvp-high-rbp-risk';
const pvPath = '/cds-services/pvp-risk-patient-view';
const osPath = '/cds-services/pvp-risk-order-sign';

// ---- what is sent, and what each answer should be ---------------------------------------------------

interface Call {
  label: string;
  path: string;
  body: string;
  expect: number;
  /** What the body of the expected answer must look like. */
  bodyOk: (body: string) => boolean;
}

interface Scenario {
  title: string;
  connections: number;
  calls: Call[];
  /** Most time an answer may take (the deadline + 10 %), when the scenario is about the deadline. */
  maxMs?: number;
}

interface Tally {
  unexpected: number;
  examples: string[];
}

const hasCards = (body: string) => /^\{"cards":\[\{/.test(body);
function outcomeMatching(pattern: RegExp) {
  return (body: string) => {
    try {
      const parsed = JSON.parse(body) as { resourceType?: string; issue?: Array<{ diagnostics?: unknown }> };
      const diagnostics = parsed.issue?.[0]?.diagnostics;
      return (
        parsed.resourceType === 'OperationOutcome' &&
        typeof diagnostics === 'string' &&
        pattern.test(diagnostics) &&
        !/\n\s+at /.test(body)
      );
    } catch {
      return false;
    }
  };
}

async function scenarios(fhir: { real: string; slow: string; failing: string }): Promise<Scenario[]> {
  const prefetch = await fullPrefetch(fhir.real, patientId);
  const draftOrders = 'high-rbp-risk.draft-orders';
  const json = (value: unknown) => JSON.stringify(value);
  const viaFhir = async (fhirServer: string, expect: number, bodyOk: Call['bodyOk']): Promise<Call[]> => [
    {
      label: 'patient-view',
      path: pvPath,
      body: json(await hookBody('patient-view', patientId, { fhirServer })),
      expect,
      bodyOk,
    },
    {
      label: 'order-sign',
      path: osPath,
      body: json(await hookBody('order-sign', patientId, { fhirServer, draftOrders })),
      expect,
      bodyOk,
    },
  ];
  return [
    {
      title: 'patient-view, full prefetch',
      connections: 2,
      calls: [
        {
          label: 'patient-view',
          path: pvPath,
          body: json(await hookBody('patient-view', patientId, { prefetch })),
          expect: 200,
          bodyOk: hasCards,
        },
      ],
    },
    {
      title: 'order-sign (PVP draft), full prefetch',
      connections: 2,
      calls: [
        {
          label: 'order-sign',
          path: osPath,
          body: json(await hookBody('order-sign', patientId, { prefetch, draftOrders })),
          expect: 200,
          bodyOk: hasCards,
        },
      ],
    },
    {
      title: 'both hooks, no prefetch: read from the FHIR server',
      connections: 2,
      calls: await viaFhir(fhir.real, 200, hasCards),
    },
    {
      title: 'both hooks, FHIR server slower than the deadline (3 s)',
      connections: 1,
      calls: await viaFhir(fhir.slow, 412, outcomeMatching(/did not answer within/)),
      maxMs: Math.round(deadlineMs * 1.1),
    },
    {
      title: 'both hooks, FHIR server answering 500',
      connections: 1,
      calls: await viaFhir(fhir.failing, 412, outcomeMatching(/could not provide/i)),
    },
    {
      title: 'malformed: invalid JSON, wrong shape, unknown service',
      connections: 2,
      calls: [
        {
          label: 'invalid JSON',
          path: pvPath,
          body: '{"hook": "patient-view", "context": {',
          expect: 400,
          bodyOk: outcomeMatching(/JSON/),
        },
        {
          label: 'wrong shape',
          path: pvPath,
          body: json({ hook: 'patient-view', hookInstance: 42, context: [] }),
          expect: 400,
          bodyOk: outcomeMatching(/./),
        },
        {
          label: 'unknown service',
          path: '/cds-services/no-such-service',
          body: json(await hookBody('patient-view', patientId, { prefetch: {} })),
          expect: 404,
          bodyOk: outcomeMatching(/./),
        },
      ],
    },
  ];
}

// ---- the load -----------------------------------------------------------------------------------------

/** Tokens signed per second (epoch second → count): what the service's replay cache holds. */
const signedPerSecond = new Map<number, number>();
let responses = 0;

function sign(request: autocannon.Request): autocannon.Request {
  const second = Math.floor(Date.now() / 1000);
  signedPerSecond.set(second, (signedPerSecond.get(second) ?? 0) + 1);
  const token = clientToken({
    iss: ehr.iss,
    aud: `${base}${request.path}`,
    key: ehr.key,
    lifetimeSeconds: tokenLifetimeSeconds,
  });
  return { ...request, headers: { ...request.headers, authorization: `Bearer ${token}` } };
}

/** Tokens whose jti the service still keeps: expiring after now (swept every 10 s at most). */
function liveJtis(): number {
  const keptFrom = Math.floor(Date.now() / 1000) - tokenLifetimeSeconds - tokenLeewaySeconds - 10;
  let kept = 0;
  for (const [second, count] of signedPerSecond) {
    if (second >= keptFrom) kept += count;
    else signedPerSecond.delete(second);
  }
  return kept;
}

interface Running {
  scenario: Scenario;
  tally: Tally;
  instance: autocannon.Instance;
  done: Promise<autocannon.Result | undefined>;
}

function startLoad(scenario: Scenario): Running {
  const tally: Tally = { unexpected: 0, examples: [] };
  let resolveDone: (result: autocannon.Result | undefined) => void = () => {};
  const done = new Promise<autocannon.Result | undefined>((resolve) => {
    resolveDone = resolve;
  });
  const instance = autocannon(
    {
      url: base,
      connections: scenario.connections,
      // Stopped explicitly after the end sample; the duration only bounds a run gone wrong.
      duration: Math.ceil(totalSeconds + 120),
      timeout: 10,
      requests: scenario.calls.map((call) => ({
        method: 'POST' as const,
        path: call.path,
        headers: { 'content-type': 'application/json' },
        body: call.body,
        setupRequest: sign,
        onResponse: (status: number, body: string) => {
          responses++;
          if (status === call.expect && call.bodyOk(body)) return;
          tally.unexpected++;
          if (tally.examples.length < 3) {
            tally.examples.push(`${call.label}: ${status} ${body.slice(0, 300).replace(/\s+/g, ' ')}`);
          }
        },
      })),
    },
    (error, result) => resolveDone(error ? undefined : result),
  );
  return { scenario, tally, instance, done };
}

// ---- the service -------------------------------------------------------------------------------------

interface Service {
  child: ChildProcess;
  /** Pending sample requests by id. */
  pending: Map<number, (sample: Sample) => void>;
  /** Service log lines at warn or above, by level and message. */
  logs: Map<string, number>;
  /** Longest `fhirMs` (time spent reading the FHIR server) in those lines: the service's side of the deadline. */
  maxFhirMs: number;
}

const pinoLevels: Record<number, string> = { 40: 'warn', 50: 'error', 60: 'fatal' };

async function startService(fhirServers: string[], clientsFile: string): Promise<Service> {
  const child = spawn(process.execPath, ['--expose-gc', 'bench/soak-service.ts'], {
    env: {
      ...(await benchServiceEnv({ port, clientsFile, ehr, fhirServers })),
      NODE_ENV: 'development', // http FHIR servers on loopback; authentication stays on (CDS_CLIENTS_FILE)
      CDS_AUTH: 'on',
      FHIR_DEADLINE_MS: String(deadlineMs),
    },
    stdio: ['ignore', 'pipe', 'inherit', 'ipc'],
    // Its own process group: Ctrl-C reaches this process only, which then stops the service itself.
    detached: true,
  });
  const service: Service = { child, pending: new Map(), logs: new Map(), maxFhirMs: 0 };
  if (child.stdout) {
    createInterface({ input: child.stdout }).on('line', (line) => {
      let key = `unparsed: ${line.slice(0, 120)}`;
      try {
        const entry = JSON.parse(line) as { level?: number; msg?: string; fhirMs?: unknown };
        if ((entry.level ?? 0) < 40) return;
        if (typeof entry.fhirMs === 'number') service.maxFhirMs = Math.max(service.maxFhirMs, entry.fhirMs);
        key = `${pinoLevels[entry.level ?? 0] ?? `level ${entry.level}`} "${entry.msg}"`;
      } catch {}
      service.logs.set(key, (service.logs.get(key) ?? 0) + 1);
    });
  }
  child.on('message', (message: SoakMessage) => {
    if (message.type !== 'sample') return;
    service.pending.get(message.id)?.(message.sample);
    service.pending.delete(message.id);
  });
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('the service did not start within 30 s')), 30_000);
    const onExit = (code: number | null) => {
      clearTimeout(timer);
      reject(new Error(`the service exited while starting (code ${code})`));
    };
    child.once('exit', onExit);
    child.on('message', function onListening(message: SoakMessage) {
      if (message.type !== 'listening') return;
      clearTimeout(timer);
      child.off('exit', onExit);
      child.off('message', onListening);
      resolve();
    });
  });
  return service;
}

let sampleId = 0;
function sampleOf(service: Service): Promise<Sample | undefined> {
  const id = ++sampleId;
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      service.pending.delete(id);
      resolve(undefined);
    }, 15_000);
    service.pending.set(id, (sample) => {
      clearTimeout(timer);
      resolve(sample);
    });
    if (!service.child.connected || !service.child.send({ type: 'sample', id })) {
      clearTimeout(timer);
      service.pending.delete(id);
      resolve(undefined);
    }
  });
}

async function stopService(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
  await exited;
  clearTimeout(timer);
}

// ---- the run -----------------------------------------------------------------------------------------

interface Row {
  phase: string;
  atSeconds: number;
  responses: number;
  seconds: number;
  liveJtis: number;
  sample: Sample | undefined;
}

const halt = new AbortController();
let interrupted = false;
let stopping = false;
let died: string | undefined;
process.on('SIGINT', () => {
  if (interrupted) process.exit(130); // a second Ctrl-C: the cleanup below is stuck
  interrupted = true;
  process.stderr.write('\ninterrupted: stopping the load, the service and the FHIR servers\n');
  halt.abort();
});
process.on('SIGTERM', () => {
  interrupted = true;
  halt.abort();
});

/** Waits `seconds`, or less when the run is halted (Ctrl-C, the service died); true if it waited fully. */
async function wait(seconds: number): Promise<boolean> {
  try {
    await sleep(seconds * 1000, undefined, { signal: halt.signal });
    return true;
  } catch {
    return false;
  }
}

const fhirServers: TestFhirServer[] = [];
const workDir = await mkdtemp(join(tmpdir(), 'pvp-cds-soak-'));
let service: Service | undefined;
let running: Running[] = [];
let exitCode = 0;
try {
  const fixture = await readFixture('high-rbp-risk');
  const real = await startFhirServer();
  fhirServers.push(real);
  await real.load(fixture);
  const slow = await startFhirServer();
  fhirServers.push(slow);
  await slow.load(fixture);
  slow.setFaults({ delayMs: 3000 });
  const failing = await startFhirServer({ failWith: 500 });
  fhirServers.push(failing);
  const plan = await scenarios({ real: real.baseUrl, slow: slow.baseUrl, failing: failing.baseUrl });

  service = await startService(
    fhirServers.map((s) => s.baseUrl),
    join(workDir, 'clients.json'),
  );
  const { child } = service;
  child.on('exit', (code, signal) => {
    if (stopping || interrupted) return;
    died ??= `the service process exited (code ${code}, signal ${signal}) during the run`;
    halt.abort();
  });

  // This process's own event loop: autocannon measures latency here, so a busy loop here inflates it.
  const benchDelay = monitorEventLoopDelay({ resolution: 10 });
  benchDelay.enable();
  const startedAt = Date.now();
  const rows: Row[] = [];
  let last = { at: startedAt, responses: 0 };
  const record = async (phase: string) => {
    if (!service) return;
    const sample = await sampleOf(service);
    const now = Date.now();
    rows.push({
      phase,
      atSeconds: Math.round((now - startedAt) / 1000),
      responses: responses - last.responses,
      seconds: (now - last.at) / 1000,
      liveJtis: liveJtis(),
      sample,
    });
    last = { at: now, responses };
  };

  const connections = plan.reduce((sum, s) => sum + s.connections, 0);
  process.stdout.write(
    `soak: node ${process.version}, ${minutes} min (warm-up ${warmupSeconds} s, then 2 × ${halfSeconds} s), ` +
      `${connections} connections, service pid ${child.pid}, FHIR_DEADLINE_MS ${deadlineMs}, ` +
      `ES384 client JWT per request (lifetime ${tokenLifetimeSeconds} s)\n`,
  );
  const loads = plan.map(startLoad);
  running = loads;
  if (await wait(warmupSeconds)) await record('start (after warm-up)');
  if (!halt.signal.aborted && (await wait(halfSeconds))) await record('middle');
  if (!halt.signal.aborted && (await wait(halfSeconds))) await record('end');
  for (const r of running) r.instance.stop();
  const results = await Promise.all(running.map((r) => r.done));
  running = [];
  if (!halt.signal.aborted && (await wait(3))) await record('idle, 3 s after the load');

  // ---- the report ----
  const out = (text: string) => process.stdout.write(text);
  out(
    '\n| sample | at s | RSS MB | peak RSS MB | heap used MB | heap total MB | ELU % | loop delay p99 ms | loop delay max ms | open fds | responses/s | live jti (est.) |\n' +
      '|---|---|---|---|---|---|---|---|---|---|---|---|\n',
  );
  for (const r of rows) {
    const s = r.sample;
    const rate = Math.round(r.responses / r.seconds);
    out(
      s
        ? `| ${r.phase} | ${r.atSeconds} | ${s.rssMb} | ${s.peakRssMb} | ${s.heapUsedMb} | ${s.heapTotalMb} | ${(s.elu * 100).toFixed(1)} | ${s.loopDelayP99Ms} | ${s.loopDelayMaxMs} | ${s.openFds} | ${rate} | ${r.liveJtis} |\n`
        : `| ${r.phase} | ${r.atSeconds} | no answer | | | | | | | | ${rate} | ${r.liveJtis} |\n`,
    );
  }
  out(
    `\nmemory after a full GC: ${rows.some((r) => r.sample?.gc) ? 'yes (--expose-gc)' : 'no'}; ` +
      'ELU and loop delay cover the interval since the previous sample\n',
  );

  out(
    '\n| scenario | connections | expected | responses by status | unexpected | errors (timeouts) | p50 ms | p99 ms | max ms |\n' +
      '|---|---|---|---|---|---|---|---|---|\n',
  );
  const totals = new Map<string, number>();
  let errors = 0;
  let timeouts = 0;
  let unexpected = 0;
  const notes: string[] = [];
  plan.forEach((scenario, i) => {
    const result = results[i];
    const tally = loads[i]?.tally ?? { unexpected: 0, examples: [] };
    const statuses = Object.entries(result?.statusCodeStats ?? {})
      .map(([status, stat]) => [status, stat.count ?? 0] as const)
      .sort(([a], [b]) => Number(a) - Number(b));
    for (const [status, count] of statuses) totals.set(status, (totals.get(status) ?? 0) + count);
    errors += result?.errors ?? 0;
    timeouts += result?.timeouts ?? 0;
    unexpected += tally.unexpected;
    const expected = [...new Set(scenario.calls.map((c) => c.expect))].join(', ');
    const latency = result?.latency;
    out(
      `| ${scenario.title} | ${scenario.connections} | ${expected} | ${statuses.map(([s, n]) => `${s}: ${n}`).join(', ') || '—'} | ${tally.unexpected} | ${result?.errors ?? '?'} (${result?.timeouts ?? '?'}) | ${latency?.p50 ?? '?'} | ${latency?.p99 ?? '?'} | ${latency?.max ?? '?'} |\n`,
    );
    if (scenario.maxMs !== undefined && latency && latency.max > scenario.maxMs) {
      notes.push(
        `${scenario.title}: slowest answer ${latency.max} ms, over the deadline + 10 % (${scenario.maxMs} ms)`,
      );
    }
    for (const example of tally.examples) notes.push(`${scenario.title}: unexpected ${example}`);
  });
  const byStatus = [...totals].sort(([a], [b]) => Number(a) - Number(b));
  out(
    `\nall responses by status: ${byStatus.map(([s, n]) => `${s}: ${n}`).join(', ') || 'none'}; ` +
      `unexpected status or body: ${unexpected}; errors: ${errors} (timeouts: ${timeouts})\n`,
  );
  const logLines = [...service.logs];
  out(
    `service log lines at warn or above: ${logLines.length === 0 ? 'none' : logLines.map(([k, n]) => `${n} × ${k}`).join('; ')}\n`,
  );
  benchDelay.disable();
  const benchMs = (ns: number) => Math.max(0, Math.round(ns / 1e6 - 10));
  out(
    `load process (autocannon, token signing, FHIR servers) event-loop delay: p99 ${benchMs(benchDelay.percentile(99))} ms, ` +
      `max ${benchMs(benchDelay.max)} ms: client-side latencies include it\n`,
  );
  if (service.maxFhirMs > 0) {
    out(`longest FHIR read logged by the service (fhirMs, warn lines): ${service.maxFhirMs} ms\n`);
  }
  for (const note of notes) out(`note: ${note}\n`);

  // ---- the verdict ----
  const failures: string[] = [];
  const fiveXx = byStatus.filter(([s]) => Number(s) >= 500).reduce((sum, [, n]) => sum + n, 0);
  if (fiveXx > 0) failures.push(`${fiveXx} responses were 5xx`);
  if (died) failures.push(died);
  const start = rows.find((r) => r.phase.startsWith('start'))?.sample;
  const middle = rows.find((r) => r.phase === 'middle')?.sample;
  const end = rows.find((r) => r.phase === 'end')?.sample;
  if (start && end && end.openFds - start.openFds > maxFdGrowth) {
    failures.push(`open fds grew from ${start.openFds} to ${end.openFds} (more than +${maxFdGrowth})`);
  }
  if (!died && !interrupted && !(start && middle && end)) failures.push('a sample went unanswered');
  const growth = (from: number, to: number) =>
    `${from} → ${to} MB (${to - from >= 0 ? '+' : ''}${(to - from).toFixed(1)} MB, ${to - from >= 0 ? '+' : ''}${((100 * (to - from)) / from).toFixed(1)} %)`;
  const trend =
    middle && end
      ? `middle → end: heap used ${growth(middle.heapUsedMb, end.heapUsedMb)}, RSS ${growth(middle.rssMb, end.rssMb)}` +
        (start ? `; open fds ${start.openFds} → ${end.openFds}` : '')
      : 'middle → end: not sampled';
  const verdict = interrupted ? 'INTERRUPTED' : failures.length > 0 ? 'FAIL' : 'PASS';
  out(`\nverdict: ${verdict}${failures.length > 0 ? ` (${failures.join('; ')})` : ''}; ${trend}\n`);
  exitCode = interrupted ? 130 : failures.length > 0 ? 1 : 0;
} catch (error) {
  process.stderr.write(`soak failed: ${error instanceof Error ? error.message : String(error)}\n`);
  exitCode = interrupted ? 130 : 1;
} finally {
  stopping = true;
  for (const r of running) r.instance.stop();
  if (service) await stopService(service.child);
  await Promise.all(fhirServers.map((s) => s.close()));
  await rm(workDir, { recursive: true, force: true });
}
process.exit(exitCode);
