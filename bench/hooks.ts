/**
 * `npm run bench` (issue 11): throughput, latency and peak memory of the hook services against floors,
 * with full prefetch and with the FHIR fallback, at concurrency 1, 10 and 100. Loopback only, bounded:
 * every run lasts BENCH_SECONDS (default 5) after a warm-up of BENCH_WARMUP_SECONDS (default 1).
 *
 * Every measured server is its own process: the service (`node src/main.ts`, one process per
 * configuration, reused across its scenarios), the floor (`bench/floor.ts`) and the FHIR stub
 * (`bench/fhir-stub.ts`). Autocannon runs here; the client JWTs are signed here before each run, on
 * worker threads (bench/tokens.ts). See bench/README.md for what is measured and how to read it.
 *
 *   BENCH_SECONDS=5  BENCH_WARMUP_SECONDS=1  BENCH_CONCURRENCY=1,10,100
 *   BENCH_ONLY=<substring>[,<substring>…]   only the runs whose "<scenario> c<concurrency>" contains one;
 *                                           results go to bench/results/<date>.partial.json, README untouched
 *   BENCH_DATABASE_URL=<postgres URL>|auto|off  the authenticated full-prefetch scenarios also against a
 *                                           service on that PostgreSQL (`auto`, the default where Debian's
 *                                           PostgreSQL is installed: a throw-away local server; `off`: not)
 *   BENCH_PAIRS=3  BENCH_PAIR_SECONDS=3    the throughput targets: that many rounds of the floor and the
 *                                           service back to back at concurrency 10, the ratio their median
 *   BENCH_REPORT=bench/results/<date>.json  no runs: the targets and summary again from that file's figures
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import autocannon from 'autocannon';
import { renderTemplate } from '../src/cds-hooks/prefetch.ts';
import { prefetchTemplates } from '../src/services/patient-data.ts';
import { signingKey } from '../tests/support/ehr-client.ts';
import { readFixture, startFhirServer } from '../tests/support/fhir-server.ts';
import { fullPrefetch, type Hook, hookBody, serviceIds } from '../tests/support/hook-calls.ts';
import { stubKey } from './fhir-stub.ts';
import { heavyPatient } from './heavy-patient.ts';
import { memoryLimit } from './memory-limit.ts';
import { canStartPostgres, startPostgres } from './postgres.ts';
import { benchServiceEnv } from './service-env.ts';
import { type CpuPerRequest, cpuPerRequest, threadTicks } from './thread-cpu.ts';
import { type Ehr, RunTokens, TokenSigner } from './tokens.ts';

const runSeconds = Number(process.env.BENCH_SECONDS ?? 5);
const runWarmupSeconds = Number(process.env.BENCH_WARMUP_SECONDS ?? 1);
const pairRounds = Number(process.env.BENCH_PAIRS ?? 3);
const pairSeconds = Number(process.env.BENCH_PAIR_SECONDS ?? 3);
/** An earlier run's results file: only its targets and summary are made again (no run). */
const reportFile = process.env.BENCH_REPORT;
const startedAt = performance.now();
let seconds = runSeconds;
let warmupSeconds = runWarmupSeconds;
let date = new Date().toLocaleDateString('en-CA');
let node = process.version;
let machine = { cpus: cpus().length, model: cpus()[0]?.model ?? 'unknown' };
/** The memory limit the floor and the services ran under (absent in results from before it was set). */
let memoryLimitRun: { quantity: string; bytes: number; how: string } | undefined;
const concurrencies = (process.env.BENCH_CONCURRENCY ?? '1,10,100').split(',').map(Number);
const only = (process.env.BENCH_ONLY ?? '')
  .split(',')
  .map((s) => s.trim())
  .filter(Boolean);
/**
 * The services as deploy/ runs them, on PostgreSQL, beside the embedded database: by default on a throw-away
 * server when Debian's PostgreSQL is installed; `off` to leave them out.
 */
const databaseSetting = process.env.BENCH_DATABASE_URL ?? (canStartPostgres() ? 'auto' : 'off');
const databaseUrlSetting = databaseSetting === 'off' ? '' : databaseSetting;
const delays = [50, 100];
const degraded = { deadlineMs: 500, stubDelayMs: 800 };

const ports = { plain: 3900, auth: 3901, degraded: 3902, postgres: 3903, floor: 3910, stub: 3911 };
const local = (port: number) => `http://127.0.0.1:${port}`;
const stubBase = local(ports.stub);
const patientId = 'pvp-high-rbp-risk';

type Auth = 'plain' | 'ES384' | 'RS384';
type Patient = 'light' | 'heavy';
const ehrs: Record<Exclude<Auth, 'plain'>, Ehr> = {
  ES384: { iss: 'https://bench-ehr.example.org', key: signingKey('ES384') },
  RS384: { iss: 'https://bench-ehr-rs384.example.org', key: signingKey('RS384') },
};

const log = (line: string) => process.stdout.write(`${line}\n`);

// ---- processes ---------------------------------------------------------------------------------------

interface Proc {
  name: string;
  child: ChildProcess;
  pid: number;
  /** Log lines at warn or above (pino JSON on stdout), by level and message. */
  logs: Map<string, number>;
}

/** The floor and the services run under the container's memory limit (bench/memory-limit.ts); the stub does not. */
const limit = reportFile ? undefined : memoryLimit();
if (limit) memoryLimitRun = { quantity: limit.quantity, bytes: limit.bytes, how: limit.how };

