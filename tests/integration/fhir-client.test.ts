/**
 * The FHIR client (src/fhir/client.ts) against real https servers on loopback: what EHRs run in
 * production. It trusts the system's certificate authorities only, sends the bearer token, decodes the
 * compressed answers it asks for and charges the budget their decoded bytes, keeps its connection
 * alive between reads, and stops a body that is still arriving at the deadline.
 */
import { readFileSync } from 'node:fs';
import type { ServerResponse } from 'node:http';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { getCACertificates, setDefaultCACertificates } from 'node:tls';
import { brotliCompressSync, deflateSync, gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  COUNT_ENTRIES_FROM_BYTES,
  createFhirReader,
  FhirReadFailed,
  readBudget,
} from '../../src/fhir/client.ts';

const tls = (name: string) => ({
  key: readFileSync(join(import.meta.dirname, '../support/tls', `test-only-${name}-localhost.key.pem`)),
  cert: readFileSync(join(import.meta.dirname, '../support/tls', `test-only-${name}-localhost.cert.pem`)),
});

const bundle = {
  resourceType: 'Bundle',
  type: 'searchset',
  entry: Array.from({ length: 30 }, (_, i) => ({
    resource: { resourceType: 'Observation', id: `o${i}`, status: 'final', code: { text: 'Body weight' } },
  })),
};
const text = JSON.stringify(bundle);
const encoders: Record<string, (body: string) => Buffer> = {
  identity: (body) => Buffer.from(body),
  gzip: (body) => gzipSync(body),
  deflate: (body) => deflateSync(body),
  br: (body) => brotliCompressSync(body),
  // Two codings, applied in the order named: gzip first, then br.
  'gzip, br': (body) => brotliCompressSync(gzipSync(body)),
};

/** What `streamSearchset` sent of its last answer before the client closed the connection (or all of it). */
const streamed = { sent: 0, total: 0 };

/** A searchset of `count` entries written as the client reads it (never faster), counting what was sent. */
function streamSearchset(res: ServerResponse, count: number): void {
  const entry = (i: number) =>
    `${i === 0 ? '' : ','}{"resource":{"resourceType":"Observation","id":"s${i}","status":"final","code":{"text":"Body weight"}}}`;
  const head = '{"resourceType":"Bundle","type":"searchset","entry":[';
  streamed.sent = 0;
  streamed.total = Buffer.byteLength(head) + 2;
  for (let i = 0; i < count; i++) streamed.total += Buffer.byteLength(entry(i));
  res.writeHead(200, { 'content-type': 'application/fhir+json' });
  let i = 0;
  const write = (text: string) => {
    streamed.sent += Buffer.byteLength(text);
    return res.write(text);
  };
  const more = () => {
    let open = i > 0 || write(head);
    while (open && i < count) open = write(entry(i++));
    if (i === count) res.end(']}');
    else res.once('drain', more);
  };
  res.once('close', () => res.removeAllListeners('drain'));
  more();
}

interface Seen {
  authorization?: string;
  acceptEncoding?: string;
}

async function listen(server: Server): Promise<string> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `https://localhost:${(server.address() as AddressInfo).port}/fhir`;
}

let trusted: Server;
let untrusted: Server;
let trustedUrl: string;
let untrustedUrl: string;
const seen: Seen[] = [];
let connections = 0;
/** Requests each connection has carried, and those `?reset=` destroyed instead of answering. */
const carried = new WeakMap<object, number>();
const resets = { reused: 0, all: 0 };

beforeAll(async () => {
  setDefaultCACertificates([...getCACertificates('default'), tls('trusted').cert.toString()]);
  trusted = createServer(tls('trusted'), (req, res) => {
    seen.push({ authorization: req.headers.authorization, acceptEncoding: req.headers['accept-encoding'] });
    const url = new URL(req.url ?? '/', 'https://localhost');
    const before = carried.get(req.socket) ?? 0;
    carried.set(req.socket, before + 1);
    // A server closing a kept-alive connection as the next request arrives on it (`reused`), or every one.
    const reset = url.searchParams.get('reset');
    if ((reset === 'reused' && before > 0) || reset === 'all') {
      resets[reset]++;
      req.socket.destroy();
      return;
    }
    if (url.searchParams.has('entries')) {
      streamSearchset(res, Number(url.searchParams.get('entries')));
      return;
    }
    if (url.searchParams.has('trickle')) {
      // The head and the first bytes at once, then nothing: the body is still arriving at the deadline.
      res.writeHead(200, { 'content-type': 'application/fhir+json' });
      res.write(text.slice(0, 100));
      return;
    }
    const coding = url.searchParams.get('coding') ?? 'identity';
    const encode = encoders[coding] ?? encoders.identity;
    res.writeHead(200, {
      'content-type': 'application/fhir+json; charset=utf-8',
      ...(coding === 'identity' ? {} : { 'content-encoding': coding }),
    });
    res.end(encode?.(text));
  });
  trusted.on('secureConnection', () => {
    connections++;
  });
  untrusted = createServer(tls('untrusted'), (_req, res) => {
    res.writeHead(200, { 'content-type': 'application/fhir+json' });
    res.end(text);
  });
  [trustedUrl, untrustedUrl] = await Promise.all([listen(trusted), listen(untrusted)]);
});

