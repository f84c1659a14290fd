/**
 * vitest globalSetup: a throwaway PostgreSQL server for the store tests, on 127.0.0.1 and a free port,
 * its data in a fresh temporary directory, trust authentication for user `postgres`. Tests read its admin
 * URL with `inject('postgresAdminUrl')` (see tests/support/postgres.ts) and each make their own database.
 *
 * - Binaries: the highest `/usr/lib/postgresql/<version>/bin`, else `pg_config --bindir`, else `initdb` on
 *   PATH. None: with `CI=true` setup fails; otherwise one warning line on stderr and `postgresAdminUrl`
 *   is '' (the PostgreSQL variant of the store tests does not run).
 * - initdb and postgres refuse to run as root: as root the directory is handed to OS user `postgres` and
 *   the binaries run through `runuser -u postgres --` (or `su postgres -s /bin/sh -c`).
 * - Cleanup: the returned teardown stops the server (`-m fast`) and removes the directory; a process
 *   'exit' handler does the same if vitest exits without teardown (Ctrl-C, SIGTERM: vitest calls
 *   process.exit); a detached watchdog shell does it when this process dies without running 'exit'
 *   handlers (SIGKILL, a crash), checking once a second whether it is still alive.
 * - `PVP_POSTGRES_SETUP_TIMING=1` prints how long the setup took, on stderr.
 */
import { type ChildProcess, execFile, execFileSync, spawn, spawnSync } from 'node:child_process';
import { accessSync, constants, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import type { TestProject } from 'vitest/node';

declare module 'vitest' {
  export interface ProvidedContext {
    /** `postgres://postgres@127.0.0.1:<port>/postgres`, or '' when no PostgreSQL server could be started. */
    postgresAdminUrl: string;
  }
}

const NOT_INSTALLED =
  'PostgreSQL server binaries not found: the PostgreSQL variant of the store tests does not run; ' +
  'apt-get install postgresql';

function isExecutable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** A directory holding executable `initdb`, `pg_ctl` and `postgres`, or undefined. */
function findPostgresBinDir(): string | undefined {
  const complete = (dir: string) => ['initdb', 'pg_ctl', 'postgres'].every((b) => isExecutable(join(dir, b)));
  const debianRoot = '/usr/lib/postgresql';
  if (existsSync(debianRoot)) {
    const versions = readdirSync(debianRoot)
      .filter((v) => /^\d+(\.\d+)?$/.test(v))
      .sort((a, b) => Number(b) - Number(a));
    for (const v of versions) {
      const dir = join(debianRoot, v, 'bin');
      if (complete(dir)) return dir;
    }
  }
  try {
    const dir = execFileSync('pg_config', ['--bindir'], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    }).trim();
    if (dir && complete(dir)) return dir;
  } catch {
    // no pg_config
  }
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (dir && complete(dir)) return dir;
  }
  return undefined;
}

function which(name: string): string | undefined {
  const dirs = [...(process.env.PATH ?? '').split(delimiter), '/usr/sbin', '/sbin', '/usr/bin', '/bin'];
  return dirs.map((d) => join(d, name)).find((p) => isExecutable(p));
}

function shellQuote(arg: string): string {
  return `'${arg.replaceAll("'", `'\\''`)}'`;
}

/** How to run a PostgreSQL binary: directly, or as OS user postgres when we are root. */
type Runner = (bin: string, args: string[]) => [string, string[]];

function makeRunner(): Runner {
  if (process.getuid?.() !== 0) return (bin, args) => [bin, args];
  const runuser = which('runuser');
  if (runuser) return (bin, args) => [runuser, ['-u', 'postgres', '--', bin, ...args]];
  const su = which('su');
  if (su) {
    return (bin, args) => [su, ['postgres', '-s', '/bin/sh', '-c', [bin, ...args].map(shellQuote).join(' ')]];
  }
  throw new Error(
    'running as root, PostgreSQL must run as OS user postgres, but neither runuser nor su exists',
  );
}

function logTail(logFile: string, lines = 30): string {
  try {
    const text = readFileSync(logFile, 'utf8').trimEnd();
    return text ? `\n--- last lines of ${logFile} ---\n${text.split('\n').slice(-lines).join('\n')}` : '';
  } catch {
    return '';
  }
}

function run(command: [string, string[]], cwd: string, logFile: string, timeoutMs: number): Promise<void> {
  const [file, args] = command;
  return new Promise((resolve, reject) => {
    execFile(file, args, { cwd, timeout: timeoutMs, encoding: 'utf8' }, (error, stdout, stderr) => {
      if (!error) return resolve();
      const how = error.killed ? `killed after ${timeoutMs} ms` : `exit code ${String(error.code)}`;
      const output = `${stdout}${stderr}`.trim();
      reject(
        new Error(
          `PostgreSQL test server: \`${[file, ...args].join(' ')}\` failed (${how})` +
            `${output ? `:\n${output}` : ''}${logTail(logFile)}`,
        ),
      );
    });
  });
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => (port ? resolve(port) : reject(new Error('no free port'))));
    });
  });
}