async function startProcess(
  name: string,
  script: string,
  env: NodeJS.ProcessEnv,
  readyUrl: string,
  limited: boolean,
) {
  const { command, args } =
    limited && limit ? limit.wrap(name, script) : { command: process.execPath, args: [script] };
  const child = spawn(command, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
  const proc: Proc = { name, child, pid: child.pid ?? 0, logs: new Map() };
  createInterface({ input: child.stdout as NodeJS.ReadableStream }).on('line', (line) => {
    // A service at info writes a line for every call: those below warn are not read further.
    const level = /^\{"level":(\d+)/.exec(line)?.[1];
    if (level !== undefined && Number(level) < 40) return;
    let key = `stdout: ${line.slice(0, 100)}`;
    try {
      const entry = JSON.parse(line) as { level?: number; msg?: string; prefetchProblems?: string[] };
      if ((entry.level ?? 0) < 40) return;
      const level = ({ 40: 'warn', 50: 'error', 60: 'fatal' } as Record<number, string>)[entry.level ?? 0];
      const problems = entry.prefetchProblems ? ` (${entry.prefetchProblems.join('; ')})` : '';
      key = `${level} "${entry.msg}"${problems}`;
    } catch {}
    proc.logs.set(key, (proc.logs.get(key) ?? 0) + 1);
  });
  createInterface({ input: child.stderr as NodeJS.ReadableStream }).on('line', (line) =>
    process.stderr.write(`[${name}] ${line}\n`),
  );
  let exited = false;
  child.once('exit', () => {
    exited = true;
  });
  for (let i = 0; i < 600; i++) {
    if (exited) throw new Error(`${name} exited before it was ready`);
    const ok = await fetch(readyUrl).then(
      (r) => r.ok,
      () => false,
    );
    if (ok) return proc;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`${name} was not ready within 60 s`);
}

async function stopProcess(proc: Proc): Promise<void> {
  if (proc.child.exitCode !== null || proc.child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => proc.child.once('exit', () => resolve()));
  proc.child.kill('SIGTERM');
  const timer = setTimeout(() => proc.child.kill('SIGKILL'), 15_000);
  await exited;
  clearTimeout(timer);
}

/** Lets the hook calls autocannon abandoned at the end of a run finish before their FHIR stub stops. */
const settle = () => new Promise((resolve) => setTimeout(resolve, 2500));

const running = new Set<Proc>();
/** Each process's peak RSS from its start until it was ready (creating the embedded database, for a service). */
const startupPeakRssMb: Record<string, number> = {};
async function started(
  name: string,
  script: string,
  env: NodeJS.ProcessEnv,
  readyUrl: string,
  limited = true,
) {
  const proc = await startProcess(name, script, env, readyUrl, limited);
  running.add(proc);
  startupPeakRssMb[name] = Math.round((await statusKb(proc.pid, 'VmHWM')) / 1024);
  log(`  ${name} ready: peak RSS ${startupPeakRssMb[name]} MB while starting`);
  return proc;
}
async function stopped(proc: Proc | undefined): Promise<void> {
  if (!proc) return;
  await stopProcess(proc);
  running.delete(proc);
  const lines = [...proc.logs].map(([k, n]) => `${n} × ${k}`);
  if (lines.length > 0) log(`  ${proc.name} logged: ${lines.join('; ')}`);
  serviceLogs[proc.name] = Object.fromEntries(proc.logs);
}
const serviceLogs: Record<string, Record<string, number>> = {};

const tempRoot = await mkdtemp(join(tmpdir(), 'pvp-cds-bench-'));

async function startService(
  name: string,
  port: number,
  settings: { auth: boolean; env?: Record<string, string> },
): Promise<Proc> {
  const dir = await mkdtemp(join(tempRoot, `${name}-`));
  const env = {
    ...(await benchServiceEnv({
      port,
      clientsFile: join(dir, 'clients.json'),
      ehr: ehrs.ES384,
      moreEhrs: [ehrs.RS384],
      // Production accepts https FHIR servers only; the fallback runs use the plain service.
      fhirServers: settings.auth ? [] : [stubBase],
    })),
    // As deployed with authentication; the plain service differs by CDS_AUTH=off and NODE_ENV=test
    // (production refuses authentication off).
    ...(settings.auth ? { NODE_ENV: 'production', CDS_AUTH: 'on' } : { NODE_ENV: 'test', CDS_AUTH: 'off' }),
    // The level deploy/configmap.yaml sets: a request line for every call, as a deployed replica writes.
    LOG_LEVEL: 'info',
    ...settings.env,
  };
  return started(name, 'src/main.ts', env, `${local(port)}/healthz`);
}

async function startStub(delayMs: number, batch: boolean, dataFile: string): Promise<Proc> {
  return started(
    `fhir-stub ${delayMs} ms${batch ? ' batch' : ''}`,
    'bench/fhir-stub.ts',
    {
      ...process.env,
      STUB_PORT: String(ports.stub),
      STUB_DATA: dataFile,
      STUB_DELAY_MS: String(delayMs),
      STUB_BATCH: batch ? '1' : '0',
    },
    `${stubBase}/metadata`,
    false,
  );
}

// ---- measuring ---------------------------------------------------------------------------------------

interface Load {
  url: string;
  method: 'GET' | 'POST';
  body?: string;
  sign?: Ehr;
  /** The floor checks no replay: its runs take a fixed set of tokens in turn (bench/tokens.ts). */
  reuseTokens?: boolean;
}

interface Scenario {
  name: string;
  group: 'floor' | 'full-prefetch' | 'fallback' | 'reference' | 'degraded';
  patient: Patient;
  hook: Hook | 'search';
  auth: Auth;
  /** What else tells runs apart (delay, batch, database…), recorded as is. */
  extra?: Record<string, unknown>;
  load: Load;
  /** Status codes that are the intended answer though not 2xx (the degraded runs' 412). */
  expected?: number[];
}

interface Row {
  name: string;
  group: Scenario['group'];
  patient: Patient;
  hook: Scenario['hook'];
  auth: Auth;
  concurrency: number;
  reqPerSec: number;
  p50: number;
  p95: number;
  p99: number;
  non2xx: number;
  /** Of the non-2xx, those that were the intended answer (degraded: 412). */
  expectedNon2xx: number;
  errors: number;
  timeouts: number;
  peakRssMb: number;
  peakRssHow: 'VmHWM' | 'sampled VmRSS';
  /** CPU of the measured process per answered request, by thread (bench/thread-cpu.ts); not in runs before 2026-12-07's sixth. */
  cpuUsPerRequest?: CpuPerRequest;
  /** Authenticated runs: tokens signed during the run rather than before it (bench/tokens.ts); not in runs before 2026-12-07's eighth. */
  tokensSignedInRun?: number;
  measured: string;
  [extra: string]: unknown;
}

const rows: Row[] = [];
const wanted = (name: string, c: number) =>
  only.length === 0 || only.some((o) => `${name} c${c}`.includes(o));
const anyWanted = (list: Scenario[]) => list.some((s) => concurrencies.some((c) => wanted(s.name, c)));

/** Every token is signed before its run, on these threads (bench/tokens.ts). */
const signer = reportFile ? undefined : new TokenSigner();
/**
 * Requests a second last measured for a load at a concurrency, and whether its tokens were all signed
 * before it. A URL takes both ES384 and RS384 tokens (the floor's and the authenticated service's), so
 * the issuer is part of the key.
 */
const seenRates = new Map<string, { reqPerSec: number; allSignedBefore: boolean }>();
/** The floor's tokens for each issuer and URL, and when they were signed. */
const floorTokens = new Map<string, { tokens: string[]; signedAt: number }>();
const loadKey = (load: Load, connections?: number) =>
  `${load.sign?.iss ?? ''} ${load.url}${connections === undefined ? '' : ` c${connections}`}`;
const floorTokenCount = 1000;
const floorTokenLifetimeSeconds = 3600;

/**
 * The tokens of one run of `load` at `connections` lasting `duration` s, signed now (bench/tokens.ts):
 * the last run's rate at this concurrency, with a margin, or none before the first run (its warm-up
 * signs as it sends).
 */
async function tokensFor(load: Load, connections: number, duration: number): Promise<RunTokens | undefined> {
  const { sign } = load;
  if (!sign || !signer) return undefined;
  if (load.reuseTokens) {
    let pool = floorTokens.get(loadKey(load));
    if (!pool || Date.now() - pool.signedAt > (floorTokenLifetimeSeconds / 2) * 1000) {
      const tokens = await signer.sign(sign, load.url, floorTokenCount, floorTokenLifetimeSeconds);
      pool = { tokens, signedAt: Date.now() };
      floorTokens.set(loadKey(load), pool);
    }
    return new RunTokens(pool.tokens, sign, load.url, true);
  }
  const seen = seenRates.get(loadKey(load, connections));
  // A rate measured while tokens were signed during the run is low, the more so at concurrency 1
  // (each request waited for its own): a wider margin. In the day's eighth run, ×2 and ×1.3 left four
  // of 105 runs and one round signing 3-17% of their tokens as they ran.
  const count = seen ? Math.ceil(seen.reqPerSec * duration * (seen.allSignedBefore ? 1.6 : 3)) + 100 : 0;
  return new RunTokens(await signer.sign(sign, load.url, count), sign, load.url, false);
}

function cannon(
  load: Load,
  connections: number,
  duration: number,
  tokens: RunTokens | undefined,
  onResponse?: (status: number, ms: number) => void,
): Promise<autocannon.Result> {
  const options: autocannon.Options = {
    url: load.url,
    method: load.method,
    connections,
    duration,
    ...(load.body !== undefined ? { body: load.body, headers: { 'content-type': 'application/json' } } : {}),
  };
  if (tokens) {
    options.requests = [
      {
        setupRequest: (request) => ({
          ...request,
          headers: { ...request.headers, authorization: `Bearer ${tokens.next()}` },
        }),
      },
    ];
  }
  return new Promise<autocannon.Result>((resolve, reject) => {
    const instance = autocannon(options, (error, result) => (error ? reject(error) : resolve(result)));
    if (onResponse) {
      instance.on('response', (_client, status: number, _bytes: number, ms: number) =>
        onResponse(status, ms),
      );
    }
  }).then((result) => {
    if (tokens) {
      seenRates.set(loadKey(load, connections), {
        reqPerSec: result.requests.total / duration,
        allSignedBefore: tokens.signedInRun === 0,
      });
    }
    return result;
  });
}

/** Warms `load` up at `connections` for the warm-up's seconds, its tokens signed first. */
async function warmUp(load: Load, connections: number): Promise<void> {
  if (warmupSeconds > 0) {
    await cannon(load, connections, warmupSeconds, await tokensFor(load, connections, warmupSeconds));
  }
}

async function statusKb(pid: number, field: 'VmRSS' | 'VmHWM'): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  return Number(new RegExp(`${field}:\\s+(\\d+)`).exec(status)?.[1] ?? 0);
}

/** Resets the peak RSS of `pid` (clear_refs 5), or starts sampling VmRSS when that is refused. */
async function peakTracker(pid: number): Promise<{ how: Row['peakRssHow']; stop(): Promise<number> }> {
  try {
    await writeFile(`/proc/${pid}/clear_refs`, '5');
    return { how: 'VmHWM', stop: async () => statusKb(pid, 'VmHWM') };
  } catch {
    let peak = await statusKb(pid, 'VmRSS');
    const timer = setInterval(() => {
      statusKb(pid, 'VmRSS').then(
        (kb) => {
          peak = Math.max(peak, kb);
        },
        () => undefined,
      );
    }, 50);
    return {
      how: 'sampled VmRSS',
      stop: async () => {
        clearInterval(timer);
        return Math.max(peak, await statusKb(pid, 'VmRSS'));
      },
    };
  }
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const value = sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];
  return Math.round((value ?? Number.NaN) * 10) / 10;
}

