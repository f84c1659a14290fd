/**
 * A throw-away PostgreSQL server for `BENCH_DATABASE_URL=auto`: `initdb` and `pg_ctl` from
 * /usr/lib/postgresql/<newest>/bin in a temporary directory, on a free loopback port, trust
 * authentication, fsync off. As root the binaries run as OS user `postgres` (runuser). `stop()` stops it
 * and removes the directory.
 */
import { execFile } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { freePort } from '../tests/support/service-process.ts';

const exec = promisify(execFile);

function findBinDir(): string | undefined {
  const root = '/usr/lib/postgresql';
  const versions = existsSync(root)
    ? readdirSync(root)
        .filter((v) => /^\d+$/.test(v))
        .sort((a, b) => Number(b) - Number(a))
    : [];
  return versions.map((v) => join(root, v, 'bin')).find((d) => existsSync(join(d, 'pg_ctl')));
}

/** Whether a throw-away server can be started here (Debian's postgresql package is installed). */
export function canStartPostgres(): boolean {
  return findBinDir() !== undefined;
}

function binDir(): string {
  const dir = findBinDir();
  if (!dir) throw new Error('BENCH_DATABASE_URL=auto: no PostgreSQL binaries under /usr/lib/postgresql');
  return dir;
}

export async function startPostgres(): Promise<{ url: string; stop(): Promise<void> }> {
  const bin = binDir();
  const root = mkdtempSync(join(tmpdir(), 'pvp-cds-bench-pg-'));
  const dataDir = join(root, 'data');
  const asRoot = userInfo().uid === 0;
  if (asRoot) {
    const { stdout } = await exec('id', ['-u', 'postgres']);
    const { stdout: gid } = await exec('id', ['-g', 'postgres']);
    chownSync(root, Number(stdout.trim()), Number(gid.trim()));
    chmodSync(root, 0o700);
  }
  const run = (name: string, args: string[]) =>
    asRoot
      ? exec('runuser', ['-u', 'postgres', '--', join(bin, name), ...args])
      : exec(join(bin, name), args);
  await run('initdb', ['-D', dataDir, '-A', 'trust', '-U', 'postgres', '-E', 'UTF8', '--no-sync']);
  const port = await freePort();
  const options = `-p ${port} -k ${root} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200`;
  await run('pg_ctl', ['-w', '-t', '30', '-D', dataDir, '-l', join(root, 'log'), '-o', options, 'start']);
  return {
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    async stop() {
      await run('pg_ctl', ['-w', '-D', dataDir, '-m', 'fast', 'stop']).catch(() => undefined);
      rmSync(root, { recursive: true, force: true });
    },
  };
}
