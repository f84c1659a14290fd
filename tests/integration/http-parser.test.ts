/**
 * What Node's HTTP parser refuses before the app sees it gets the same kind of answer as every other
 * refusal: its status and an OperationOutcome, from the service as deployed (its own process).
 */
import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ServiceProcess, startServiceProcess } from '../support/service-process.ts';
import { embedded } from '../support/stores.ts';

let service: ServiceProcess;
beforeAll(async () => {
  service = await startServiceProcess({ ...(await embedded.place()), CDS_AUTH: 'off' });
});
afterAll(() => service.stop('SIGKILL'));

/** Sends raw bytes on a new connection; resolves with everything the server sent before it closed. */
function raw(bytes: string): Promise<string> {
  const { port, hostname } = new URL(service.url);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), hostname, () => socket.write(bytes));
    let answer = '';
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => {
      answer += chunk;
    });
    socket.on('end', () => resolve(answer));
    socket.on('error', reject);
  });
}

function outcomeIn(answer: string) {
  const [head, body] = answer.split('\r\n\r\n');
  expect(head).toMatch(/\r\ncontent-type: application\/fhir\+json; charset=utf-8\r\n/i);
  expect(head).toMatch(/\r\nconnection: close/i);
  return JSON.parse(body ?? '') as {
    resourceType: string;
    issue: Array<{ code: string; diagnostics: string }>;
  };
}

describe("requests Node's HTTP parser refuses", () => {
  it('431 with an OperationOutcome for headers over 16 KiB', async () => {
    const response = await fetch(`${service.url}/cds-services`, {
      headers: { 'x-padding': 'a'.repeat(20_000) },
    });
    expect(response.status).toBe(431);
    expect(response.headers.get('content-type')).toBe('application/fhir+json; charset=utf-8');
    expect(await response.json()).toEqual({
      resourceType: 'OperationOutcome',
      issue: [
        {
          severity: 'error',
          code: 'too-costly',
          diagnostics: 'The request headers are larger than this service accepts.',
        },
      ],
    });
  });

  it('400 with an OperationOutcome for a request line or a header that is not HTTP', async () => {
    for (const bytes of ['GARBAGE\r\n\r\n', 'GET /healthz HTTP/1.1\r\nHost: x\r\nBad Header\r\n\r\n']) {
      const answer = await raw(bytes);
      expect(answer).toMatch(/^HTTP\/1\.1 400 Bad Request\r\n/);
      expect(outcomeIn(answer)).toMatchObject({
        resourceType: 'OperationOutcome',
        issue: [{ code: 'invalid', diagnostics: 'The request is not well-formed HTTP.' }],
      });
    }
  });

  it('keeps serving afterwards, and counts them apart from the routes', async () => {
    expect((await fetch(`${service.url}/healthz`)).status).toBe(200);
    const metrics = await (await fetch(`${service.url}/metrics`)).text();
    expect(metrics).toContain('pvp_cds_http_responses_total{route="unparsed",status="431"} 1');
    expect(metrics).toContain('pvp_cds_http_responses_total{route="unparsed",status="400"} 2');
  });
});