async function measure(scenario: Scenario, measured: Proc): Promise<void> {
  for (const c of concurrencies) {
    if (!wanted(scenario.name, c)) continue;
    await warmUp(scenario.load, c);
    const tokens = await tokensFor(scenario.load, c, seconds);
    const latencies: number[] = [];
    let expectedNon2xx = 0;
    const expected = new Set(scenario.expected ?? []);
    const peak = await peakTracker(measured.pid);
    const ticks = await threadTicks(measured.pid);
    const started = performance.now();
    const result = await cannon(scenario.load, c, seconds, tokens, (status, ms) => {
      latencies.push(ms);
      if (expected.has(status)) expectedNon2xx++;
    });
    const elapsed = (performance.now() - started) / 1000;
    const cpu = cpuPerRequest(ticks, await threadTicks(measured.pid), latencies.length);
    const peakKb = await peak.stop();
    latencies.sort((a, b) => a - b);
    const row: Row = {
      name: scenario.name,
      group: scenario.group,
      patient: scenario.patient,
      hook: scenario.hook,
      auth: scenario.auth,
      ...scenario.extra,
      concurrency: c,
      reqPerSec: Math.round(latencies.length / elapsed),
      p50: percentile(latencies, 50),
      p95: percentile(latencies, 95),
      p99: percentile(latencies, 99),
      non2xx: result.non2xx,
      expectedNon2xx,
      errors: result.errors,
      timeouts: result.timeouts,
      peakRssMb: Math.round(peakKb / 1024),
      peakRssHow: peak.how,
      cpuUsPerRequest: cpu,
      ...(tokens ? { tokensSignedInRun: tokens.signedInRun } : {}),
      measured: measured.name,
    };
    rows.push(row);
    log(
      `${`${row.name} c${c}`.padEnd(58)} ${String(row.reqPerSec).padStart(6)} req/s  p50 ${row.p50}  p95 ${row.p95}  p99 ${row.p99} ms  non-2xx ${row.non2xx}${expectedNon2xx ? ` (${expectedNon2xx} intended)` : ''}  errors ${row.errors}  peak RSS ${row.peakRssMb} MB  CPU ${cpuText(cpu)} µs (${measured.name})${signedText(tokens)}`,
    );
  }
}

