/**
 * `npm run fire` (scripts/fire.ts) as a developer runs it: a child process calling the real service with
 * authentication on, trusting through its clients file the key made for this test that the script signs
 * with; a second clients file also names a FHIR server, so the service reads that server itself
 * (--no-prefetch).
 */
import { spawn } from 'node:child_process';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createLocalJWKSet, decodeProtectedHeader, type JSONWebKeySet, jwtVerify } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { usage } from '../../scripts/fire.ts';
import { hookResponseSchema } from '../../src/cds-hooks/schemas.ts';
import { prefetchTemplates } from '../../src/services/patient-data.ts';
import { type RunningApp, startApp } from '../support/app.ts';
import { signingKey } from '../support/ehr-client.ts';
import { readFixture, startFhirServer, type TestFhirServer } from '../support/fhir-server.ts';
import { cardKind } from '../support/hook-calls.ts';

const script = fileURLToPath(new URL('../../scripts/fire.ts', import.meta.url));
/** The EHR fire signs as: a key made for this test, trusted through the services' clients files. */
const ehr = { iss: 'https://fire-test-ehr.example.org', key: signingKey('ES384') };
const keyDir = await mkdtemp(join(tmpdir(), 'pvp-cds-fire-key-'));
const keyFile = join(keyDir, 'fire-test-client.key.pem');
await writeFile(keyFile, ehr.key.privateKey.export({ type: 'pkcs8', format: 'pem' }));
const ehrJwks = { keys: [ehr.key.publicJwk] } as JSONWebKeySet;

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** The script in its own process, with stdout a pipe (so without colours, whatever the runner's FORCE_COLOR). */
function fire(...args: string[]): Promise<Run> {
  const env = {
    ...Object.fromEntries(Object.entries(process.env).filter(([key]) => key !== 'FORCE_COLOR')),
    FIRE_KEY_FILE: keyFile,
    FIRE_ISS: ehr.iss,
    FIRE_KID: ehr.key.kid,
  };
  const child = spawn(process.execPath, [script, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    stdout += chunk;
  });
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
    stderr += chunk;
  });
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, stdout, stderr }));
  });
}

