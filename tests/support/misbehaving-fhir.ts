/**
 * Real FHIR servers that misbehave, on 127.0.0.1 and an ephemeral port, base URL
 * `http://127.0.0.1:<port>/fhir`: plain node:http, so each answer is exactly what a broken, hostile or
 * overloaded server sends on the wire.
 *
 * Behaviours (for every request, or only for those whose decoded `path?query` under the base matches
 * `only`; the others are proxied to `upstream`, a real FHIR server such as startFhirServer's, with its base
 * URL rewritten to ours in the body so its links stay on this server):
 * - `html`: 200 text/html (a login page). `invalid-json`: 200 application/fhir+json, JSON cut short.
 * - `outcome-200`: 200 with an OperationOutcome instead of the resource or searchset.
 * - `huge-searchset`: 200 searchset of `entries` (default 50,000) resources of the path's type, streamed
 *   in chunks honouring backpressure; `streams` records the bytes written and whether the client closed
 *   before the end.
 * - `looping-next`: a searchset (also for a read) whose `next` link is the request's own URL.
 * - `trickle`: status line and headers, then one byte of body per second. `silent`: never answers.
 * - `redirect`: 302 to the same path on `redirectTo` (another server's base URL).
 * - `status`: `status` (default 500) with an OperationOutcome; 429 and 503 carry `Retry-After: 120`,
 *   401 `WWW-Authenticate: Bearer`.
 * - `reset`: the socket is reset without an answer.
 * - `wrong-type`: every search a searchset of the patient's Observations; the Patient read an Observation.
 * - `gzip-bomb`: `Content-Encoding: gzip` whatever the request accepts: 64 KiB that decode to a searchset
 *   padded with 64 MiB of whitespace (compressed once per process, before the server listens: compressing
 *   per request would keep the libuv thread pool busy, since so little output never meets backpressure).
 * Every request is recorded (method, path under the base, raw query, `performance.now()` on arrival).
 * `close()` destroys every socket, hanging ones included, and stops every timer and stream.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGzip } from 'node:zlib';

const FHIR_JSON = 'application/fhir+json';
const BASE_PATH = '/fhir';

export type Behaviour =
  | 'html'
  | 'invalid-json'
  | 'outcome-200'
  | 'huge-searchset'
  | 'looping-next'
  | 'trickle'
  | 'silent'
  | 'redirect'
  | 'status'
  | 'reset'
  | 'wrong-type'
  | 'gzip-bomb';

export interface MisbehavingOptions {
  behaviour: Behaviour;
  /** For `status`: the HTTP status to answer (default 500). */
  status?: number;
  /** For `redirect`: the base URL the `Location` points into, e.g. another server's `baseUrl`. */
  redirectTo?: string;
  /** For `huge-searchset`: how many entries each searchset has (default 50,000). */
  entries?: number;
  /** Misbehave only for requests whose decoded `path?query` under the base matches; proxy the others. */
  only?: RegExp;
  /** Base URL to proxy requests that `only` does not match to (required with `only`). */
  upstream?: string;
}

export interface SeenRequest {
  method: string;
  /** Path under the base URL, e.g. `/Observation` or `/Patient/pvp-low-risk`. */
  path: string;
  /** The raw query string, without `?`. */
  query: string;
  /** `performance.now()` when the request arrived. */
  at: number;
  /** Whether it was proxied to `upstream` rather than misbehaved on. */
  proxied: boolean;
}

/** One `huge-searchset` answer. */
export interface StreamRecord {
  path: string;
  /** Bytes of the full body. */
  totalBytes: number;
  /** Bytes handed to the socket so far. */
  bytesWritten: number;
  /** The connection closed before the whole body was written. */
  clientClosedEarly: boolean;
  /** The whole body was written. */
  finished: boolean;
}

export interface MisbehavingFhir {
  /** e.g. `http://127.0.0.1:43817/fhir`, no trailing slash. */
  readonly baseUrl: string;
  readonly requests: SeenRequest[];
  readonly streams: StreamRecord[];
  close(): Promise<void>;
}

const issueCodes: Record<number, string> = {
  401: 'login',
  403: 'forbidden',
  404: 'not-found',
  429: 'throttled',
};

function outcomeJson(status: number, text: string): string {
  const code = issueCodes[status] ?? 'exception';
  return JSON.stringify({
    resourceType: 'OperationOutcome',
    issue: [{ severity: 'error', code, details: { text } }],
  });
}

function send(
  res: ServerResponse,
  status: number,
  contentType: string,
  body: string | Buffer,
  headers = {},
): void {
  res.writeHead(status, {
    'content-type': contentType,
    'content-length': Buffer.byteLength(body),
    ...headers,
  });
  res.end(body);
}

let bomb: Promise<Buffer> | undefined;