/**
 * A throughput target's ratio from rounds of the floor and the service measured back to back (the floor
 * first in odd rounds, the service first in even ones), so that the machine's speed, which drifts over
 * a bench of many minutes, is the same for both halves of each ratio.
 */
interface Pair {
  /** The service's scenario, as its target names it. */
  name: string;
  floor: string;
  concurrency: number;
  seconds: number;
  rounds: Array<{
    floorReqPerSec: number;
    serviceReqPerSec: number;
    ratio: number;
    /** Not in runs before 2026-12-07's sixth. */
    floorCpuUs?: CpuPerRequest;
    serviceCpuUs?: CpuPerRequest;
    /** Present when the service's run signed tokens while it ran (bench/tokens.ts). */
    serviceTokensSignedInRun?: number;
  }>;
}
const pairs: Pair[] = [];
/** CPU µs a request as `main/all`. */
const cpuText = (cpu: Pick<CpuPerRequest, 'main' | 'all'> | undefined) =>
  cpu ? `${cpu.main}/${cpu.all}` : '–';
/** Said only when a run signed tokens while it ran (bench/tokens.ts). */
const signedText = (tokens: RunTokens | undefined) =>
  tokens && tokens.signedInRun > 0 ? `  (${tokens.signedInRun} tokens signed during the run)` : '';
const round2 = (x: number) => Math.round(x * 100) / 100;
const pairConcurrency = 10;

async function rate(
  load: Load,
  proc: Proc,
): Promise<{ reqPerSec: number; cpu: CpuPerRequest; signedInRun: number }> {
  await warmUp(load, pairConcurrency);
  const tokens = await tokensFor(load, pairConcurrency, pairSeconds);
  const ticks = await threadTicks(proc.pid);
  const started = performance.now();
  const result = await cannon(load, pairConcurrency, pairSeconds, tokens);
  const seconds = (performance.now() - started) / 1000;
  const cpu = cpuPerRequest(ticks, await threadTicks(proc.pid), result.requests.total);
  return { reqPerSec: result.requests.total / seconds, cpu, signedInRun: tokens?.signedInRun ?? 0 };
}