afterAll(() => {
  for (const server of [trusted, untrusted]) {
    server.closeAllConnections();
    server.close();
  }
});

const never = () => new AbortController().signal;

describe('the FHIR client over https', () => {
  it.each(Object.keys(encoders))('reads an answer sent with content-encoding %s', async (coding) => {
    const budget = readBudget({ bytes: 1_000_000, entries: 100 });
    const reader = createFhirReader(trustedUrl, 'the-ehr-token');
    const json = await reader.get(`Observation?coding=${encodeURIComponent(coding)}`, never(), budget);
    expect(json).toEqual(bundle);
    // The budget is charged what the answer decodes to, whatever crossed the wire.
    expect(budget.bytes).toBe(1_000_000 - Buffer.byteLength(text));
    expect(budget.entries).toBe(70);
    expect(seen.at(-1)).toEqual({
      authorization: 'Bearer the-ehr-token',
      acceptEncoding: 'gzip, deflate, br',
    });
  });

  it('keeps one connection alive for reads one after another', async () => {
    const reader = createFhirReader(trustedUrl);
    await reader.get('Observation', never(), readBudget({ bytes: 1_000_000, entries: 100 }));
    const before = connections;
    for (let i = 0; i < 3; i++) {
      await reader.get('Observation', never(), readBudget({ bytes: 1_000_000, entries: 100 }));
    }
    expect(connections).toBe(before);
  });

  it('sends a read again, on a new connection, when the server closed the kept-alive one under it', async () => {
    const reader = createFhirReader(trustedUrl);
    const budget = () => readBudget({ bytes: 1_000_000, entries: 100 });
    await reader.get('Observation?reset=reused', never(), budget());
    const before = { connections, resets: resets.reused };
    expect(await reader.get('Observation?reset=reused', never(), budget())).toEqual(bundle);
    expect(resets.reused).toBe(before.resets + 1);
    expect(connections).toBe(before.connections + 1);
  });

  it('sends it again once only: a server that resets every connection is a connection failure', async () => {
    const reader = createFhirReader(trustedUrl);
    // Two connections kept alive: the second attempt goes out on the other one, reused too.
    await Promise.all(
      [1, 2].map(() => reader.get('Observation', never(), readBudget({ bytes: 1_000_000, entries: 100 }))),
    );
    const before = resets.all;
    const read = reader.get('Observation?reset=all', never(), readBudget({ bytes: 1_000_000, entries: 100 }));
    await expect(read).rejects.toMatchObject({ problem: { kind: 'connection' } });
    expect(resets.all).toBe(before + 2);
  });

  it('refuses a server whose certificate no trusted authority signed: a connection failure', async () => {
    const reader = createFhirReader(untrustedUrl, 'the-ehr-token');
    const read = reader.get('Observation', never(), readBudget({ bytes: 1_000_000, entries: 100 }));
    await expect(read).rejects.toThrow(FhirReadFailed);
    await expect(read).rejects.toMatchObject({ problem: { kind: 'connection' } });
  });

  it('stops a body still arriving at the deadline', async () => {
    const reader = createFhirReader(trustedUrl);
    const started = performance.now();
    const read = reader.get(
      'Observation?trickle=1',
      AbortSignal.timeout(300),
      readBudget({ bytes: 1_000_000, entries: 100 }),
    );
    await expect(read).rejects.toMatchObject({ problem: { kind: 'deadline' } });
    expect(performance.now() - started).toBeLessThan(2000);
  });

  it('refuses an answer of more entries than the cap, counted after parsing when it is small', async () => {
    const reader = createFhirReader(trustedUrl);
    const read = reader.get(
      'Observation?entries=150',
      never(),
      readBudget({ bytes: 1_000_000, entries: 100 }),
    );
    await expect(read).rejects.toMatchObject({ problem: { kind: 'too-many-entries', limit: 100 } });
    expect(streamed.total).toBeLessThan(COUNT_ENTRIES_FROM_BYTES);
  });

  it('stops reading a large answer soon after the entry cap, long before its end', async () => {
    const reader = createFhirReader(trustedUrl);
    const budget = readBudget({ bytes: 64 * 1024 * 1024, entries: 100 });
    const read = reader.get('Observation?entries=100000', never(), budget);
    await expect(read).rejects.toMatchObject({ problem: { kind: 'too-many-entries', limit: 100 } });
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(streamed.total).toBeGreaterThan(10 * 1024 * 1024);
    expect(streamed.sent).toBeLessThan(4 * COUNT_ENTRIES_FROM_BYTES);
  });

  it('refuses a gzip answer that decodes past the byte budget, however small it is on the wire', async () => {
    const reader = createFhirReader(trustedUrl);
    const budget = readBudget({ bytes: Buffer.byteLength(text) - 1, entries: 100 });
    expect(gzipSync(text).byteLength).toBeLessThan(budget.bytes);
    await expect(reader.get('Observation?coding=gzip', never(), budget)).rejects.toMatchObject({
      problem: { kind: 'too-many-bytes', limit: Buffer.byteLength(text) - 1 },
    });
  });
});
