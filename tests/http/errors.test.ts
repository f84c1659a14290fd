import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningApp, startApp } from '../support/app.ts';

let app: RunningApp;
beforeAll(async () => {
  app = await startApp({ BODY_LIMIT_BYTES: '4096' });
});
afterAll(() => app.close());

const patientView = {
  hook: 'patient-view',
  hookInstance: 'd1577c69-dfbe-44ad-ba6d-3e05e953b2ea',
  context: { userId: 'Practitioner/1', patientId: 'p1' },
  prefetch: {},
};

async function outcome(response: Response) {
  expect(response.headers.get('content-type')).toContain('application/fhir+json');
  const body = (await response.json()) as {
    resourceType: string;
    issue: Array<{ severity: string; code: string; diagnostics: string; expression?: string[] }>;
  };
  expect(body.resourceType).toBe('OperationOutcome');
  expect(JSON.stringify(body)).not.toMatch(/at .+\.ts:\d+|node_modules|Error:/);
  const [issue] = body.issue;
  if (!issue) throw new Error('OperationOutcome without an issue');
  return issue;
}

describe('every error is a status code and an OperationOutcome naming the problem', () => {
  it('404 for an unknown service', async () => {
    const res = await app.post('/cds-services/no-such-service', patientView);
    expect(res.status).toBe(404);
    expect((await outcome(res)).diagnostics).toContain("'no-such-service'");
  });

  it('404 for an unknown path', async () => {
    const res = await fetch(`${app.url}/nothing-here`);
    expect(res.status).toBe(404);
    expect((await outcome(res)).code).toBe('not-found');
  });

  it('400 for a body that is not JSON', async () => {
    const res = await app.post('/cds-services/pvp-risk-patient-view', '{"hook": "patient-view",');
    expect(res.status).toBe(400);
    expect((await outcome(res)).diagnostics).toMatch(/not valid JSON/);
  });

  it('400 for a body sent as another content type', async () => {
    const res = await app.post('/cds-services/pvp-risk-patient-view', JSON.stringify(patientView), {
      'content-type': 'text/plain',
    });
    expect(res.status).toBe(400);
    expect((await outcome(res)).diagnostics).toMatch(/must be JSON/);
  });

  it('400 for the wrong hook for the service', async () => {
    const res = await app.post('/cds-services/pvp-risk-order-sign', patientView);
    expect(res.status).toBe(400);
    const issue = await outcome(res);
    expect(issue.diagnostics).toContain("answers the 'order-sign' hook, not 'patient-view'");
    expect(issue.expression).toEqual(['hook']);
  });

  it('400 naming the missing context field', async () => {
    const res = await app.post('/cds-services/pvp-risk-patient-view', {
      ...patientView,
      context: { userId: 'Practitioner/1' },
    });
    expect(res.status).toBe(400);
    expect((await outcome(res)).expression).toEqual(['context.patientId']);
  });

  it('400 for order-sign without draftOrders', async () => {
    const res = await app.post('/cds-services/pvp-risk-order-sign', { ...patientView, hook: 'order-sign' });
    expect(res.status).toBe(400);
    expect((await outcome(res)).expression).toEqual(['context.draftOrders']);
  });

  it('400 for a missing hookInstance and for fhirAuthorization without fhirServer', async () => {
    const { hookInstance: _, ...noInstance } = patientView;
    const missing = await app.post('/cds-services/pvp-risk-patient-view', noInstance);
    expect(missing.status).toBe(400);
    expect((await outcome(missing)).expression).toEqual(['hookInstance']);
    const orphan = await app.post('/cds-services/pvp-risk-patient-view', {
      ...patientView,
      fhirAuthorization: { access_token: 'secret-token', token_type: 'Bearer' },
    });
    expect(orphan.status).toBe(400);
    const issue = await outcome(orphan);
    expect(issue.expression).toEqual(['fhirServer']);
    expect(issue.diagnostics).not.toContain('secret-token');
  });

  it('400 for a hookInstance the ledger could not store: a NUL, half a surrogate pair, a document', async () => {
    for (const hookInstance of ['d1577c69\u0000', 'd1577c69\ud800', 'x'.repeat(257)]) {
      const res = await app.post('/cds-services/pvp-risk-patient-view', { ...patientView, hookInstance });
      expect(res.status).toBe(400);
      const issue = await outcome(res);
      expect(issue.expression).toEqual(['hookInstance']);
      expect(issue.diagnostics).toMatch(/^Invalid CDS Hooks request: hookInstance: /);
    }
    const urn = await app.post('/cds-services/pvp-risk-patient-view', {
      ...patientView,
      hookInstance: 'urn:uuid:d1577c69-dfbe-44ad-ba6d-3e05e953b2ea',
    });
    expect(urn.status).toBe(412);
  });

  it('400 for a patientId that is not a FHIR id (it would be pasted into query URLs)', async () => {
    const res = await app.post('/cds-services/pvp-risk-patient-view', {
      ...patientView,
      context: { userId: 'Practitioner/1', patientId: '1&_include=*' },
    });
    expect(res.status).toBe(400);
    expect((await outcome(res)).expression).toEqual(['context.patientId']);
  });

  it('413 for an oversized body', async () => {
    const res = await app.post('/cds-services/pvp-risk-patient-view', {
      ...patientView,
      padding: 'x'.repeat(5000),
    });
    expect(res.status).toBe(413);
    expect((await outcome(res)).code).toBe('too-costly');
  });

  it('412 naming every key when there is neither prefetch nor a FHIR server', async () => {
    const res = await app.post('/cds-services/pvp-risk-patient-view', patientView);
    expect(res.status).toBe(412);
    const issue = await outcome(res);
    expect(issue.expression).toEqual([
      'patient',
      'observations',
      'conditions',
      'procedures',
      'medicationRequests',
    ]);
    expect(issue.diagnostics).toMatch(
      /neither usable prefetch for these keys nor a fhirServer.*patient: not sent; observations: not sent/,
    );
  });

  it('tolerates unknown fields everywhere', async () => {
    const res = await app.post('/cds-services/pvp-risk-patient-view', {
      ...patientView,
      extraTopLevel: true,
      context: { ...patientView.context, vendorThing: { a: 1 } },
      prefetch: {
        patient: { resourceType: 'Patient', id: 'p1', gender: 'male' },
        observations: null,
        conditions: null,
        procedures: null,
        medicationRequests: null,
      },
    });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ cards: [] });
  });
});

