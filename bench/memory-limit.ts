/**
 * The container's memory limit for `npm run bench`'s measured processes (the floor and the services):
 * each runs in a memory cgroup of its own, limited to what deploy/deployment.yaml gives the container
 * (768Mi), as it would run in its pod. The limit matters before any OOM: Node sizes V8's heap from the
 * memory it sees. Measured here, under 768 MiB V8 keeps a young generation of 2 × 16 MB, and on this
 * 24 GiB machine without a limit it grows it to 2 × 64 MB, and RSS grows with it.
 *
 * Needs a writable cgroup memory controller (v2, or v1's `memory` hierarchy), in practice root. Where
 * there is none, the processes run without a limit and the results say so (`memoryLimit.how: 'none'`).
 */
import { existsSync, mkdirSync, readFileSync, rmdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';

export interface MemoryLimit {
  /** The container's limit, from deploy/deployment.yaml. */
  bytes: number;
  /** Its text there (`768Mi`). */
  quantity: string;
  how: 'cgroup v2' | 'cgroup v1' | 'none';
  /** `command` and `args` that run `script` with node inside a cgroup of its own named after `name`. */
  wrap(name: string, script: string): { command: string; args: string[] };
  /** Removes the cgroups made (after their processes have exited). */
  remove(): void;
}

const UNITS: Record<string, number> = { Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, K: 1e3, M: 1e6, G: 1e9 };

/** The service container's `resources.limits.memory` in deploy/deployment.yaml, in bytes and as written. */
function containerLimit(): { bytes: number; quantity: string } {
  const file = new URL('../deploy/deployment.yaml', import.meta.url);
  const deployment = parseAllDocuments(readFileSync(file, 'utf8'))
    .map((doc) => doc.toJS() as { kind?: string; spec?: unknown })
    .find((doc) => doc.kind === 'Deployment');
  const containers = (
    deployment?.spec as { template?: { spec?: { containers?: Array<{ resources?: unknown }> } } }
  )?.template?.spec?.containers;
  const quantity = String(
    (containers?.[0]?.resources as { limits?: { memory?: string } })?.limits?.memory ?? '',
  );
  const match = /^(\d+)(Ki|Mi|Gi|K|M|G)?$/.exec(quantity);
  if (!match) throw new Error(`deploy/deployment.yaml: no container memory limit to run the bench with`);
  return { bytes: Number(match[1]) * (UNITS[match[2] ?? ''] ?? 1), quantity };
}

/** Where cgroups with a memory limit can be made here, and the file that sets the limit. */
function hierarchy(): { root: string; limitFile: string; how: MemoryLimit['how'] } | undefined {
  const v2 = '/sys/fs/cgroup';
  if (
    existsSync(join(v2, 'cgroup.controllers')) &&
    readFileSync(join(v2, 'cgroup.subtree_control'), 'utf8').split(/\s+/).includes('memory')
  ) {
    return { root: v2, limitFile: 'memory.max', how: 'cgroup v2' };
  }
  const v1 = '/sys/fs/cgroup/memory';
  if (existsSync(join(v1, 'memory.limit_in_bytes'))) {
    return { root: v1, limitFile: 'memory.limit_in_bytes', how: 'cgroup v1' };
  }
  return undefined;
}

export function memoryLimit(): MemoryLimit {
  const { bytes, quantity } = containerLimit();
  const found = hierarchy();
  const made: string[] = [];
  const unlimited = (script: string) => ({ command: process.execPath, args: [script] });
  const none: MemoryLimit = {
    bytes,
    quantity,
    how: 'none',
    wrap: (_name, script) => unlimited(script),
    remove() {},
  };
  if (!found) return none;
  try {
    const probe = join(found.root, `pvp-cds-bench-${process.pid}-probe`);
    mkdirSync(probe);
    rmdirSync(probe);
  } catch {
    return none;
  }
  return {
    bytes,
    quantity,
    how: found.how,
    wrap(name, script) {
      const dir = join(
        found.root,
        `pvp-cds-bench-${process.pid}-${made.length}-${name.replace(/\W+/g, '-')}`,
      );
      mkdirSync(dir);
      made.push(dir);
      writeFileSync(join(dir, found.limitFile), String(bytes));
      // The shell enters the cgroup, then becomes node (exec): the child's pid is node's.
      return {
        command: 'sh',
        args: [
          '-c',
          'echo $$ > "$1" && shift && exec "$@"',
          'sh',
          join(dir, 'cgroup.procs'),
          process.execPath,
          script,
        ],
      };
    },
    remove() {
      for (const dir of made.splice(0)) {
        try {
          rmdirSync(dir);
        } catch {
          // A process still in it (one that would not stop): the directory stays; nothing else depends on it.
        }
      }
    },
  };
}
