import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Card } from '../../src/cds-hooks/schemas.ts';
import type { AnalyticsReport } from '../../src/store/analytics-report.ts';
import { migrations } from '../../src/store/migrations.ts';
import { clientToken, type SigningKey, signingKey, writeClientsFile } from '../support/ehr-client.ts';
import type { TestFhirServer } from '../support/fhir-server.ts';
import { cardKind, hookBody, scenarioPrefetch } from '../support/hook-calls.ts';
import { postgresAvailable } from '../support/postgres.ts';
import { type RoundRobin, startRoundRobin } from '../support/round-robin.ts';
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
  clientsFile = await writeClientsFile([
    { iss, jwks: { keys: [key.publicJwk] }, fhirServers: [fhir.baseUrl] },
  ]);
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

async function post(service: { url: string }, path: string, body: unknown, token = tokenFor(path)) {
  return fetch(`${service.url}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify(body),
  });
}

const feedbackPath = `${orderSign}/feedback`;

/** A clinician's acceptance of the residual-pain card among `cards`. */
function acceptance(cards: Card[]) {
  const risk = cards.find((c) => cardKind(c) === 'residual-pain-risk') as Card;
  return {
    card: risk.uuid,
    outcome: 'accepted',
    acceptedSuggestions: [{ id: risk.suggestions?.[0]?.uuid }],
    outcomeTimestamp: new Date().toISOString(),
  };
}

async function acceptedCount(service: { url: string }): Promise<number | undefined> {
  const response = await fetch(`${service.url}/analytics/cards`, {
    headers: { authorization: `Bearer ${analyticsToken}` },
  });
  const report = (await response.json()) as AnalyticsReport;
  return report.groups.find((g) => g.kind === 'residual-pain-risk')?.accepted;
}

async function issue(service: { url: string }, body?: unknown): Promise<Card[]> {
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
    const item = acceptance(await issue(a));
    // Replica A writes its answers' cards together every 25 ms; a clinician's click comes much later.
    await new Promise((resolve) => setTimeout(resolve, 200));
    const stored = await post(b, feedbackPath, { feedback: [item] });
    expect(stored.status).toBe(200);
    expect(await stored.json()).toEqual({ received: 1, stored: 1, alreadyStored: 0 });
    const again = await post(a, feedbackPath, { feedback: [item] });
    expect(await again.json()).toEqual({ received: 1, stored: 0, alreadyStored: 1 });
    for (const replica of [a, b]) expect(await acceptedCount(replica)).toBe(1);
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

describe.runIf(postgresAvailable())('two replicas on one PostgreSQL behind a round-robin', () => {
  const perMinute = 8;
  let replicas: ServiceProcess[] = [];
  let balancer: RoundRobin;
  /** Calls that passed authentication, each of which counts against the client's limit. */
  let counted = 0;
  const through = async (path: string, body: unknown, token?: string) => {
    const response = await post(balancer, path, body, token);
    if (response.status !== 401) counted += 1;
    return response;
  };

  beforeAll(async () => {
    const place = await postgres.place();
    const env = { ...serviceEnv(place), RATE_LIMIT_PER_MINUTE: String(perMinute) };
    replicas = await Promise.all([startServiceProcess(env), startServiceProcess(env)]);
    balancer = await startRoundRobin(replicas.map((r) => r.url));
  });
  afterAll(async () => {
    await Promise.all([balancer?.close(), ...replicas.map((r) => r.stop())]);
  });

  it('refuses a replayed token, whichever replica it reaches', async () => {
    const body = await hookBody('order-sign', patientId, {
      prefetch,
      draftOrders: 'high-rbp-risk.draft-orders',
    });
    const token = tokenFor(orderSign);
    const first = await through(orderSign, body, token);
    const replay = await through(orderSign, body, token);
    expect([first.status, replay.status]).toEqual([200, 401]);
    expect(first.headers.get('x-upstream')).not.toBe(replay.headers.get('x-upstream'));
  });

  it('counts on every replica the feedback one of them took', async () => {
    const answer = await through(
      orderSign,
      await hookBody('order-sign', patientId, { prefetch, draftOrders: 'high-rbp-risk.draft-orders' }),
    );
    const item = acceptance(((await answer.json()) as { cards: Card[] }).cards);
    await new Promise((resolve) => setTimeout(resolve, 200));
    const stored = await through(feedbackPath, { feedback: [item] });
    expect(stored.headers.get('x-upstream')).not.toBe(answer.headers.get('x-upstream'));
    expect(await stored.json()).toEqual({ received: 1, stored: 1, alreadyStored: 0 });
    for (const replica of replicas) expect(await acceptedCount(replica)).toBe(1);
  });

  it('holds a client to one rate limit across the replicas', async () => {
    const statuses: Array<{ status: number; upstream: string | null; retryAfter: string | null }> = [];
    for (let i = 0; i < perMinute - counted + 4; i++) {
      const response = await fetch(`${balancer.url}/cds-services`, {
        headers: { authorization: `Bearer ${tokenFor('/cds-services')}` },
      });
      statuses.push({
        status: response.status,
        upstream: response.headers.get('x-upstream'),
        retryAfter: response.headers.get('retry-after'),
      });
    }
    const allowed = perMinute - counted;
    expect(statuses.slice(0, allowed).map((s) => s.status)).toEqual(Array(allowed).fill(200));
    const refused = statuses.slice(allowed);
    expect(refused.map((s) => s.status)).toEqual([429, 429, 429, 429]);
    expect(new Set(refused.map((s) => s.upstream))).toEqual(new Set(['0', '1']));
    for (const { retryAfter } of refused) expect(Number(retryAfter)).toBeGreaterThan(0);
    for (const { retryAfter } of refused) expect(Number(retryAfter)).toBeLessThanOrEqual(60);
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