/** `service` (served by `serviceProc`) against its floor scenario, served by `floorProc`, round by round. */
async function measurePair(
  service: Scenario,
  serviceProc: Proc,
  floor: { scenario: Scenario; proc: Proc } | undefined,
): Promise<void> {
  if (!floor || pairRounds < 1 || !wanted(service.name, pairConcurrency)) return;
  const pair: Pair = {
    name: service.name,
    floor: floor.scenario.name,
    concurrency: pairConcurrency,
    seconds: pairSeconds,
    rounds: [],
  };
  for (let round = 0; round < pairRounds; round++) {
    const floorFirst = round % 2 === 0;
    const ofFloor = () => rate(floor.scenario.load, floor.proc);
    const ofService = () => rate(service.load, serviceProc);
    const first = await (floorFirst ? ofFloor : ofService)();
    const second = await (floorFirst ? ofService : ofFloor)();
    const [floorRun, serviceRun] = floorFirst ? [first, second] : [second, first];
    pair.rounds.push({
      floorReqPerSec: Math.round(floorRun.reqPerSec),
      serviceReqPerSec: Math.round(serviceRun.reqPerSec),
      ratio: round2(serviceRun.reqPerSec / floorRun.reqPerSec),
      floorCpuUs: floorRun.cpu,
      serviceCpuUs: serviceRun.cpu,
      ...(serviceRun.signedInRun > 0 ? { serviceTokensSignedInRun: serviceRun.signedInRun } : {}),
    });
  }
  pairs.push(pair);
  log(
    `${`${service.name} c${pairConcurrency} against its floor`.padEnd(58)} ratios ${pair.rounds.map((r) => r.ratio).join(', ')} (service ${pair.rounds.map((r) => r.serviceReqPerSec).join(', ')}; floor ${pair.rounds.map((r) => r.floorReqPerSec).join(', ')} req/s; CPU µs a request, main/all: service ${pair.rounds.map((r) => cpuText(r.serviceCpuUs)).join(', ')}; floor ${pair.rounds.map((r) => cpuText(r.floorCpuUs)).join(', ')})${pair.rounds.some((r) => r.serviceTokensSignedInRun) ? `; tokens signed during the service's runs: ${pair.rounds.map((r) => r.serviceTokensSignedInRun ?? 0).join(', ')}` : ''}`,
  );
}

// ---- the requests ------------------------------------------------------------------------------------

log(
  `node ${process.version}, ${cpus().length} × ${cpus()[0]?.model ?? '?'}; ${seconds} s per run after ${warmupSeconds} s warm-up; concurrency ${concurrencies.join(', ')}${only.length ? `; only ${only.join(', ')}` : ''}${limit ? `; floor and services limited to ${limit.quantity} (${limit.how})` : ''}`,
);