describe('malformed requests are 4xx, never 5xx', () => {
  const prefetch = {
    patient: { resourceType: 'Patient', id: 'p1', gender: 'male' },
    observations: null,
    conditions: null,
    procedures: null,
    medicationRequests: null,
  };
  const withPrefetch = (changes: Record<string, unknown>) => ({
    ...patientView,
    prefetch: { ...prefetch, ...changes },
  });

  it.each([
    ['gzip', /could not be decoded as its Content-Encoding says/],
    ['deflate', /could not be decoded as its Content-Encoding says/],
    ['br', /could not be decoded as its Content-Encoding says/],
  ])('400 for a body that is not the %s it claims to be', async (encoding, message) => {
    const res = await app.post('/cds-services/pvp-risk-patient-view', patientView, {
      'content-encoding': encoding,
    });
    expect(res.status).toBe(400);
    expect((await outcome(res)).diagnostics).toMatch(message);
  });

  it('accepts a body that really is gzip', async () => {
    const res = await fetch(`${app.url}/cds-services/pvp-risk-patient-view`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'content-encoding': 'gzip' },
      body: gzipSync(JSON.stringify(withPrefetch({}))),
    });
    expect(res.status).toBe(200);
  });

  it('415 for an unknown Content-Encoding or a charset other than UTF-8', async () => {
    const encoded = await app.post('/cds-services/pvp-risk-patient-view', patientView, {
      'content-encoding': 'x-snappy',
    });
    expect(encoded.status).toBe(415);
    expect((await outcome(encoded)).code).toBe('not-supported');
    const latin1 = await app.post('/cds-services/pvp-risk-patient-view', patientView, {
      'content-type': 'application/json; charset=latin1',
    });
    expect(latin1.status).toBe(415);
    expect((await outcome(latin1)).diagnostics).toMatch(/UTF-8/);
  });

  it('400 for a malformed percent-encoding in a path, without a token', async () => {
    const res = await fetch(`${app.url}/models/%ZZ`);
    expect(res.status).toBe(400);
    expect((await outcome(res)).diagnostics).toMatch(/malformed percent-encoding/);
  });

  it.each([
    [
      'entry is an object',
      { resourceType: 'Bundle', type: 'searchset', entry: { resource: {} } },
      /entry must be an array/,
    ],
    [
      'link is not an array',
      { resourceType: 'Bundle', type: 'searchset', link: 'next' },
      /link must be an array/,
    ],
    [
      'link holds null',
      { resourceType: 'Bundle', type: 'searchset', link: [null] },
      /every link must be an object/,
    ],
    [
      'entry holds a number',
      { resourceType: 'Bundle', type: 'searchset', entry: [1] },
      /every entry must be an object/,
    ],
    [
      'only resources of another type',
      { resourceType: 'Bundle', entry: [{ resource: { resourceType: 'Patient' } }] },
      /none of them Condition/,
    ],
    ['not a resource', [{ resourceType: 'Condition' }], /not a FHIR resource/],
  ])(
    '412 naming the key and the problem when a prefetch Bundle cannot be read: %s',
    async (_, conditions, problem) => {
      const res = await app.post('/cds-services/pvp-risk-patient-view', withPrefetch({ conditions }));
      expect(res.status).toBe(412);
      const issue = await outcome(res);
      expect(issue.expression).toEqual(['conditions']);
      expect(issue.diagnostics).toMatch(/conditions as sent: /);
      expect(issue.diagnostics).toMatch(problem);
    },
  );

  it('412 when the patient key holds no Patient of the patient in context', async () => {
    for (const patient of [null, { resourceType: 'Patient', id: 'someone-else' }]) {
      const res = await app.post('/cds-services/pvp-risk-patient-view', withPrefetch({ patient }));
      expect(res.status).toBe(412);
      const issue = await outcome(res);
      expect(issue.expression).toEqual(['patient']);
      expect(issue.diagnostics).toMatch(/patient as sent: no resource of the patient in context/);
    }
  });
});

describe('browser clients and headers', () => {
  it('answers a CORS preflight without credentials', async () => {
    const res = await fetch(`${app.url}/cds-services/pvp-risk-patient-view`, {
      method: 'OPTIONS',
      headers: { origin: 'https://sandbox.cds-hooks.org', 'access-control-request-method': 'POST' },
    });
    expect(res.status).toBe(204);
    expect(res.headers.get('access-control-allow-origin')).toBe('*');
    expect(res.headers.get('access-control-allow-headers')).toMatch(/Authorization/);
    expect(res.headers.get('access-control-allow-methods')).toMatch(/POST/);
  });

  it('sends security headers and no x-powered-by', async () => {
    const res = await fetch(`${app.url}/cds-services`);
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
    expect(res.headers.get('x-powered-by')).toBeNull();
  });
});