const listening = (server: Server) => `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

let app: RunningApp;
let ehrApp: RunningApp;
let fhir: TestFhirServer;

beforeAll(async () => {
  fhir = await startFhirServer();
  await fhir.load(await readFixture('high-rbp-risk'));
  const dir = await mkdtemp(join(tmpdir(), 'pvp-cds-fire-'));
  const clientsFile = (name: string, fhirServers: string[]) => {
    const path = join(dir, name);
    return writeFile(path, JSON.stringify({ clients: [{ iss: ehr.iss, jwks: ehrJwks, fhirServers }] })).then(
      () => path,
    );
  };
  [app, ehrApp] = await Promise.all([
    clientsFile('clients.json', []).then((file) => startApp({ CDS_AUTH: 'on', CDS_CLIENTS_FILE: file })),
    clientsFile('clients-fhir.json', [fhir.baseUrl]).then((file) =>
      startApp({ CDS_AUTH: 'on', CDS_CLIENTS_FILE: file }),
    ),
  ]);
});
afterAll(async () => {
  await Promise.all([app.close(), ehrApp.close(), fhir.close()]);
});

describe('the cards as a clinician reads them', () => {
  it('order-sign: indicator, summary, factors with points, tier, detail, suggestions, source', async () => {
    const run = await fire('--patient', 'high-rbp-risk', '--hook', 'order-sign', '--url', app.url);
    expect(run).toMatchObject({ code: 0, stderr: '' });
    const out = run.stdout;
    expect(out).toMatch(/^pvp-risk-order-sign for high-rbp-risk \(Patient\/pvp-high-rbp-risk\): 3 cards$/m);
    expect(out).toContain('[WARNING] Residual back pain risk after PVP/PKP: high (7 pts): Depression');
    expect(out).toMatch(/^ {2}depression {17}\+2$/m);
    expect(out).toMatch(/^ {2}no-anti-osteoporosis-drug {2}\+1$/m);
    expect(out).toMatch(/^ {2}thoracolumbar-junction {5}\+2$/m);
    expect(out).toContain('  tier: high (7 points, model rbp-v1)');
    expect(out).toContain('  tier: high (10 points, model refracture-v1)');
    expect(out).toContain('  not assessed: intravertebral-cleft, fascia-injury');
    expect(out).toContain('    • Order a PHQ-9 depression screen (recommended)');
    expect(out).toContain('        Add to the orders: PHQ-9 depression questionnaire');
    expect(out).toContain('    • Order alendronate 70 mg orally once weekly (recommended)');
    expect(out).toContain(`  Source: pvp-cds: residual back pain model rbp-v1 (version 1.1.0) →`);
    expect(out).toContain(`${app.url}/models/rbp-v1`);
    // The detail: its table as one item a row, its links as numbered targets, no markdown left.
    expect(out).toContain('    • Depression (diagnosis, or latest PHQ-9 ≥ 10) — Patient: yes · Points: 2');
    expect(out).toMatch(/^ {4}\[1\] https:\/\/pubmed\.ncbi\.nlm\.nih\.gov\/31561662\/$/m);
    expect(out).not.toMatch(/\*\*|\|---|\]\(/);
    expect(out).not.toContain('\x1b[');
    expect(Math.max(...out.split('\n').map((line) => line.length))).toBeLessThanOrEqual(100);
  });

  it('--json prints the answer only, a valid CDS Hooks response', async () => {
    const run = await fire('--patient', 'high-rbp-risk', '--hook', 'order-sign', '--url', app.url, '--json');
    expect(run).toMatchObject({ code: 0, stderr: '' });
    const { cards } = hookResponseSchema.parse(JSON.parse(run.stdout));
    expect(cards.map(cardKind)).toEqual(['residual-pain-risk', 'refracture-risk', 'treatment-gap']);
  });

  it('--lang zh-CN gives the cards in Chinese, wrapped between characters', async () => {
    const run = await fire(
      '--patient',
      'high-rbp-risk',
      '--hook',
      'order-sign',
      '--lang',
      'zh-CN',
      '--url',
      app.url,
    );
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('[WARNING] 椎体强化术后残余腰背痛风险：高（7 分）');
    expect(run.stdout).toMatch(/^ {2}depression {17}\+2$/m);
    // Two columns a Chinese character: no line longer than 100 columns.
    const columns = (line: string) =>
      [...line].reduce((n, c) => n + (/[\u3000-\u9fff\uff00-\uffef]/.test(c) ? 2 : 1), 0);
    expect(Math.max(...run.stdout.split('\n').map(columns))).toBeLessThanOrEqual(100);
  });

  it('patient-view: a critical card, and a patient without cards', async () => {
    const overdue = await fire('--patient', 'denosumab-stopped', '--hook', 'patient-view', '--url', app.url);
    expect(overdue.code).toBe(0);
    expect(overdue.stdout).toContain('[CRITICAL] Denosumab overdue');
    const none = await fire('--patient', 'low-risk', '--hook', 'patient-view', '--url', app.url);
    expect(none).toMatchObject({
      code: 0,
      stdout: 'pvp-risk-patient-view for low-risk (Patient/pvp-low-risk): no cards\n',
    });
  });

  it('order-select, and --order as a file path', async () => {
    const selected = await fire('--patient', 'high-rbp-risk', '--hook', 'order-select', '--url', app.url);
    expect(selected.code).toBe(0);
    expect(selected.stdout).toContain('pvp-risk-order-select for high-rbp-risk');
    expect(selected.stdout).toContain('Residual back pain risk after PVP/PKP: high (7 pts)');
    const file = join(await mkdtemp(join(tmpdir(), 'pvp-cds-fire-')), 'drafts.json');
    await writeFile(file, JSON.stringify(await readFixture('low-risk.draft-orders')));
    const signed = await fire(
      '--patient',
      'low-risk',
      '--hook',
      'order-sign',
      '--order',
      file,
      '--url',
      app.url,
    );
    expect(signed.code).toBe(0);
    expect(signed.stdout).toContain('  tier: low (0 points, model rbp-v1)');
  });
});

describe('the request', () => {
  it('is signed as the configured client, for the exact URL called; order-select names each draft', async () => {
    const received: Array<{ url: string; headers: Record<string, unknown>; body: string }> = [];
    const capture = createServer((req, res) => {
      let body = '';
      req.setEncoding('utf8').on('data', (chunk: string) => {
        body += chunk;
      });
      req.on('end', () => {
        received.push({ url: req.url ?? '', headers: req.headers, body });
        res.writeHead(200, { 'content-type': 'application/json' }).end('{"cards":[]}');
      });
    });
    await new Promise<void>((resolve) => capture.listen(0, '127.0.0.1', resolve));
    try {
      const url = listening(capture);
      const run = await fire(
        '--patient',
        'high-rbp-risk',
        '--hook',
        'order-select',
        '--url',
        `${url}/`,
        '--lang',
        'zh-CN',
      );
      expect(run.code).toBe(0);
      const [request] = received;
      expect(request?.url).toBe('/cds-services/pvp-risk-order-select');
      expect(request?.headers['accept-language']).toBe('zh-CN');
      const token = String(request?.headers.authorization).replace(/^Bearer /, '');
      expect(decodeProtectedHeader(token)).toEqual({ alg: 'ES384', typ: 'JWT', kid: ehr.key.kid });
      const { payload } = await jwtVerify(token, createLocalJWKSet(ehrJwks), {
        issuer: ehr.iss,
        audience: `${url}/cds-services/pvp-risk-order-select`,
      });
      expect(Object.keys(payload).sort()).toEqual(['aud', 'exp', 'iat', 'iss', 'jti']);
      expect(Number(payload.exp) - Number(payload.iat)).toBe(300);
      expect(payload.jti).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
      const body = JSON.parse(request?.body ?? '{}');
      expect(body).toMatchObject({
        hook: 'order-select',
        context: {
          userId: 'Practitioner/pvp-demo-clinician',
          patientId: 'pvp-high-rbp-risk',
          selections: ['ServiceRequest/pvp-high-rbp-risk-draft-vertebroplasty-l1'],
          draftOrders: await readFixture('high-rbp-risk.draft-orders'),
        },
      });
      expect(body.fhirServer).toBeUndefined();
      expect(Object.keys(body.prefetch).sort()).toEqual(Object.keys(prefetchTemplates).sort());
    } finally {
      await new Promise<void>((resolve) => capture.close(() => resolve()));
    }
  });

  it('--no-prefetch names the FHIR server, which the service reads itself', async () => {
    const before = fhir.requests.length;
    const run = await fire(
      '--patient',
      'high-rbp-risk',
      '--hook',
      'order-sign',
      '--no-prefetch',
      '--fhir',
      fhir.baseUrl,
      '--url',
      ehrApp.url,
    );
    expect(run).toMatchObject({ code: 0, stderr: '' });
    expect(run.stdout).toContain('[WARNING] Residual back pain risk after PVP/PKP: high (7 pts)');
    expect(run.stdout).toContain('  tier: high (10 points, model refracture-v1)');
    expect(fhir.requests.length).toBeGreaterThan(before);
  });
});

describe('failures', () => {
  it('a refusal: the status and the OperationOutcome diagnostics, exit 1', async () => {
    // This client may not name this FHIR server: the service does not call it, and says so.
    const before = fhir.requests.length;
    const run = await fire(
      '--patient',
      'high-rbp-risk',
      '--hook',
      'patient-view',
      '--no-prefetch',
      '--fhir',
      fhir.baseUrl,
      '--url',
      app.url,
    );
    expect(run.code).toBe(1);
    expect(run.stdout).toBe('');
    expect(run.stderr).toContain('pvp-cds answered HTTP 412 Precondition Failed');
    expect(run.stderr).toContain('names a fhirServer this client is not trusted to name');
    expect(run.stderr).toContain('npm run demo');
    expect(fhir.requests.length).toBe(before);
  });

  it('the service not running: where it was looked for and how to start it, exit 1', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const url = listening(closed);
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    const run = await fire('--patient', 'high-rbp-risk', '--hook', 'order-sign', '--url', url);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain(`pvp-cds is not running at ${url}`);
    expect(run.stderr).toContain('`npm start`');
  });

  it('an unknown patient: exit 2 and the scenarios there are', async () => {
    const run = await fire('--patient', 'nobody', '--hook', 'patient-view', '--url', app.url);
    expect(run.code).toBe(2);
    const list = /Scenarios: (.*)$/m.exec(run.stderr)?.[1]?.split(', ');
    expect(list).toContain('high-rbp-risk');
    expect(list).toContain('low-risk');
    expect(list?.some((name) => name.includes('.') || name === 'expectations')).toBe(false);
  });

  it('usage mistakes exit 2: no draft orders for order-sign, an unknown hook or option', async () => {
    const noDrafts = await fire(
      '--patient',
      'long-term-prednisone',
      '--hook',
      'order-sign',
      '--url',
      app.url,
    );
    expect(noDrafts.code).toBe(2);
    expect(noDrafts.stderr).toContain('long-term-prednisone has no draft orders');
    expect(noDrafts.stderr).toContain('high-rbp-risk.draft-orders');
    expect((await fire('--patient', 'low-risk', '--hook', 'order-dispatch')).code).toBe(2);
    expect((await fire('--patient', 'low-risk', '--hook', 'patient-view', '--bogus')).code).toBe(2);
  });

  it('--help prints the usage', async () => {
    expect(await fire('--help')).toEqual({ code: 0, stdout: usage, stderr: '' });
  });
});
