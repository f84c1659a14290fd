/**
 * helmet's headers worked out once (src/http/security-headers.ts): every response gets exactly what
 * helmet itself would set with the same options, on real HTTP servers; a policy that depends on the
 * request is refused rather than frozen.
 */
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import express, { type RequestHandler } from 'express';
import helmet, { type HelmetOptions } from 'helmet';
import { afterAll, describe, expect, it } from 'vitest';
import { answerSecurityOptions, securityHeaders } from '../../src/http/security-headers.ts';

const servers: Server[] = [];
afterAll(async () => {
  await Promise.all(servers.map((server) => new Promise((resolve) => server.close(resolve))));
});

/** The headers of a JSON answer and of a page that sets its own policy, from an app using `headers`. */
async function headersFrom(headers: RequestHandler): Promise<Array<[string, string][]>> {
  const app = express();
  app.use(headers);
  app.get('/answer', (_req, res) => {
    res.json({ cards: [] });
  });
  app.get('/page', (_req, res) => {
    res
      .set('Content-Security-Policy', "default-src 'none'; style-src 'self'")
      .type('html')
      .send('<p>page</p>');
  });
  const server = app.listen(0, '127.0.0.1');
  servers.push(server);
  await new Promise((resolve) => server.once('listening', resolve));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const varying = new Set(['date', 'etag', 'connection', 'keep-alive']);
  return Promise.all(
    ['/answer', '/page'].map(async (path) => {
      const response = await fetch(`${base}${path}`);
      await response.arrayBuffer();
      return [...response.headers].filter(([name]) => !varying.has(name));
    }),
  );
}

describe('security headers worked out once', () => {
  it.each([
    ['the service’s own', answerSecurityOptions],
    ['helmet’s defaults', {}],
    [
      'HSTS off, a report-only policy',
      { strictTransportSecurity: false, contentSecurityPolicy: { reportOnly: true } },
    ],
  ] as Array<[string, HelmetOptions]>)('are helmet’s own with %s options', async (_name, options) => {
    const [fromHelmet, once] = await Promise.all([
      headersFrom(helmet(options)),
      headersFrom(securityHeaders(options)),
    ]);
    expect(once).toEqual(fromHelmet);
  });

  it('give every answer the service’s policy: nothing may load, nothing may frame it, no referrer', async () => {
    const [answer] = await headersFrom(securityHeaders(answerSecurityOptions));
    const headers = new Map(answer);
    expect(headers.get('content-security-policy')).toBe("default-src 'none';frame-ancestors 'none'");
    expect(headers.get('x-frame-options')).toBe('DENY');
    expect(headers.get('referrer-policy')).toBe('no-referrer');
    expect(headers.get('cross-origin-resource-policy')).toBe('cross-origin');
    expect(headers.get('x-content-type-options')).toBe('nosniff');
    expect(headers.get('strict-transport-security')).toMatch(/^max-age=\d+; includeSubDomains$/);
  });

  it('refuse a policy that depends on the request (a nonce) instead of freezing its first value', () => {
    const nonce: HelmetOptions = {
      contentSecurityPolicy: { directives: { scriptSrc: ["'self'", () => `'nonce-${Math.random()}'`] } },
    };
    expect(() => securityHeaders(nonce)).toThrow(/depends on the request/);
  });
});
