/**
 * The service as processes: two replicas on one PostgreSQL share the replay cache and the ledger;
 * SIGTERM lets an in-flight hook finish and its cards be recorded; migrations are safe when replicas
 * start at once; the embedded database survives a restart and refuses a second owner.
 */
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Card } from '../../src/cds-hooks/schemas.ts';
import type { AnalyticsReport } from '../../src/store/analytics-report.ts';
import { migrations } from '../../src/store/migrations.ts';
import { clientToken, type SigningKey, signingKey } from '../support/ehr-client.ts';
import type { TestFhirServer } from '../support/fhir-server.ts';
import { cardKind, hookBody, scenarioPrefetch } from '../support/hook-calls.ts';
import { postgresAvailable } from '../support/postgres.ts';
import {
  failedStart,
  freePort,
  type ServiceProcess,
  startServiceProcess,
} from '../support/service-process.ts';
import { embedded, openTestStore, postgres } from '../support/stores.ts';

const iss = 'https://ehr.example.org';
const publicUrl = 'https://cds.example.org';
const analyticsToken = 'analytics-token-for-replica-tests-01';
const patientId = 'pvp-high-rbp-risk';
const orderSign = '/cds-services/pvp-risk-order-sign';

let fhir: TestFhirServer;
let key: SigningKey;
let clientsFile: string;
let prefetch: Record<string, unknown>;

beforeAll(async () => {
  ({ fhir, prefetch } = await scenarioPrefetch('high-rbp-risk'));
  key = signingKey('ES384');
  clientsFile = join(await mkdtemp(join(tmpdir(), 'pvp-cds-replicas-')), 'clients.json');
  await writeFile(
    clientsFile,
    JSON.stringify({ clients: [{ iss, jwks: { keys: [key.publicJwk] }, fhirServers: [fhir.baseUrl] }] }),
  );
});
afterAll(() => fhir.close());

const serviceEnv = (store: Record<string, string>) => ({
  ...store,
  CDS_CLIENTS_FILE: clientsFile,
  PUBLIC_BASE_URL: publicUrl,
  ANALYTICS_TOKEN: analyticsToken,
  CLINIC_TIME_ZONE: 'UTC',
});

const tokenFor = (path: string) => clientToken({ iss, aud: `${publicUrl}${path}`, key });