if (reportFile) {
  // Only the targets and the summary again, from the figures of an earlier run.
  const earlier = JSON.parse(await readFile(reportFile, 'utf8')) as {
    date: string;
    node: string;
    machine: typeof machine;
    seconds: number;
    warmupSeconds: number;
    scenarios: Row[];
    serviceLogs: typeof serviceLogs;
    startupPeakRssMb?: typeof startupPeakRssMb;
    memoryLimit?: typeof memoryLimitRun;
    pairs?: Pair[];
  };
  rows.push(...earlier.scenarios);
  pairs.push(...(earlier.pairs ?? []));
  Object.assign(serviceLogs, earlier.serviceLogs);
  Object.assign(startupPeakRssMb, earlier.startupPeakRssMb);
  ({ date, seconds, warmupSeconds, node, machine, memoryLimit: memoryLimitRun } = earlier);
} else {
  /** The light patient's full prefetch (the `high-rbp-risk` fixture), and every search the service makes for the heavy one. */
  async function prepare() {
    const lightFhir = await startFhirServer();
    const heavyFhir = await startFhirServer();
    try {
      await lightFhir.load(await readFixture('high-rbp-risk'));
      const lightPrefetch = await fullPrefetch(lightFhir.baseUrl, patientId);
      const heavy = await heavyPatient();
      await heavyFhir.load(heavy.transaction);
      // The stub's answers: each template's search against the heavy patient, and any further pages,
      // with the test server's base URL (in fullUrl and links) replaced by the stub's.
      const bodies: Record<string, string> = {};
      const pending = Object.values(prefetchTemplates).map(
        (template) =>
          renderTemplate(template, { patientId, userId: 'Practitioner/pvp-demo-clinician' }) ?? '',
      );
      while (pending.length > 0) {
        const path = pending.shift() as string;
        if (stubKey(path) in bodies) continue;
        const response = await fetch(`${heavyFhir.baseUrl}/${path}`, {
          headers: { accept: 'application/fhir+json' },
        });
        if (!response.ok) throw new Error(`heavy patient: ${path} answered ${response.status}`);
        const text = (await response.text()).replaceAll(heavyFhir.baseUrl, stubBase);
        bodies[stubKey(path)] = text;
        const next = (JSON.parse(text) as { link?: Array<{ relation: string; url: string }> }).link?.find(
          (l) => l.relation === 'next',
        );
        if (next) pending.push(next.url.slice(stubBase.length + 1));
      }
      const slowest = Object.entries(bodies).sort((a, b) => b[1].length - a[1].length)[0] as [string, string];
      return { lightPrefetch, heavyPrefetch: heavy.prefetch, bodies, slowest };
    } finally {
      await lightFhir.close();
      await heavyFhir.close();
    }
  }

  const prepared = await prepare();
  const stubData = join(tempRoot, 'stub-data.json');
  await writeFile(stubData, JSON.stringify({ bodies: prepared.bodies }));
  log(
    `FHIR stub: ${Object.keys(prepared.bodies).length} precomputed searches; the largest (the reference): ${prepared.slowest[0].split('?')[0]}, ${Math.round(prepared.slowest[1].length / 1024)} KiB`,
  );

  const hooks: Hook[] = ['patient-view', 'order-sign'];
  const patients: Patient[] = ['light', 'heavy'];
  const bodies = new Map<string, string>();
  for (const patient of patients) {
    for (const hook of hooks) {
      const prefetch = patient === 'light' ? prepared.lightPrefetch : prepared.heavyPrefetch;
      const body = await hookBody(hook, patientId, {
        prefetch,
        ...(hook === 'order-sign' ? { draftOrders: 'high-rbp-risk.draft-orders' } : {}),
      });
      bodies.set(`${patient}-${hook}`, JSON.stringify(body));
    }
  }
  log(
    `request bodies: ${[...bodies].map(([k, v]) => `${k} ${Math.round(Buffer.byteLength(v) / 1024)} KiB`).join(', ')}`,
  );
  const fallbackBody = JSON.stringify(await hookBody('patient-view', patientId, { fhirServer: stubBase }));

  const auths: Auth[] = ['plain', 'ES384', 'RS384'];
  const hookPath = (hook: Hook) => `/cds-services/${serviceIds[hook]}`;

  function fullPrefetchScenarios(base: string, list: Auth[], prefix = '', extra?: Record<string, unknown>) {
    return list.flatMap((auth) =>
      patients.flatMap((patient) =>
        hooks.map(
          (hook): Scenario => ({
            name: `${prefix}full-prefetch ${patient} ${hook} ${auth}`,
            group: 'full-prefetch',
            patient,
            hook,
            auth,
            ...(extra ? { extra } : {}),
            load: {
              url: `${base}${hookPath(hook)}`,
              method: 'POST',
              body: bodies.get(`${patient}-${hook}`),
              ...(auth !== 'plain' ? { sign: ehrs[auth] } : {}),
            },
          }),
        ),
      ),
    );
  }

  const floorScenarios = auths.flatMap((auth) =>
    patients.flatMap((patient) =>
      hooks.map(
        (hook): Scenario => ({
          name: `floor ${patient} ${hook} ${auth}`,
          group: 'floor',
          patient,
          hook,
          auth,
          load: {
            url: `${local(ports.floor)}/${auth === 'plain' ? 'plain' : 'auth'}/${patient}-${hook}${hookPath(hook)}`,
            method: 'POST',
            body: bodies.get(`${patient}-${hook}`),
            ...(auth !== 'plain' ? { sign: ehrs[auth], reuseTokens: true } : {}),
          },
        }),
      ),
    ),
  );
  const plainScenarios = fullPrefetchScenarios(local(ports.plain), ['plain']);
  const fallbackScenarios = (delayMs: number, batch: boolean): Scenario[] => [
    {
      name: `fallback heavy patient-view ${delayMs}ms batch-${batch ? 'on' : 'off'}`,
      group: 'fallback',
      patient: 'heavy',
      hook: 'patient-view',
      auth: 'plain',
      extra: { stubDelayMs: delayMs, stubBatch: batch },
      load: { url: `${local(ports.plain)}${hookPath('patient-view')}`, method: 'POST', body: fallbackBody },
    },
  ];
  const referenceScenario = (delayMs: number): Scenario => ({
    name: `reference slowest search ${delayMs}ms`,
    group: 'reference',
    patient: 'heavy',
    hook: 'search',
    auth: 'plain',
    extra: { stubDelayMs: delayMs, url: prepared.slowest[0].split('?')[0] },
    load: { url: `${stubBase}/${prepared.slowest[0]}`, method: 'GET' },
  });
  const authScenarios = fullPrefetchScenarios(local(ports.auth), ['ES384', 'RS384']);
  const degradedScenario: Scenario = {
    name: `degraded heavy patient-view ${degraded.stubDelayMs}ms>deadline ${degraded.deadlineMs}ms`,
    group: 'degraded',
    patient: 'heavy',
    hook: 'patient-view',
    auth: 'plain',
    extra: { stubDelayMs: degraded.stubDelayMs, deadlineMs: degraded.deadlineMs },
    load: { url: `${local(ports.degraded)}${hookPath('patient-view')}`, method: 'POST', body: fallbackBody },
    expected: [412],
  };
  const postgresScenarios = databaseUrlSetting
    ? fullPrefetchScenarios(local(ports.postgres), ['ES384'], 'postgres ', { database: 'postgresql' })
    : [];

  let floor: Proc | undefined;
  /** The floor a full-prefetch scenario is held to: the same patient, hook and token (none, ES384, RS384). */
  const floorOf = (scenario: Scenario) => {
    const match = floorScenarios.find(
      (f) => f.patient === scenario.patient && f.hook === scenario.hook && f.auth === scenario.auth,
    );
    return floor && match ? { scenario: match, proc: floor } : undefined;
  };

  // ---- the runs ----------------------------------------------------------------------------------------

  process.on('SIGINT', () => {
    for (const proc of running) proc.child.kill('SIGTERM');
    process.exit(130);
  });

  try {
    const fallbackAll = delays.flatMap((d) => [
      referenceScenario(d),
      ...fallbackScenarios(d, false),
      ...fallbackScenarios(d, true),
    ]);
    // The throughput pairs need the floor, and the floor's answers come from the plain service.
    const pairsWanted =
      pairRounds > 0 && anyWanted([...plainScenarios, ...authScenarios, ...postgresScenarios]);
    if (pairsWanted || anyWanted([...floorScenarios, ...plainScenarios, ...fallbackAll])) {
      const plain = await startService('service plain', ports.plain, { auth: false });
      if (pairsWanted || anyWanted(floorScenarios)) {
        // The floor answers what the service answered for the same request.
        const answers: Record<string, unknown> = {};
        for (const [key, body] of bodies) {
          const hook = key.endsWith('order-sign') ? 'order-sign' : 'patient-view';
          const response = await fetch(`${local(ports.plain)}${hookPath(hook)}`, {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body,
          });
          if (!response.ok) throw new Error(`service answered ${response.status} for ${key}`);
          answers[key] = await response.json();
        }
        const floorData = join(tempRoot, 'floor-data.json');
        const clients = Object.values(ehrs).map(({ iss, key }) => ({ iss, jwk: key.publicJwk }));
        await writeFile(floorData, JSON.stringify({ answers, clients }));
        // Kept up until the end: each service's throughput is measured again beside it (measurePair).
        floor = await started(
          'floor',
          'bench/floor.ts',
          { ...process.env, FLOOR_PORT: String(ports.floor), FLOOR_DATA: floorData },
          `${local(ports.floor)}/healthz`,
        );
        for (const scenario of floorScenarios) await measure(scenario, floor);
      }
      for (const scenario of plainScenarios) await measure(scenario, plain);
      for (const scenario of plainScenarios) await measurePair(scenario, plain, floorOf(scenario));
      for (const delayMs of delays) {
        for (const batch of [false, true]) {
          const list = [...(batch ? [] : [referenceScenario(delayMs)]), ...fallbackScenarios(delayMs, batch)];
          if (!anyWanted(list)) continue;
          const stub = await startStub(delayMs, batch, stubData);
          for (const scenario of list) await measure(scenario, scenario.group === 'reference' ? stub : plain);
          await settle();
          await stopped(stub);
        }
      }
      await stopped(plain);
    }

    if (anyWanted(authScenarios)) {
      const auth = await startService('service authenticated', ports.auth, { auth: true });
      for (const scenario of authScenarios) await measure(scenario, auth);
      for (const scenario of authScenarios) await measurePair(scenario, auth, floorOf(scenario));
      await stopped(auth);
    }

    if (anyWanted([degradedScenario])) {
      const service = await startService('service degraded', ports.degraded, {
        auth: false,
        env: { FHIR_DEADLINE_MS: String(degraded.deadlineMs) },
      });
      const stub = await startStub(degraded.stubDelayMs, false, stubData);
      await measure(degradedScenario, service);
      await settle();
      await stopped(stub);
      await stopped(service);
    }

    if (anyWanted(postgresScenarios)) {
      const postgres = databaseUrlSetting === 'auto' ? await startPostgres() : undefined;
      try {
        const service = await startService('service authenticated, PostgreSQL', ports.postgres, {
          auth: true,
          env: { DATABASE_URL: postgres?.url ?? databaseUrlSetting },
        });
        for (const scenario of postgresScenarios) await measure(scenario, service);
        for (const scenario of postgresScenarios) await measurePair(scenario, service, floorOf(scenario));
        await stopped(service);
      } finally {
        await postgres?.stop();
      }
    }
  } finally {
    for (const proc of [...running]) await stopped(proc);
    limit?.remove();
    await signer?.close();
    await rm(tempRoot, { recursive: true, force: true });
  }
}