/** A searchset with 64 MiB of whitespace before its end, gzipped (about 64 KiB). */
function gzipBomb(): Promise<Buffer> {
  bomb ??= (async () => {
    const spaces = Buffer.alloc(1024 * 1024, ' ');
    async function* body() {
      yield Buffer.from('{"resourceType":"Bundle","type":"searchset","entry":[');
      for (let i = 0; i < 64; i++) yield spaces;
      yield Buffer.from(']}');
    }
    const chunks: Buffer[] = [];
    await pipeline(
      Readable.from(body()),
      createGzip({ level: 9 }),
      async (compressed: AsyncIterable<Buffer>) => {
        for await (const chunk of compressed) chunks.push(chunk);
      },
    );
    return Buffer.concat(chunks);
  })();
  return bomb;
}

const padding = `<div xmlns="http://www.w3.org/1999/xhtml">${'padding '.repeat(40)}</div>`;

/** A resource of `type` for the patient (a Patient is the patient). */
function resourceOf(type: string, id: string, patientId: string, padded = false): Record<string, unknown> {
  const text = padded ? { text: { status: 'generated', div: padding } } : {};
  if (type === 'Patient') return { resourceType: 'Patient', id, ...text, gender: 'female' };
  return { resourceType: type, id, ...text, subject: { reference: `Patient/${patientId}` } };
}

function observationOf(id: string, patientId: string): Record<string, unknown> {
  return {
    resourceType: 'Observation',
    id,
    status: 'final',
    code: { coding: [{ system: 'http://loinc.org', code: '39156-5', display: 'Body mass index' }] },
    subject: { reference: `Patient/${patientId}` },
    effectiveDateTime: '2026-10-01',
    valueQuantity: { value: 24.1, unit: 'kg/m2', system: 'http://unitsofmeasure.org', code: 'kg/m2' },
  };
}

function searchset(selfUrl: string, resources: Record<string, unknown>[], baseUrl: string, next?: string) {
  return JSON.stringify({
    resourceType: 'Bundle',
    type: 'searchset',
    total: resources.length,
    link: [{ relation: 'self', url: selfUrl }, ...(next ? [{ relation: 'next', url: next }] : [])],
    entry: resources.map((resource) => ({
      fullUrl: `${baseUrl}/${resource.resourceType}/${resource.id}`,
      resource,
      search: { mode: 'match' },
    })),
  });
}

/** Resolves on `drain` or when the response closes, whichever comes first. */
function drained(res: ServerResponse): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      res.off('drain', done);
      res.off('close', done);
      resolve();
    };
    res.on('drain', done);
    res.on('close', done);
  });
}

