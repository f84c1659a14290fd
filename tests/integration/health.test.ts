import { spawnSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Card } from '../../src/cds-hooks/schemas.ts';
import { startApp } from '../support/app.ts';
import { serveJwks, signingKey, writeClientsFile } from '../support/ehr-client.ts';
import type { TestFhirServer } from '../support/fhir-server.ts';
import { hookBody, scenarioPrefetch } from '../support/hook-calls.ts';
import { type ServiceProcess, startServiceProcess } from '../support/service-process.ts';
import { embedded, openTestStore, outageFor } from '../support/stores.ts';

async function readiness(url: string): Promise<{ status: number; body: Record<string, unknown> }> {
  const response = await fetch(`${url}/readyz`);
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

describe('/healthz and /readyz', () => {
  it('say alive and ready, with what was checked', async () => {
    const app = await startApp();
    try {
      const health = await fetch(`${app.url}/healthz`);
      expect([health.status, await health.json()]).toEqual([200, { status: 'ok' }]);
      expect(await readiness(app.url)).toEqual({
        status: 200,
        body: { status: 'ready', checks: { configuration: 'ok', database: 'ok', clientKeys: 'ok' } },
      });
    } finally {
      await app.close();
    }
  });

  it('say not ready while the database is down, and ready again when it is back', async () => {
    const outage = await outageFor(await embedded.place());
    const store = await openTestStore(outage.env, outage.db ? { db: outage.db } : {});
    const app = await startApp({}, { store });
    try {
      outage.cut();
      const down = await readiness(app.url);
      expect(down.status).toBe(503);
      expect(down.body).toMatchObject({ status: 'not ready', checks: { database: 'unreachable' } });
      expect((await fetch(`${app.url}/healthz`)).status).toBe(200);
      const metrics = await (await fetch(`${app.url}/metrics`)).text();
      expect(metrics).toMatch(/^pvp_cds_database_errors_total\{operation="readiness"\} 1$/m);
      outage.restore();
      expect((await readiness(app.url)).status).toBe(200);
    } finally {
      await app.close();
      await store.close();
      await outage.close();
    }
  });

  it('say not ready until a client’s JWK Set has loaded once, then ready on the cached copy', async () => {
    const key = signingKey('ES384');
    const jwks = await serveJwks([key]);
    const iss = 'https://ehr.example-hospital.org';
    const clientsFile = await writeClientsFile([
      { iss, jwksUrls: [jwks.url], fhirServers: ['https://fhir.example.org/r4'] },
    ]);
    const app = await startApp({
      CDS_AUTH: 'on',
      CDS_CLIENTS_FILE: clientsFile,
      JWKS_REFRESH_COOLDOWN_MS: '0',
      JWKS_TIMEOUT_MS: '500',
    });
    try {
      jwks.failing = true;
      const unloadable = await readiness(app.url);
      expect(unloadable.status).toBe(503);
      expect(unloadable.body).toMatchObject({ checks: { clientKeys: { unavailable: [iss] } } });
      jwks.failing = false;
      expect((await readiness(app.url)).status).toBe(200);
      jwks.failing = true;
      expect((await readiness(app.url)).status).toBe(200);
    } finally {
      await Promise.all([app.close(), jwks.close()]);
    }
  });
});

describe('/metrics', () => {
  it('is open without METRICS_TOKEN and behind it when set', async () => {
    const metricsToken = 'metrics-token-for-the-scraper-0001';
    const open = await startApp();
    const closed = await startApp({ METRICS_TOKEN: metricsToken });
    try {
      expect((await fetch(`${open.url}/metrics`)).status).toBe(200);
      const refused = await fetch(`${closed.url}/metrics`);
      expect(refused.status).toBe(401);
      expect(refused.headers.get('www-authenticate')).toBe('Bearer');
      expect(await refused.text()).not.toContain('pvp_cds');
      const wrong = await fetch(`${closed.url}/metrics`, {
        headers: { authorization: 'Bearer not-the-token' },
      });
      expect(wrong.status).toBe(401);
      const scraped = await fetch(`${closed.url}/metrics`, {
        headers: { authorization: `Bearer ${metricsToken}` },
      });
      expect(scraped.status).toBe(200);
      expect(await scraped.text()).toContain('# TYPE pvp_cds_hook_duration_seconds histogram');
    } finally {
      await Promise.all([open.close(), closed.close()]);
    }
  });
});

describe('SIGTERM with a hook in flight', () => {
  const patientId = 'pvp-high-rbp-risk';
  let fhir: TestFhirServer;
  let prefetch: Record<string, unknown>;
  beforeAll(async () => {
    ({ fhir, prefetch } = await scenarioPrefetch('high-rbp-risk'));
  });
  afterAll(() => fhir.close());

  /** Starts a patient-view hook read from the FHIR server, which takes `delayMs` per request. */
  async function slowHook(service: ServiceProcess, delayMs: number): Promise<{ answer: Promise<Response> }> {
    fhir.setFaults({ delayMs });
    const body = await hookBody('patient-view', patientId, { fhirServer: fhir.baseUrl });
    const answer = fetch(`${service.url}/cds-services/pvp-risk-patient-view`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    await new Promise((resolve) => setTimeout(resolve, 300));
    return { answer };
  }

  const start = async (graceMs: number) =>
    startServiceProcess({
      ...(await embedded.place()),
      CDS_AUTH: 'off',
      FHIR_DEADLINE_MS: '5000',
      SHUTDOWN_GRACE_MS: String(graceMs),
    });
  const messages = (service: ServiceProcess) =>
    service.lines.map((line) => (JSON.parse(line) as { msg: string }).msg);

  it('stops being ready at once, finishes the hook, and exits 0', async () => {
    const service = await start(10_000);
    try {
      const { answer } = await slowHook(service, 1500);
      const exit = service.stop('SIGTERM');
      await new Promise((resolve) => setTimeout(resolve, 100));
      expect(await readiness(service.url)).toMatchObject({ status: 503, body: { status: 'draining' } });
      expect((await fetch(`${service.url}/healthz`)).status).toBe(200);
      const response = await answer;
      expect(response.status).toBe(200);
      expect(((await response.json()) as { cards: Card[] }).cards.length).toBeGreaterThan(0);
      expect(await exit).toBe(0);
      expect(messages(service)).toEqual(expect.arrayContaining(['draining', 'stopped']));
    } finally {
      fhir.setFaults({});
      await service.stop('SIGKILL');
    }
  });

  it('exits 1 when the hook outlasts SHUTDOWN_GRACE_MS, saying so', async () => {
    const service = await start(300);
    try {
      const { answer } = await slowHook(service, 2000);
      const outcome = answer.then(
        (response) => response.status,
        (error: unknown) => (error instanceof TypeError ? 'connection closed' : 'other error'),
      );
      expect(await service.stop('SIGTERM')).toBe(1);
      expect(await outcome).toBe('connection closed');
      expect(messages(service)).toContain('shutdown grace period over: exiting with answers still in flight');
    } finally {
      fhir.setFaults({});
      await service.stop('SIGKILL');
    }
  });

  // A log collector that dies must not take the hooks with it, nor keep the replica from stopping
  // (an asynchronous log destination would: bench/README.md, "The layers around the hook").
  it('keeps answering after its log reader has gone, and still exits 0 on SIGTERM', async () => {
    const service = await start(10_000);
    try {
      service.child.stdout?.destroy();
      for (let call = 0; call < 3; call++) {
        const response = await fetch(`${service.url}/cds-services/pvp-risk-patient-view`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify(await hookBody('patient-view', patientId, { prefetch })),
        });
        expect(response.status).toBe(200);
        expect(((await response.json()) as { cards: Card[] }).cards.length).toBeGreaterThan(0);
      }
      const stillRunning = new Promise<string>((resolve) =>
        setTimeout(() => resolve('still running'), 10_000),
      );
      expect(await Promise.race([service.stop('SIGTERM'), stillRunning])).toBe(0);
    } finally {
      await service.stop('SIGKILL');
    }
  });
});

describe('npm start -- --print-config', () => {
  it('prints the effective settings with secrets masked, and starts nothing', () => {
    const metricsToken = 'metrics-token-printed-never-0001';
    const printed = spawnSync('npm', ['start', '--silent', '--', '--print-config'], {
      env: {
        PATH: process.env.PATH ?? '',
        HOME: process.env.HOME ?? '',
        METRICS_TOKEN: metricsToken,
        DATABASE_URL: 'postgres://pvp:db-password-never-printed@db.internal:5432/pvp',
        PORT: '3999',
      },
      encoding: 'utf8',
      timeout: 30_000,
    });
    expect(printed.status).toBe(0);
    const lines = printed.stdout.trim().split('\n');
    expect(lines).toEqual(
      expect.arrayContaining([
        'PORT=3999',
        'HOST=127.0.0.1',
        'LOG_FORMAT=pretty',
        'METRICS_TOKEN=(set, masked)',
        'DATABASE_URL=postgres://pvp:*****@db.internal:5432/pvp',
      ]),
    );
    expect(printed.stdout).not.toContain(metricsToken);
    expect(printed.stdout).not.toContain('db-password-never-printed');
  });

  it('names a bad setting and exits 1', () => {
    const printed = spawnSync('npm', ['start', '--silent', '--', '--print-config'], {
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', SHUTDOWN_GRACE_MS: 'soon' },
      encoding: 'utf8',
      timeout: 30_000,
    });
    expect(printed.status).toBe(1);
    expect(printed.stderr).toMatch(/pvp-cds cannot start: invalid configuration: SHUTDOWN_GRACE_MS/);
  });
});