// ---- targets and the summary -------------------------------------------------------------------------

interface Target {
  name: string;
  ratio?: number;
  value?: number;
  limit: number;
  met: boolean;
}
const targets: Target[] = [];
function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1
    ? (sorted[middle] as number)
    : round2(((sorted[middle - 1] as number) + (sorted[middle] as number)) / 2);
}
const find = (p: (r: Row) => boolean) => rows.find(p);

for (const r of rows.filter((r) => r.group === 'full-prefetch' && r.concurrency === 10)) {
  const pair = pairs.find((p) => p.name === r.name);
  if (pair) {
    const ratios = pair.rounds.map((round) => round.ratio);
    const ratio = median(ratios);
    targets.push({
      name: `${r.name} c10 req/s ≥ 0.5 × floor (median of ${ratios.length} rounds beside the floor: ${ratios.join(', ')})`,
      ratio,
      limit: 0.5,
      met: ratio >= 0.5,
    });
    continue;
  }
  const floor = find(
    (f) =>
      f.group === 'floor' &&
      f.concurrency === 10 &&
      f.patient === r.patient &&
      f.hook === r.hook &&
      f.auth === r.auth,
  );
  if (!floor) continue;
  const ratio = round2(r.reqPerSec / floor.reqPerSec);
  targets.push({ name: `${r.name} c10 req/s ≥ 0.5 × floor`, ratio, limit: 0.5, met: ratio >= 0.5 });
}
for (const r of rows.filter((r) => r.group === 'fallback')) {
  const ref = find(
    (f) => f.group === 'reference' && f.stubDelayMs === r.stubDelayMs && f.concurrency === r.concurrency,
  );
  if (!ref) continue;
  const ratio = round2(r.p50 / ref.p50);
  targets.push({
    name: `${r.name} c${r.concurrency} p50 ≤ 1.1 × slowest single search p50 (${ref.p50} ms)`,
    ratio,
    limit: 1.1,
    met: ratio <= 1.1,
  });
}
for (const r of rows.filter((r) => r.group === 'degraded')) {
  const limit = Math.round(degraded.deadlineMs * 1.1);
  targets.push({
    name: `${r.name} c${r.concurrency} p99 ≤ deadline + 10 %`,
    value: r.p99,
    limit,
    met: r.p99 <= limit,
  });
}
for (const database of ['embedded PGlite', 'postgresql']) {
  const service = rows.filter(
    (r) =>
      r.measured.startsWith('service') &&
      r.concurrency === 100 &&
      (database === 'postgresql') === (r.database === 'postgresql'),
  );
  if (service.length === 0) continue;
  const value = Math.max(...service.map((r) => r.peakRssMb));
  targets.push({
    name: `service peak RSS at c100 < 250 MB (${database}; highest of ${service.length} runs)`,
    value,
    limit: 250,
    met: value < 250,
  });
}
const errorLines = Object.entries(serviceLogs).flatMap(([proc, lines]) =>
  Object.entries(lines)
    .filter(([line]) => /^(error|fatal) /.test(line))
    .map(([line, n]) => ({ proc, line, n })),
);
targets.push({
  name: `no error or fatal log line from any service${errorLines.length ? ` (${errorLines.map((e) => `${e.proc}: ${e.n} × ${e.line}`).join('; ')})` : ''}`,
  value: errorLines.reduce((n, e) => n + e.n, 0),
  limit: 0,
  met: errorLines.length === 0,
});
const unexpected = rows.reduce((n, r) => n + r.non2xx - r.expectedNon2xx + r.errors, 0);
targets.push({
  name: 'no HTTP error and no unintended non-2xx in any run',
  value: unexpected,
  limit: 0,
  met: unexpected === 0,
});