async function post(service: ServiceProcess, path: string, body: unknown, token = tokenFor(path)) {
  return fetch(`${service.url}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify(body),
  });
}

async function issue(service: ServiceProcess, body?: unknown): Promise<Card[]> {
  const request =
    body ??
    (await hookBody('order-sign', patientId, { prefetch, draftOrders: 'high-rbp-risk.draft-orders' }));
  const response = await post(service, orderSign, request);
  expect(response.status).toBe(200);
  return ((await response.json()) as { cards: Card[] }).cards;
}

describe.runIf(postgresAvailable())('two replicas on one PostgreSQL', () => {
  let a: ServiceProcess;
  let b: ServiceProcess;

  beforeAll(async () => {
    const place = await postgres.place();
    // Both start at once: the migrations run once, under the advisory lock.
    [a, b] = await Promise.all([
      startServiceProcess(serviceEnv(place)),
      startServiceProcess(serviceEnv(place)),
    ]);
  });
  afterAll(async () => {
    await Promise.all([a?.stop(), b?.stop()]);
  });

  it('refuses on one replica a token already used on the other', async () => {
    const body = await hookBody('order-sign', patientId, {
      prefetch,
      draftOrders: 'high-rbp-risk.draft-orders',
    });
    const token = tokenFor(orderSign);
    expect((await post(a, orderSign, body, token)).status).toBe(200);
    expect((await post(b, orderSign, body, token)).status).toBe(401);
    expect((await post(a, orderSign, body, token)).status).toBe(401);
  });

  it('takes feedback on one replica for a card the other issued, and both count it', async () => {
    const cards = await issue(a);
    const risk = cards.find((c) => cardKind(c) === 'residual-pain-risk') as Card;
    const feedbackPath = `${orderSign}/feedback`;
    const item = {
      card: risk.uuid,
      outcome: 'accepted',
      acceptedSuggestions: [{ id: risk.suggestions?.[0]?.uuid }],
      outcomeTimestamp: new Date().toISOString(),
    };
    // Replica A writes its answers' cards together every 25 ms; a clinician's click comes much later.
    await new Promise((resolve) => setTimeout(resolve, 200));
    const stored = await post(b, feedbackPath, { feedback: [item] });
    expect(stored.status).toBe(200);
    expect(await stored.json()).toEqual({ received: 1, stored: 1, alreadyStored: 0 });
    const again = await post(a, feedbackPath, { feedback: [item] });
    expect(await again.json()).toEqual({ received: 1, stored: 0, alreadyStored: 1 });
    for (const replica of [a, b]) {
      const response = await fetch(`${replica.url}/analytics/cards`, {
        headers: { authorization: `Bearer ${analyticsToken}` },
      });
      const report = (await response.json()) as AnalyticsReport;
      expect(report.groups.find((g) => g.kind === 'residual-pain-risk')?.accepted).toBe(1);
    }
  });

  it('applies each migration once when replicas start together', async () => {
    const place = await postgres.place();
    const stores = await Promise.all([openTestStore(place), openTestStore(place), openTestStore(place)]);
    const rows = await stores[0]?.db.query<{ version: number }>(
      'SELECT version FROM schema_migration ORDER BY version',
    );
    expect(rows?.map((r) => r.version)).toEqual(migrations().map((m) => m.version));
    await Promise.all(stores.map((s) => s.close()));
  });

  it('finishes an in-flight hook on SIGTERM, records its cards, and exits 0', async () => {
    const place = await postgres.place();
    const service = await startServiceProcess(serviceEnv(place));
    fhir.setFaults({ delayMs: 600 });
    try {
      // No prefetch: the service reads the FHIR server, which takes 600 ms per request.
      const body = await hookBody('order-sign', patientId, {
        fhirServer: fhir.baseUrl,
        draftOrders: 'high-rbp-risk.draft-orders',
      });
      const answer = post(service, orderSign, body);
      await new Promise((resolve) => setTimeout(resolve, 200));
      const exit = service.stop('SIGTERM');
      const response = await answer;
      expect(response.status).toBe(200);
      const { cards } = (await response.json()) as { cards: Card[] };
      expect(await exit).toBe(0);
      const store = await openTestStore(place);
      const rows = await store.db.query('SELECT 1 FROM issued_card WHERE card_uuid = ANY($1::uuid[])', [
        cards.map((c) => c.uuid),
      ]);
      await store.close();
      expect(rows).toHaveLength(cards.length);
    } finally {
      fhir.setFaults({});
      await service.stop('SIGKILL');
    }
  });
});

describe('the embedded database as a process', () => {
  it('keeps the ledger across SIGTERM and a restart, and refuses a second process on its directory', async () => {
    const place = await embedded.place();
    const first = await startServiceProcess(serviceEnv(place));
    const cards = await issue(first);
    const second = await failedStart(serviceEnv(place));
    expect(second.code).toBe(1);
    expect(second.output).toContain(`DATA_DIR ${place.DATA_DIR} is in use by process ${first.child.pid}`);
    expect(await first.stop('SIGTERM')).toBe(0);

    const restarted = await startServiceProcess(serviceEnv(place));
    try {
      const risk = cards.find((c) => cardKind(c) === 'residual-pain-risk') as Card;
      const response = await post(restarted, `${orderSign}/feedback`, {
        feedback: [{ card: risk.uuid, outcome: 'overridden', outcomeTimestamp: new Date().toISOString() }],
      });
      expect(response.status).toBe(200);
    } finally {
      expect(await restarted.stop('SIGTERM')).toBe(0);
    }
  });

  it('stops at start-up when the PostgreSQL server cannot be reached', async () => {
    const port = await freePort();
    const refused = await failedStart(serviceEnv({ DATABASE_URL: `postgres://pvp@127.0.0.1:${port}/cds` }));
    expect(refused.code).toBe(1);
    expect(refused.output).toContain('pvp-cds cannot start: database unavailable');
  });

  it('stops at start-up, naming the variable, for a DATABASE_URL that is not PostgreSQL', async () => {
    const refused = await failedStart(serviceEnv({ DATABASE_URL: 'mysql://db.example.org/cds' }));
    expect(refused.code).toBe(1);
    expect(refused.output).toContain('DATABASE_URL: must be a postgres:// or postgresql:// URL');
  });
});
