/**
 * A PostgreSQL server that hangs under a running service: it neither answers nor closes (a frozen
 * server, a network path that drops every packet), which no error reports, only the clock. A call then
 * waits for the database at most DATABASE_TIMEOUT_MS and the 50 ms that concurrent calls wait for the
 * statement ahead of them (src/store/coalesce.ts), never a timeout of its own after another's; the
 * process keeps running, and once the database answers again so does the service.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Card } from '../../src/cds-hooks/schemas.ts';
import { clientToken, type SigningKey, signingKey, writeClientsFile } from '../support/ehr-client.ts';
import type { TestFhirServer } from '../support/fhir-server.ts';
import { hookBody, scenarioPrefetch } from '../support/hook-calls.ts';
import { postgresAvailable, startTcpProxy, type TcpProxy } from '../support/postgres.ts';
import { type ServiceProcess, startServiceProcess } from '../support/service-process.ts';
import { postgres } from '../support/stores.ts';

const iss = 'https://ehr.example.org';
const publicUrl = 'https://cds.example.org';
const patientId = 'pvp-high-rbp-risk';
const orderSign = '/cds-services/pvp-risk-order-sign';
const timeoutMs = 600;

let fhir: TestFhirServer;
let key: SigningKey;
let clientsFile: string;
let body: unknown;

beforeAll(async () => {
  let prefetch: Record<string, unknown>;
  ({ fhir, prefetch } = await scenarioPrefetch('high-rbp-risk'));
  key = signingKey('ES384');
  clientsFile = await writeClientsFile([
    { iss, jwks: { keys: [key.publicJwk] }, fhirServers: [fhir.baseUrl] },
  ]);
  body = await hookBody('order-sign', patientId, { prefetch, draftOrders: 'high-rbp-risk.draft-orders' });
});
afterAll(() => fhir.close());

interface Answer {
  status: number;
  ms: number;
  retryAfter: string | null;
  json: { cards?: Card[]; resourceType?: string; issue?: Array<{ code: string; diagnostics: string }> };
}

async function call(service: ServiceProcess, authenticated: boolean): Promise<Answer> {
  const started = performance.now();
  const response = await fetch(`${service.url}${orderSign}`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      ...(authenticated
        ? { authorization: `Bearer ${await clientToken({ iss, aud: `${publicUrl}${orderSign}`, key })}` }
        : {}),
    },
    body: JSON.stringify(body),
  });
  const json = (await response.json()) as Answer['json'];
  return {
    status: response.status,
    ms: performance.now() - started,
    retryAfter: response.headers.get('retry-after'),
    json,
  };
}

const concurrent = (service: ServiceProcess, authenticated: boolean, n: number) =>
  Promise.all(Array.from({ length: n }, () => call(service, authenticated)));

/** Calls until one is answered 200, for at most `withinMs`: the service found the database again. */
async function answeredAgain(service: ServiceProcess, authenticated: boolean, withinMs: number) {
  const until = performance.now() + withinMs;
  for (;;) {
    const answer = await call(service, authenticated);
    if (answer.status === 200 || performance.now() > until) return answer;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/**
 * While the database hangs: six calls together (the first waits for it, the others go together 50 ms
 * later), then three more once those are answered, and the readiness probe; then it answers again.
 */
async function whileHanging(proxy: TcpProxy, service: ServiceProcess, authenticated: boolean) {
  proxy.stall();
  try {
    const first = await concurrent(service, authenticated, 6);
    const then = await concurrent(service, authenticated, 3);
    const probe = await fetch(`${service.url}/readyz`);
    return { first, then, readiness: { status: probe.status, body: (await probe.json()) as unknown } };
  } finally {
    proxy.restore();
  }
}

const logged = (service: ServiceProcess, message: string) =>
  service.lines.filter((line) => (JSON.parse(line) as { msg?: string }).msg === message);

describe.runIf(postgresAvailable())('a PostgreSQL server that hangs', () => {
  const proxies: TcpProxy[] = [];
  let service: ServiceProcess;
  let plain: ServiceProcess;

  beforeAll(async () => {
    const place = await postgres.place();
    const env = async () => {
      const proxy = await startTcpProxy(place.DATABASE_URL as string);
      proxies.push(proxy);
      return {
        DATABASE_URL: proxy.url,
        DATABASE_TIMEOUT_MS: String(timeoutMs),
        CDS_CLIENTS_FILE: clientsFile,
        PUBLIC_BASE_URL: publicUrl,
        CLINIC_TIME_ZONE: 'UTC',
      };
    };
    [service, plain] = await Promise.all([
      startServiceProcess(await env()),
      startServiceProcess({ ...(await env()), NODE_ENV: 'test', CDS_AUTH: 'off' }),
    ]);
  });
  afterAll(async () => {
    await Promise.all([service?.stop(), plain?.stop()]);
    await Promise.all(proxies.map((proxy) => proxy.close()));
  });

  it('answers authenticated calls 503 at once once it has waited for it, and 200 when it answers again', async () => {
    const [proxy] = proxies as [TcpProxy];
    expect((await call(service, true)).status).toBe(200);
    const { first, then, readiness } = await whileHanging(proxy, service, true);
    for (const answer of [...first, ...then]) {
      expect(answer).toMatchObject({ status: 503, retryAfter: '5' });
      expect(answer.json.issue?.[0]?.code).toBe('transient');
    }
    expect(Math.max(...first.map((a) => a.ms))).toBeGreaterThanOrEqual(timeoutMs * 0.9);
    expect(Math.max(...first.map((a) => a.ms))).toBeLessThan(timeoutMs * 2);
    expect(Math.max(...then.map((a) => a.ms))).toBeLessThan(timeoutMs / 2);
    expect(readiness).toMatchObject({ status: 503, body: { checks: { database: 'unreachable' } } });
    const after = await answeredAgain(service, true, timeoutMs + 3000);
    expect(after.status).toBe(200);
    expect(after.json.cards?.length).toBeGreaterThan(0);
    expect(
      logged(
        service,
        'the database did not answer in time: its statements fail at once until it answers again',
      ),
    ).toHaveLength(1);
    expect(logged(service, 'the database answers again')).toHaveLength(1);
    expect(service.lines.join('\n')).not.toContain(patientId);
    expect(service.child.exitCode).toBeNull();
  });

  it('answers unauthenticated calls with their cards, after one wait, counting them in memory', async () => {
    const [, proxy] = proxies as [TcpProxy, TcpProxy];
    expect((await call(plain, false)).status).toBe(200);
    const { first, then, readiness } = await whileHanging(proxy, plain, false);
    for (const answer of [...first, ...then]) {
      expect(answer.status).toBe(200);
      expect(answer.json.cards?.length).toBeGreaterThan(0);
    }
    expect(Math.max(...first.map((a) => a.ms))).toBeLessThan(timeoutMs * 2);
    expect(Math.max(...then.map((a) => a.ms))).toBeLessThan(timeoutMs / 2);
    expect(readiness.status).toBe(503);
    expect((await answeredAgain(plain, false, timeoutMs + 3000)).status).toBe(200);
    expect(plain.child.exitCode).toBeNull();
  });
});