const report = {
  date,
  node,
  machine,
  seconds,
  warmupSeconds,
  ...(only.length ? { only } : {}),
  scenarios: rows,
  pairs,
  targets,
  serviceLogs,
  startupPeakRssMb,
  ...(memoryLimitRun ? { memoryLimit: memoryLimitRun } : {}),
};
const resultsDir = new URL('./results/', import.meta.url);
await mkdir(resultsDir, { recursive: true });
const resultsFile = new URL(`${date}${only.length ? '.partial' : ''}.json`, resultsDir);
await writeFile(resultsFile, `${JSON.stringify(report, null, 2)}\n`);

const fmt = (x: number) => (Number.isNaN(x) ? '–' : String(x));
/** Each pair's CPU a request, the median of its rounds for each figure. */
const cpuPairs = pairs.flatMap((pair) => {
  const measuredRounds = pair.rounds.filter((r) => r.serviceCpuUs && r.floorCpuUs);
  if (measuredRounds.length === 0) return [];
  const mid = (pick: (r: (typeof measuredRounds)[number]) => number) =>
    Math.round(median(measuredRounds.map(pick)));
  const service = { main: mid((r) => r.serviceCpuUs?.main ?? 0), all: mid((r) => r.serviceCpuUs?.all ?? 0) };
  const floor = { main: mid((r) => r.floorCpuUs?.main ?? 0), all: mid((r) => r.floorCpuUs?.all ?? 0) };
  return [
    {
      name: pair.name,
      ratio: median(pair.rounds.map((r) => r.ratio)),
      service,
      floor,
      cpuRatio: round2(floor.all / service.all),
    },
  ];
});
const summary = [
  `Generated by \`npm run bench\` on ${date}: ${report.machine.cpus} × ${report.machine.model}, Node ${node}, ${seconds} s per run after a ${warmupSeconds} s warm-up, connections = concurrency; ${memoryLimitRun && memoryLimitRun.how !== 'none' ? `the floor and the services each in a memory cgroup of ${memoryLimitRun.quantity} (${memoryLimitRun.how}), the container's limit in deploy/` : 'no memory limit on the floor and the services'}. All figures: \`bench/results/${date}.json\`.`,
  '',
  '| target | ratio / value | limit | met |',
  '|---|---|---|---|',
  ...targets.map(
    (t) => `| ${t.name} | ${t.ratio ?? t.value} | ${t.limit} | ${t.met ? 'met' : '**not met**'} |`,
  ),
  '',
  ...(cpuPairs.length > 0
    ? [
        "CPU a request beside the floor (the pairs' rounds above, medians; µs, the main thread / all threads; the PostgreSQL server's own CPU not included):",
        '',
        "| service scenario (c10) | req/s ratio | service CPU | floor CPU | floor's ÷ service's (all threads) |",
        '|---|---|---|---|---|',
        ...cpuPairs.map(
          (c) => `| ${c.name} | ${c.ratio} | ${cpuText(c.service)} | ${cpuText(c.floor)} | ${c.cpuRatio} |`,
        ),
        '',
      ]
    : []),
  '| scenario | conc. | req/s | p50 ms | p95 ms | p99 ms | non-2xx | errors | peak RSS MB (process) | CPU µs/req main / all |',
  '|---|---|---|---|---|---|---|---|---|---|',
  ...rows.map(
    (r) =>
      `| ${r.name} | ${r.concurrency} | ${r.reqPerSec} | ${fmt(r.p50)} | ${fmt(r.p95)} | ${fmt(r.p99)} | ${r.non2xx}${r.expectedNon2xx ? ` (${r.expectedNon2xx} × 412, intended)` : ''} | ${r.errors} | ${r.peakRssMb} (${r.measured}) | ${cpuText(r.cpuUsPerRequest)} |`,
  ),
].join('\n');
log(`\n${summary}\n`);
log(
  `${rows.length} runs and ${pairs.length} throughput targets measured again beside their floor${reportFile ? ' (from an earlier run)' : ` in ${Math.round((performance.now() - startedAt) / 1000)} s`}; results: ${resultsFile.pathname}`,
);

if (only.length === 0) {
  const readme = new URL('./README.md', import.meta.url);
  const text = await readFile(readme, 'utf8');
  const start = '<!-- bench:summary:start -->';
  const end = '<!-- bench:summary:end -->';
  const from = text.indexOf(start);
  const to = text.indexOf(end);
  if (from >= 0 && to > from) {
    await writeFile(readme, `${text.slice(0, from + start.length)}\n${summary}\n${text.slice(to)}`);
    log('bench/README.md: summary updated');
  } else {
    log('bench/README.md: no summary markers, not updated');
  }
}
