/**
 * The real app on a real loopback port, with a fixed clock (2026-11-22) and silent logs, on a real
 * embedded database (in memory, one per test file: PGlite takes seconds to start) unless given a store.
 */
import type { AddressInfo } from 'node:net';
import { assembleApp } from '../../src/assemble.ts';
import { type Config, loadConfig } from '../../src/config.ts';
import type { AppDependencies } from '../../src/http/app.ts';
import { createLogger } from '../../src/observability/logger.ts';
import { openStore, type Store } from '../../src/store/store.ts';

let fileStore: Promise<Store> | undefined;

/** This test file's embedded database, opened on first use. */
export function testStore(): Promise<Store> {
  fileStore ??= openStore(loadConfig({ DATA_DIR: 'memory://' }), createLogger('silent'), {
    now: () => testDate,
  });
  return fileStore;
}

export const testDate = new Date('2026-11-22T10:00:00Z');

export interface RunningApp {
  url: string;
  store: Store;
  post(path: string, body: unknown, headers?: Record<string, string>): Promise<Response>;
  close(): Promise<void>;
}

export async function startApp(
  env: Record<string, string> = {},
  overrides: Partial<Pick<AppDependencies, 'fhirReader' | 'logger' | 'store' | 'now'>> = {},
): Promise<RunningApp & { config: Config }> {
  const config = loadConfig({
    NODE_ENV: 'test',
    LOG_LEVEL: 'silent',
    CDS_AUTH: 'off',
    CLINIC_TIME_ZONE: 'UTC',
    ...env,
  });
  const logger = overrides.logger ?? createLogger(config.logLevel);
  const store = overrides.store ?? (await testStore());
  const app = assembleApp(config, logger, store, {
    now: overrides.now ?? (() => testDate),
    ...(overrides.fhirReader ? { fhirReader: overrides.fhirReader } : {}),
  });
  const server = app.listen(0, '127.0.0.1');
  await new Promise<void>((resolve) => server.once('listening', () => resolve()));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url,
    config,
    store,
    post: (path, body, headers = {}) =>
      fetch(`${url}${path}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...headers },
        body: typeof body === 'string' ? body : JSON.stringify(body),
      }),
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((error) => (error ? reject(error) : resolve()));
      }),
  };
}