/** Runs `stop` and removes `root` once process `parentPid` is gone. */
function startWatchdog(parentPid: number, root: string, stop: [string, string[]]): ChildProcess {
  const script = [
    'parent=$1; root=$2; shift 2',
    'while kill -0 "$parent" 2>/dev/null; do sleep 1; done',
    '"$@" >/dev/null 2>&1',
    'rm -rf "$root"',
  ].join('\n');
  const child = spawn(
    '/bin/sh',
    ['-c', script, 'pvp-postgres-watchdog', String(parentPid), root, ...stop.flat()],
    {
      detached: true,
      stdio: 'ignore',
    },
  );
  child.on('error', () => {}); // best effort: the exit handler and teardown still clean up
  child.unref();
  return child;
}

function killWatchdog(watchdog: ChildProcess): void {
  if (watchdog.pid === undefined || watchdog.exitCode !== null) return;
  try {
    process.kill(-watchdog.pid, 'SIGTERM'); // its process group: the shell and its `sleep`
  } catch {
    // already gone
  }
}

export default async function setup({ provide }: TestProject): Promise<() => Promise<void>> {
  const started = performance.now();
  const binDir = findPostgresBinDir();
  if (!binDir) {
    if (process.env.CI === 'true') {
      throw new Error(
        'PostgreSQL is not installed (no initdb/pg_ctl/postgres in /usr/lib/postgresql/*/bin, ' +
          '`pg_config --bindir` or PATH), and CI=true requires the PostgreSQL store tests: apt-get install postgresql',
      );
    }
    process.stderr.write(`${NOT_INSTALLED}\n`);
    provide('postgresAdminUrl', '');
    return async () => {};
  }

  const asPostgres = makeRunner();
  const root = mkdtempSync(join(tmpdir(), 'pvp-pg-'));
  const dataDir = join(root, 'data');
  const logFile = join(root, 'log');
  const initdb = join(binDir, 'initdb');
  const pgCtl = join(binDir, 'pg_ctl');
  // --locale=C: the environment's locale may not be installed (initdb fails then); C sorts alike everywhere.
  const initdbQuick = ['--locale=C', '--no-sync'];
  const stopCommand = (mode: 'fast' | 'immediate') =>
    asPostgres(pgCtl, ['-D', dataDir, '-m', mode, '-w', 'stop']);

  const watchdog = startWatchdog(process.pid, root, stopCommand('immediate'));
  let cleanedUp = false;
  const cleanUpSync = () => {
    if (cleanedUp) return;
    cleanedUp = true;
    killWatchdog(watchdog);
    if (existsSync(join(dataDir, 'postmaster.pid'))) {
      const [file, args] = stopCommand('immediate');
      spawnSync(file, args, { cwd: root, stdio: 'ignore', timeout: 10_000 });
    }
    rmSync(root, { recursive: true, force: true });
  };
  process.on('exit', cleanUpSync);

  try {
    if (process.getuid?.() === 0) {
      // Just the (empty) directory so far, but recursively in case that ever changes.
      execFileSync('chown', ['-R', 'postgres:', root], { stdio: ['ignore', 'ignore', 'pipe'] });
    }
    await run(
      asPostgres(initdb, ['-D', dataDir, '-A', 'trust', '-U', 'postgres', '-E', 'UTF8', ...initdbQuick]),
      root,
      logFile,
      60_000,
    ).catch((error: Error) => {
      if (process.getuid?.() !== 0) throw error;
      error.message += `\n(as root, initdb runs as OS user postgres, who must be able to reach ${root}: set TMPDIR?)`;
      throw error;
    });

    let port = 0;
    for (let attempt = 1; ; attempt++) {
      port = await freePort();
      const options = `-p ${port} -k ${shellQuote(root)} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200`;
      try {
        await run(
          asPostgres(pgCtl, ['-w', '-t', '30', '-D', dataDir, '-l', logFile, '-o', options, 'start']),
          root,
          logFile,
          40_000,
        );
        break;
      } catch (error) {
        // Another process may have taken the port between freePort() and the server's bind.
        const inUse = /could not bind|Address already in use|could not create any TCP\/IP sockets/.test(
          logTail(logFile, 10),
        );
        if (!inUse || attempt === 3) throw error;
      }
    }

    provide('postgresAdminUrl', `postgres://postgres@127.0.0.1:${port}/postgres`);
    if (process.env.PVP_POSTGRES_SETUP_TIMING) {
      process.stderr.write(
        `PostgreSQL ${binDir} on port ${port} ready in ${Math.round(performance.now() - started)} ms\n`,
      );
    }
  } catch (error) {
    cleanUpSync();
    process.off('exit', cleanUpSync);
    throw error;
  }

  return async () => {
    if (cleanedUp) return;
    try {
      killWatchdog(watchdog);
      const [file, args] = stopCommand('fast');
      await run([file, args], root, logFile, 30_000);
    } finally {
      cleanUpSync(); // also removes the directory; stops the server with -m immediate if `fast` failed
      process.off('exit', cleanUpSync);
    }
  };
}
