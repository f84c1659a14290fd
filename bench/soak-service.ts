/**
 * The service as `npm run soak` runs it: the app of src/assemble.ts, as src/main.ts runs it, plus an
 * IPC channel on which the soak process asks for samples of what can only be measured inside: V8 heap,
 * event-loop utilisation and delay.
 * Start it with `spawn(node, ['--expose-gc', 'bench/soak-service.ts'], { stdio: [..., 'ipc'] })`.
 *
 * Messages: it sends `{ type: 'listening', port }` once listening; to `{ type: 'sample', id }` it answers
 * `{ type: 'sample', id, sample }` (see `Sample`), each sample describing the interval since the previous
 * one (event loop) or the moment itself after a full GC when `--expose-gc` was given (memory, fds).
 * It exits when the channel closes, so it never outlives the soak process.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import { assembleApp, serve } from '../src/assemble.ts';
import { loadConfig } from '../src/config.ts';
import { createLogger } from '../src/observability/logger.ts';
import { openStore } from '../src/store/store.ts';

export interface Sample {
  /** Whether a full GC ran just before the memory figures (the process has `--expose-gc`). */
  gc: boolean;
  rssMb: number;
  /** Peak resident memory since the process started (`VmHWM`). */
  peakRssMb: number;
  heapUsedMb: number;
  heapTotalMb: number;
  externalMb: number;
  /** Event-loop utilisation over the interval, 0–1. */
  elu: number;
  /** Event-loop delay over the interval (beyond the 10 ms sampling period of the histogram). */
  loopDelayP99Ms: number;
  loopDelayMaxMs: number;
  openFds: number;
}

export type SoakMessage =
  | { type: 'listening'; port: number }
  | { type: 'sample'; id: number; sample: Sample };

const mb = (bytes: number) => Math.round((bytes / 1024 / 1024) * 10) / 10;

const config = loadConfig();
const logger = createLogger(config.logLevel);
const store = await openStore(config, logger);
const app = assembleApp(config, logger, store);

const gc = (globalThis as { gc?: () => void }).gc;
const resolutionMs = 10;
const delay = monitorEventLoopDelay({ resolution: resolutionMs });
delay.enable();
let lastElu = performance.eventLoopUtilization();

function sample(): Sample {
  const elu = performance.eventLoopUtilization(lastElu).utilization;
  // The histogram records the time between its 10 ms timer's runs: the delay is what exceeds 10 ms.
  const loopDelayP99Ms = Math.max(0, delay.percentile(99) / 1e6 - resolutionMs);
  const loopDelayMaxMs = Math.max(0, delay.max / 1e6 - resolutionMs);
  gc?.();
  const memory = process.memoryUsage();
  const peakKb = Number(/VmHWM:\s+(\d+)/.exec(readFileSync('/proc/self/status', 'utf8'))?.[1] ?? 0);
  const openFds = readdirSync('/proc/self/fd').length;
  // The next interval starts after the GC, so its cost does not count against the load.
  delay.reset();
  lastElu = performance.eventLoopUtilization();
  return {
    gc: gc !== undefined,
    rssMb: mb(memory.rss),
    peakRssMb: Math.round((peakKb / 1024) * 10) / 10,
    heapUsedMb: mb(memory.heapUsed),
    heapTotalMb: mb(memory.heapTotal),
    externalMb: mb(memory.external),
    elu: Math.round(elu * 1000) / 1000,
    loopDelayP99Ms: Math.round(loopDelayP99Ms * 10) / 10,
    loopDelayMaxMs: Math.round(loopDelayMaxMs * 10) / 10,
    openFds,
  };
}

const send = (message: SoakMessage) => process.send?.(message);

process.on('message', (message: { type?: string; id?: number }) => {
  if (message?.type === 'sample') send({ type: 'sample', id: message.id ?? 0, sample: sample() });
});
process.on('disconnect', () => process.exit(0));

serve(app, config, logger, store, () => send({ type: 'listening', port: config.port }));