export async function startMisbehavingFhir(options: MisbehavingOptions): Promise<MisbehavingFhir> {
  if (options.only && !options.upstream) throw new Error('`only` needs an `upstream` to proxy the rest to');
  if (options.behaviour === 'redirect' && !options.redirectTo)
    throw new Error('`redirect` needs `redirectTo`');
  const requests: SeenRequest[] = [];
  const streams: StreamRecord[] = [];
  const sockets = new Set<Socket>();
  const timers = new Set<NodeJS.Timeout>();
  const upstream = options.upstream?.replace(/\/+$/, '');
  let baseUrl = '';

  async function proxy(req: IncomingMessage, res: ServerResponse, target: string, body: Buffer) {
    const headers: Record<string, string> = {};
    for (const name of ['accept', 'authorization', 'content-type']) {
      const value = req.headers[name];
      if (typeof value === 'string') headers[name] = value;
    }
    try {
      const answer = await fetch(`${upstream}${target}`, {
        method: req.method ?? 'GET',
        headers,
        ...(req.method === 'POST' ? { body: new Uint8Array(body) } : {}),
      });
      const text = (await answer.text()).replaceAll(upstream ?? '', baseUrl);
      send(res, answer.status, answer.headers.get('content-type') ?? FHIR_JSON, text);
    } catch {
      if (!res.headersSent) send(res, 502, FHIR_JSON, outcomeJson(502, 'Upstream FHIR server failed'));
    }
  }

  async function streamHuge(
    res: ServerResponse,
    path: string,
    type: string,
    patientId: string,
    self: string,
  ) {
    const count = options.entries ?? 50_000;
    const entry = (i: number) => {
      const id = `huge-${String(i).padStart(7, '0')}`;
      const resource = resourceOf(type, id, patientId, true);
      return JSON.stringify({ fullUrl: `${baseUrl}/${type}/${id}`, resource, search: { mode: 'match' } });
    };
    const head = JSON.stringify({
      resourceType: 'Bundle',
      type: 'searchset',
      total: count,
      link: [{ relation: 'self', url: self }],
    }).replace(/}$/, ',"entry":[');
    const tail = ']}';
    const record: StreamRecord = {
      path,
      // Ids are zero-padded, so every entry has the same length.
      totalBytes: Buffer.byteLength(head) + count * Buffer.byteLength(entry(0)) + (count - 1) + tail.length,
      bytesWritten: 0,
      clientClosedEarly: false,
      finished: false,
    };
    streams.push(record);
    res.on('finish', () => {
      record.finished = true;
    });
    res.on('close', () => {
      record.clientClosedEarly = !record.finished;
    });
    res.writeHead(200, { 'content-type': FHIR_JSON });
    const write = async (chunk: string) => {
      if (res.destroyed) return;
      record.bytesWritten += Buffer.byteLength(chunk);
      if (!res.write(chunk)) await drained(res);
    };
    await write(head);
    for (let start = 0; start < count && !res.destroyed; start += 200) {
      const end = Math.min(count, start + 200);
      const chunk: string[] = [];
      for (let i = start; i < end; i++) chunk.push(entry(i));
      await write(`${start > 0 ? ',' : ''}${chunk.join(',')}`);
    }
    if (res.destroyed) return;
    record.bytesWritten += tail.length;
    res.end(tail);
  }

  function trickle(res: ServerResponse, body: string) {
    res.writeHead(200, { 'content-type': FHIR_JSON });
    res.flushHeaders();
    let sent = 0;
    const timer = setInterval(() => {
      if (res.destroyed || sent >= body.length) {
        clearInterval(timer);
        timers.delete(timer);
        if (!res.destroyed) res.end();
        return;
      }
      res.write(body.slice(sent, sent + 1));
      sent += 1;
    }, 1000);
    timers.add(timer);
    res.on('close', () => {
      clearInterval(timer);
      timers.delete(timer);
    });
  }

  async function misbehave(req: IncomingMessage, res: ServerResponse, path: string, params: URLSearchParams) {
    const [, type = 'Bundle', readId] = path.split('/');
    const isRead = readId !== undefined && readId !== '_search';
    const patientId = type === 'Patient' && isRead ? readId : (params.get('patient') ?? 'unknown');
    const self = `${baseUrl}${path}${params.size > 0 ? `?${params}` : ''}`;
    switch (options.behaviour) {
      case 'html':
        send(
          res,
          200,
          'text/html; charset=utf-8',
          '<!doctype html><html><body><h1>Sign in</h1></body></html>',
        );
        return;
      case 'invalid-json':
        send(res, 200, FHIR_JSON, '{"resourceType":"Bundle","type":"searchset","entry":[{"resource":{"resou');
        return;
      case 'outcome-200':
        send(res, 200, FHIR_JSON, outcomeJson(500, 'The search could not be completed'));
        return;
      case 'huge-searchset':
        await streamHuge(res, path, type, patientId, self);
        return;
      case 'looping-next':
        send(res, 200, FHIR_JSON, searchset(self, [resourceOf(type, 'loop-1', patientId)], baseUrl, self));
        return;
      case 'trickle':
        trickle(res, searchset(self, [], baseUrl));
        return;
      case 'silent':
        return;
      case 'redirect':
        res.writeHead(302, {
          location: `${options.redirectTo}${path}${params.size > 0 ? `?${params}` : ''}`,
        });
        res.end();
        return;
      case 'status': {
        const status = options.status ?? 500;
        const headers: Record<string, string> =
          status === 401
            ? { 'www-authenticate': 'Bearer' }
            : [429, 503].includes(status)
              ? { 'retry-after': '120' }
              : {};
        send(res, status, FHIR_JSON, outcomeJson(status, `HTTP ${status}`), headers);
        return;
      }
      case 'reset':
        req.socket.resetAndDestroy();
        return;
      case 'wrong-type': {
        const observations = [observationOf('wrong-1', patientId), observationOf('wrong-2', patientId)];
        const body =
          type === 'Patient' && isRead
            ? JSON.stringify(observations[0])
            : searchset(self, observations, baseUrl);
        send(res, 200, FHIR_JSON, body);
        return;
      }
      case 'gzip-bomb':
        send(res, 200, FHIR_JSON, await gzipBomb(), { 'content-encoding': 'gzip' });
        return;
    }
  }

  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://fhir.invalid');
    const path = url.pathname.startsWith(BASE_PATH)
      ? url.pathname.slice(BASE_PATH.length) || '/'
      : url.pathname;
    const query = url.search.replace(/^\?/, '');
    const target = decodeURIComponent(`${path}?${url.searchParams}`.replaceAll('+', ' '));
    const proxied = options.only !== undefined && !options.only.test(target);
    requests.push({ method: req.method ?? 'GET', path, query, at: performance.now(), proxied });
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      const work = proxied
        ? proxy(req, res, `${path}${url.search}`, body)
        : misbehave(
            req,
            res,
            path,
            new URLSearchParams([...url.searchParams, ...new URLSearchParams(String(body))]),
          );
      work.catch(() => res.destroy());
    });
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  if (options.behaviour === 'gzip-bomb') await gzipBomb();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}${BASE_PATH}`;

  return {
    baseUrl,
    requests,
    streams,
    close: () =>
      new Promise<void>((resolve) => {
        for (const timer of timers) clearInterval(timer);
        timers.clear();
        server.close(() => resolve());
        server.closeAllConnections();
        for (const socket of sockets) socket.destroy();
      }),
  };
}
