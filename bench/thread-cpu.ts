/**
 * CPU time a measured process spent per request, by thread, read from /proc/<pid>/task/<tid>/stat
 * before and after a run (utime + stime, in the kernel's clock ticks of 10 ms: USER_HZ is 100 on Linux).
 * Requests per second say how fast; the CPU a request says where the time goes and which thread holds a
 * process back (a process whose main thread is always busy answers one request per its main thread's
 * figure; one held by something else, such as the ES384 floor whose verification fills the second core, does not).
 *
 * Threads are told apart by the names Node gives them: `MainThread` (JavaScript, the event loop),
 * `WorkerThread` (worker_threads: the embedded database), `V8Worker` (V8's garbage collector and
 * compilers, in the background), anything else (libuv's pool, the inspector…) as `other`.
 */
import { readdir, readFile } from 'node:fs/promises';

const TICK_US = 10_000;

type Group = 'main' | 'workerThreads' | 'v8' | 'other';
const groupOf: Record<string, Group> = { MainThread: 'main', WorkerThread: 'workerThreads', V8Worker: 'v8' };

/** Microseconds of CPU per request, by group of threads, and in all. */
export type CpuPerRequest = Record<Group | 'all', number>;

/** Clock ticks each live thread of `pid` has run so far, by thread id, with its group. */
export type ThreadTicks = Map<string, { group: Group; ticks: number }>;

export async function threadTicks(pid: number): Promise<ThreadTicks> {
  const ticks: ThreadTicks = new Map();
  const tasks = await readdir(`/proc/${pid}/task`).catch(() => [] as string[]);
  await Promise.all(
    tasks.map(async (tid) => {
      // A thread that ended in between has no stat to read; its time is lost to both readings.
      const stat = await readFile(`/proc/${pid}/task/${tid}/stat`, 'utf8').catch(() => undefined);
      if (!stat) return;
      const name = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
      // After the name: state is field 3; utime and stime are fields 14 and 15.
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      ticks.set(tid, { group: groupOf[name] ?? 'other', ticks: Number(fields[11]) + Number(fields[12]) });
    }),
  );
  return ticks;
}

/** CPU per request between two readings of the same process (threads started in between count from 0). */
export function cpuPerRequest(before: ThreadTicks, after: ThreadTicks, requests: number): CpuPerRequest {
  const us: CpuPerRequest = { main: 0, workerThreads: 0, v8: 0, other: 0, all: 0 };
  for (const [tid, { group, ticks }] of after) {
    const spent = (ticks - (before.get(tid)?.ticks ?? 0)) * TICK_US;
    us[group] += spent;
    us.all += spent;
  }
  for (const key of Object.keys(us) as Array<keyof CpuPerRequest>) {
    us[key] = requests > 0 ? Math.round(us[key] / requests) : Number.NaN;
  }
  return us;
}
