/**
 * A FHIR server stand-in for `npm run bench`'s fallback scenarios, run as its own process: a plain
 * `node:http` server whose answers were computed before the run (by the bench, from the Medplum test
 * server) and are looked up by path and query, each answered after a fixed delay. Keep-alive on.
 *
 *   STUB_PORT      port on 127.0.0.1 (default 3911)
 *   STUB_DATA      JSON file `{ "bodies": { "<path>?<query>": <JSON text> } }` (paths relative to the base)
 *   STUB_DELAY_MS  delay before every answer (default 50)
 *   STUB_BATCH     `1`: the CapabilityStatement declares `batch`, and `POST /` answers a batch Bundle with
 *                  a batch-response of the entries' precomputed bodies, after ONE delay
 *
 * `GET /metadata` answers a CapabilityStatement (no delay); an unknown URL a 404 OperationOutcome.
 * On SIGTERM it prints to stderr how many requests it answered, when any of them was unknown.
 */
import { readFileSync } from 'node:fs';
import { createServer, type ServerResponse } from 'node:http';

/** `Observation?b=2&a=1` and `/Observation?a=1&b=2` are the same search: path without slashes, sorted query. */
export function stubKey(pathAndQuery: string): string {
  const [path = '', query = ''] = pathAndQuery.split('?', 2);
  const params = new URLSearchParams(query);
  params.sort();
  const sorted = params.toString();
  return `${path.replace(/^\/+|\/+$/g, '')}${sorted ? `?${sorted}` : ''}`;
}

const FHIR_JSON = 'application/fhir+json; charset=utf-8';

const notFound = (url: string) => ({
  resourceType: 'OperationOutcome',
  issue: [{ severity: 'error', code: 'not-found', diagnostics: `No precomputed answer for ${url}` }],
});

function main(): void {
  const port = Number(process.env.STUB_PORT ?? 3911);
  const delayMs = Number(process.env.STUB_DELAY_MS ?? 50);
  const batch = process.env.STUB_BATCH === '1';
  const dataFile = process.env.STUB_DATA;
  if (!dataFile) throw new Error('STUB_DATA: the file of precomputed answers is required');
  const data = JSON.parse(readFileSync(dataFile, 'utf8')) as { bodies: Record<string, string> };
  const bodies = new Map(Object.entries(data.bodies).map(([key, text]) => [stubKey(key), text]));
  const counts = { requests: 0, unknown: 0 };
  const unknownSeen: string[] = [];

  const metadata = JSON.stringify({
    resourceType: 'CapabilityStatement',
    status: 'active',
    date: '2026-01-01',
    kind: 'instance',
    software: { name: 'pvp-cds bench FHIR stub' },
    fhirVersion: '4.0.1',
    format: ['json'],
    rest: [{ mode: 'server', ...(batch ? { interaction: [{ code: 'batch' }] } : {}) }],
  });

  const send = (res: ServerResponse, status: number, text: string) => {
    res.writeHead(status, { 'content-type': FHIR_JSON, 'content-length': Buffer.byteLength(text) });
    res.end(text);
  };
  const later = (fn: () => void) => setTimeout(fn, delayMs);
  const lookup = (url: string): string | undefined => {
    const text = bodies.get(stubKey(url));
    if (text === undefined) {
      counts.unknown++;
      if (unknownSeen.length < 5) {
        unknownSeen.push(url);
        process.stderr.write(`fhir-stub: unknown ${url}\n`);
      }
    }
    return text;
  };

  const server = createServer((req, res) => {
    const url = req.url ?? '/';
    if (req.method === 'GET' && url.split('?')[0] === '/metadata') {
      send(res, 200, metadata);
      return;
    }
    counts.requests++;
    if (req.method === 'GET') {
      const text = lookup(url);
      later(() =>
        text === undefined ? send(res, 404, JSON.stringify(notFound(url))) : send(res, 200, text),
      );
      return;
    }
    if (req.method === 'POST' && batch && (url === '/' || url === '')) {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => {
        let bundle: {
          resourceType?: string;
          type?: string;
          entry?: Array<{ request?: { method?: string; url?: string } }>;
        };
        try {
          bundle = JSON.parse(Buffer.concat(chunks).toString('utf8'));
        } catch {
          later(() => send(res, 400, JSON.stringify(notFound('POST / (invalid JSON)'))));
          return;
        }
        if (bundle.resourceType !== 'Bundle' || bundle.type !== 'batch') {
          later(() => send(res, 400, JSON.stringify(notFound('POST / (not a batch Bundle)'))));
          return;
        }
        // Spliced as text: the bodies are JSON already, and the stub should cost next to nothing.
        const entries = (bundle.entry ?? []).map((e) => {
          const target = e.request?.url ?? '';
          const text = e.request?.method === 'GET' ? lookup(target) : undefined;
          return text === undefined
            ? JSON.stringify({ response: { status: '404 Not Found', outcome: notFound(target) } })
            : `{"resource":${text},"response":{"status":"200 OK"}}`;
        });
        const answer = `{"resourceType":"Bundle","type":"batch-response","entry":[${entries.join(',')}]}`;
        later(() => send(res, 200, answer));
      });
      return;
    }
    later(() => send(res, 404, JSON.stringify(notFound(`${req.method} ${url}`))));
  });
  server.keepAliveTimeout = 60_000;
  server.headersTimeout = 65_000;
  server.listen(port, '127.0.0.1');
  process.on('SIGTERM', () => {
    if (counts.unknown > 0)
      process.stderr.write(`fhir-stub: ${counts.requests} requests, ${counts.unknown} unknown\n`);
    server.closeAllConnections();
    server.close(() => process.exit(0));
  });
}

if (import.meta.main) main();
