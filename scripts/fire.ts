/**
 * `npm run fire`: one real CDS Hooks call to a running pvp-cds, for a scenario of `fhir-fixtures/`, signed
 * as a CDS client of the service's clients file signs (FIRE_KEY_FILE, FIRE_ISS, FIRE_KID), or unsigned
 * for a service with CDS_AUTH=off, and the cards printed as a clinician reads them.
 * With prefetch (the default) the scenario is loaded into an in-process FHIR server and the full prefetch
 * is computed from the service's own templates, as an EHR would; with --no-prefetch the request names a
 * FHIR server instead (`npm run demo`'s by default) and the service reads it itself.
 */
import { randomUUID } from 'node:crypto';
import { readdir, readFile, stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import { parseArgs, stripVTControlCharacters, styleText } from 'node:util';
import type { Bundle, OperationOutcome } from 'fhir/r4';
import { importPKCS8, SignJWT } from 'jose';
import { z } from 'zod';
import { type Card, hookResponseSchema } from '../src/cds-hooks/schemas.ts';
import { readFixture, startFhirServer } from '../tests/support/fhir-server.ts';
import { fullPrefetch, patientIdOf } from '../tests/support/hook-calls.ts';

export const usage = `Usage: npm run fire -- --patient <scenario> --hook <hook> [options]

Sends one CDS Hooks call to a running pvp-cds and prints the cards as a clinician reads them.

  --patient <scenario>  a scenario of fhir-fixtures/, e.g. high-rbp-risk
  --hook <hook>         patient-view, order-sign or order-select
  --order <file>        the draft orders (order-sign, order-select): a Bundle file, or a fixture
                        such as high-rbp-risk.draft-orders; default <scenario>.draft-orders
  --no-prefetch         send no prefetch but fhirServer: the service reads the FHIR server itself
  --fhir <url>          that FHIR server (default http://127.0.0.1:8080/fhir, npm run demo's)
  --lang <locale>       Accept-Language, e.g. zh-CN
  --json                print the response body only, as JSON
  --url <url>           the service (default http://localhost:3000)
  -h, --help            this text

Unsigned for a service started with CDS_AUTH=off; signed (ES384, 5 minutes) as a client of its
CDS_CLIENTS_FILE with FIRE_KEY_FILE (PKCS#8 PEM), FIRE_ISS and FIRE_KID in the environment.
Exit status: 0 answered, 1 the call failed, 2 a usage error.
`;

const services = {
  'patient-view': 'pvp-risk-patient-view',
  'order-sign': 'pvp-risk-order-sign',
  'order-select': 'pvp-risk-order-select',
} as const;
type HookName = keyof typeof services;

const userId = 'Practitioner/pvp-demo-clinician';
const fixtures = new URL('../fhir-fixtures/', import.meta.url);
const answerTimeoutMs = 30_000;

/** A mistake in the command line: exit 2. */
class UsageError extends Error {}
/** The call did not give cards: exit 1. */
class CallFailed extends Error {}

interface Options {
  scenario: string;
  patientId: string;
  hook: HookName;
  draftOrders: Bundle | undefined;
  fhirServer: string | undefined;
  lang: string | undefined;
  json: boolean;
  serviceUrl: string;
}

function httpUrl(value: string, option: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new UsageError(`--${option} ${value} is not a URL`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new UsageError(`--${option} must be an http or https URL`);
  }
  return value.replace(/\/+$/, '');
}

async function readJson(file: URL | string): Promise<unknown> {
  return JSON.parse(await readFile(file, 'utf8'));
}

/** Scenario names: the fixtures that are transaction Bundles (not drafts, foreign records or expectations). */
async function scenarios(): Promise<string[]> {
  const names = (await readdir(fixtures)).filter((f) => /^[a-z0-9-]+\.json$/.test(f)).sort();
  const bundles = await Promise.all(
    names.map(async (name) => ({ name, json: (await readJson(new URL(name, fixtures))) as Partial<Bundle> })),
  );
  return bundles
    .filter(({ json }) => json.resourceType === 'Bundle' && json.type === 'transaction')
    .map(({ name }) => name.replace(/\.json$/, ''));
}

async function isFile(path: string | URL): Promise<boolean> {
  try {
    return (await stat(path)).isFile();
  } catch {
    return false;
  }
}

/** `--order`: a file (relative to where npm was run) or a fixture name; default the scenario's drafts. */
async function draftOrdersOf(scenario: string, order: string | undefined): Promise<Bundle> {
  const name = order ?? `${scenario}.draft-orders`;
  const path = resolve(process.env.INIT_CWD ?? process.cwd(), name);
  const fixture = new URL(`${name.replace(/\.json$/, '')}.json`, fixtures);
  const file = order !== undefined && (await isFile(path)) ? path : fixture;
  if (!(await isFile(file))) {
    const drafts = (await readdir(fixtures))
      .filter((f) => f.endsWith('.draft-orders.json'))
      .map((f) => f.replace(/\.json$/, ''))
      .sort();
    const what =
      order === undefined ? `${scenario} has no draft orders (${name})` : `no file or fixture ${name}`;
    throw new UsageError(`${what}; give --order <file>. Draft-order fixtures: ${drafts.join(', ')}`);
  }
  let bundle: Partial<Bundle>;
  try {
    bundle = (await readJson(file)) as Partial<Bundle>;
  } catch {
    throw new UsageError(`${name} is not JSON`);
  }
  if (bundle.resourceType !== 'Bundle') throw new UsageError(`${name} is not a FHIR Bundle`);
  return bundle as Bundle;
}

function parse(args: string[]) {
  try {
    return parseArgs({
      args,
      allowNegative: true,
      options: {
        patient: { type: 'string' },
        hook: { type: 'string' },
        order: { type: 'string' },
        prefetch: { type: 'boolean', default: true },
        fhir: { type: 'string', default: 'http://127.0.0.1:8080/fhir' },
        lang: { type: 'string' },
        json: { type: 'boolean', default: false },
        url: { type: 'string', default: 'http://localhost:3000' },
        help: { type: 'boolean', short: 'h', default: false },
      },
    }).values;
  } catch (error) {
    throw new UsageError(error instanceof Error ? error.message : String(error));
  }
}

async function parseOptions(args: string[]): Promise<Options | 'help'> {
  const parsed = parse(args);
  if (parsed.help) return 'help';
  const hookNames = Object.keys(services).join(', ');
  if (parsed.patient === undefined) throw new UsageError('--patient <scenario> is required');
  if (parsed.hook === undefined) throw new UsageError(`--hook is required: ${hookNames}`);
  const hook = parsed.hook;
  if (!(hook in services)) throw new UsageError(`unknown hook ${hook}: ${hookNames}`);
  const known = await scenarios();
  if (!known.includes(parsed.patient)) {
    throw new UsageError(`unknown patient ${parsed.patient}. Scenarios: ${known.join(', ')}`);
  }
  const withOrders = hook === 'order-sign' || hook === 'order-select';
  if (!withOrders && parsed.order !== undefined) {
    throw new UsageError('--order is for order-sign and order-select');
  }
  return {
    scenario: parsed.patient,
    patientId: await patientIdOf(parsed.patient),
    hook: hook as HookName,
    draftOrders: withOrders ? await draftOrdersOf(parsed.patient, parsed.order) : undefined,
    fhirServer: parsed.prefetch ? undefined : httpUrl(parsed.fhir, 'fhir'),
    lang: parsed.lang,
    json: parsed.json,
    serviceUrl: httpUrl(parsed.url, 'url'),
  };
}

/** The prefetch an EHR would send: the scenario in a FHIR server of our own, searched with the templates. */
async function prefetchOf(scenario: string, patientId: string): Promise<Record<string, unknown>> {
  const fhir = await startFhirServer();
  try {
    await fhir.load(await readFixture(scenario));
    return await fullPrefetch(fhir.baseUrl, patientId);
  } finally {
    await fhir.close();
  }
}

function contextOf(options: Options): Record<string, unknown> {
  const context: Record<string, unknown> = { userId, patientId: options.patientId };
  if (options.hook === 'order-select') {
    context.selections = (options.draftOrders?.entry ?? []).flatMap(({ resource }) =>
      resource?.id ? [`${resource.resourceType}/${resource.id}`] : [],
    );
  }
  if (options.draftOrders) context.draftOrders = options.draftOrders;
  return context;
}

/**
 * `Authorization: Bearer <JWT>` as a CDS client signs (ES384, 5 minutes, the exact URL as audience), when
 * FIRE_KEY_FILE, FIRE_ISS and FIRE_KID name a client of the service's clients file; none otherwise.
 */
async function authorization(audience: string): Promise<Record<string, string>> {
  const { FIRE_KEY_FILE: keyFile, FIRE_ISS: iss, FIRE_KID: kid } = process.env;
  if (!keyFile) return {};
  if (!iss || !kid) throw new UsageError('FIRE_KEY_FILE needs FIRE_ISS and FIRE_KID');
  const key = await importPKCS8(await readFile(keyFile, 'utf8'), 'ES384');
  const iat = Math.floor(Date.now() / 1000);
  const token = await new SignJWT()
    .setProtectedHeader({ alg: 'ES384', typ: 'JWT', kid })
    .setIssuer(iss)
    .setAudience(audience)
    .setIssuedAt(iat)
    .setExpirationTime(iat + 300)
    .setJti(randomUUID())
    .sign(key);
  return { authorization: `Bearer ${token}` };
}

/** Why fetch failed: the system error code (an AggregateError's when IPv6 and IPv4 both failed), or its message. */
function networkProblem(error: unknown): string {
  const cause =
    error instanceof Error ? (error.cause as Error & { code?: unknown; errors?: unknown[] }) : undefined;
  const code = cause?.code ?? (cause?.errors?.[0] as { code?: unknown } | undefined)?.code;
  if (typeof code === 'string') return code;
  return cause instanceof Error ? cause.message : String(error);
}

interface Answer {
  status: number;
  statusText: string;
  text: string;
}

async function call(options: Options): Promise<Answer> {
  const url = `${options.serviceUrl}/cds-services/${services[options.hook]}`;
  const body = {
    hook: options.hook,
    hookInstance: randomUUID(),
    ...(options.fhirServer ? { fhirServer: options.fhirServer } : {}),
    context: contextOf(options),
    ...(options.fhirServer ? {} : { prefetch: await prefetchOf(options.scenario, options.patientId) }),
  };
  const signed = await authorization(url);
  let response: Response;
  try {
    response = await fetch(url, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        accept: 'application/json',
        ...signed,
        ...(options.lang ? { 'accept-language': options.lang } : {}),
      },
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(answerTimeoutMs),
    });
  } catch (error) {
    if (error instanceof DOMException && error.name === 'TimeoutError') {
      throw new CallFailed(
        `pvp-cds at ${options.serviceUrl} did not answer within ${answerTimeoutMs / 1000} s`,
      );
    }
    const problem = networkProblem(error);
    if (problem === 'ECONNREFUSED') {
      throw new CallFailed(
        `pvp-cds is not running at ${options.serviceUrl}. Start it in another terminal with \`npm start\` ` +
          '(or `npm run demo`, which also serves the FHIR server for --no-prefetch), or give --url.',
      );
    }
    throw new CallFailed(`cannot reach pvp-cds at ${options.serviceUrl}: ${problem}`);
  }
  return { status: response.status, statusText: response.statusText, text: await response.text() };
}

/** A refusal: the status, what the OperationOutcome says, and what to do when it is a usual mistake. */
function failure({ status, statusText, text }: Answer, options: Options): string {
  let diagnostics: string[];
  try {
    const outcome = JSON.parse(text) as Partial<OperationOutcome>;
    diagnostics = (outcome.issue ?? []).flatMap((i) => i.diagnostics ?? i.details?.text ?? []);
  } catch {
    diagnostics = text.trim() ? [text.trim()] : [];
  }
  const hint: string[] = [];
  if (status === 401) {
    hint.push(
      'The service wants a client JWT: start it with CDS_AUTH=off (development), or set FIRE_KEY_FILE, ' +
        'FIRE_ISS and FIRE_KID to a client of its CDS_CLIENTS_FILE.',
    );
  } else if (status === 412 && options.fhirServer) {
    hint.push(
      `With --no-prefetch the service reads ${options.fhirServer} itself: \`npm run demo\` serves the ` +
        'fixtures at the default --fhir, and the service calls only FHIR servers it trusts for the client.',
    );
  }
  return [`pvp-cds answered HTTP ${status} ${statusText}`, ...diagnostics.map((d) => `  ${d}`), ...hint].join(
    '\n',
  );
}

const wideRanges =
  '\\u1100-\\u115f\\u2e80-\\u303e\\u3041-\\u33ff\\u3400-\\u4dbf\\u4e00-\\u9fff\\ua000-\\ua4cf\\uac00-\\ud7a3' +
  '\\uf900-\\ufaff\\ufe30-\\ufe4f\\uff00-\\uff60\\uffe0-\\uffe6\\u{20000}-\\u{3fffd}';
const wide = new RegExp(`[${wideRanges}]`, 'u');
/**
 * What a line may break between: spaces, and runs of narrow characters or single wide (CJK) characters,
 * each with the punctuation that must not start a line after it or end a line before it.
 */
const token = new RegExp(
  `\\s+|[（「『【《“]*(?:[${wideRanges}]|[^\\s${wideRanges}]+)[，。、；：！？）」』】》”]*`,
  'gu',
);

/** Columns a string takes in a terminal: CJK characters take two, ANSI styles none. */
function displayWidth(text: string): number {
  let width = 0;
  for (const char of stripVTControlCharacters(text)) width += wide.test(char) ? 2 : 1;
  return width;
}

/** Wraps at spaces, and between CJK characters (Chinese has no spaces), to `width` columns. */
function wrap(text: string, width: number, first: string, rest: string = first): string[] {
  const lines: string[] = [];
  let line = first;
  let used = displayWidth(first);
  let empty = true;
  let space = false;
  for (const piece of text.match(token) ?? []) {
    if (/^\s/.test(piece)) {
      space = !empty;
      continue;
    }
    const size = displayWidth(piece);
    const gap = space ? 1 : 0;
    if (!empty && used + gap + size > width) {
      lines.push(line);
      line = rest + piece;
      used = displayWidth(rest) + size;
    } else {
      line += (space ? ' ' : '') + piece;
      used += gap + size;
    }
    empty = false;
    space = false;
  }
  lines.push(line);
  return lines;
}

const bold = (text: string) => styleText('bold', text);

/** Inline markdown: bold and italics styled, code unquoted, links numbered as footnotes. */
function inline(text: string, notes: string[]): string {
  return text
    .replace(/\[([^\]]+)\]\(([^)\s]+)\)/g, (_all, label: string, url: string) => {
      const known = notes.indexOf(url);
      const n = known >= 0 ? known + 1 : notes.push(url);
      return `${label} [${n}]`;
    })
    .replace(/\*\*(.+?)\*\*/g, (_all, inner: string) => bold(inner))
    .replace(/(?<!\w)_(.+?)_(?!\w)/g, (_all, inner: string) => styleText('italic', inner))
    .replace(/`([^`]+)`/g, '$1');
}

/** `joined`: the block follows the previous one without a blank line (a list under its heading). */
type Block = { joined: boolean } & (
  | { kind: 'paragraph'; text: string }
  | { kind: 'list'; items: Array<{ bullet: string; text: string }> }
  | { kind: 'table'; header: string[]; rows: string[][] }
);

const cells = (row: string) =>
  row
    .replace(/^\||\|$/g, '')
    .split('|')
    .map((cell) => cell.trim());

/** The markdown a card's detail uses: paragraphs, lists and tables. */
function blocksOf(markdown: string): Block[] {
  const blocks: Block[] = [];
  let current: Block | undefined;
  const start = (block: Block) => {
    blocks.push(block);
    current = block;
  };
  for (const line of markdown.split('\n')) {
    const text = line.trim();
    const item = /^(?:[-*]|(\d+\.))\s+(.*)$/.exec(text);
    const joined = current !== undefined;
    if (text === '') {
      current = undefined;
    } else if (/^\|.*\|$/.test(text)) {
      if (/^\|[\s:|-]+\|$/.test(text)) continue;
      if (current?.kind === 'table') current.rows.push(cells(text));
      else start({ joined, kind: 'table', header: cells(text), rows: [] });
    } else if (item) {
      const entry = { bullet: item[1] ?? '•', text: item[2] ?? '' };
      if (current?.kind === 'list') current.items.push(entry);
      else start({ joined, kind: 'list', items: [entry] });
    } else if (current?.kind === 'paragraph') {
      current.text += ` ${text}`;
    } else {
      start({ joined, kind: 'paragraph', text });
    }
  }
  return blocks;
}

/** One block, wrapped; a table row becomes one item: "first cell — header: cell · header: cell". */
function renderBlock(block: Block, width: number, indent: string, notes: string[]): string[] {
  switch (block.kind) {
    case 'paragraph':
      return wrap(inline(block.text, notes), width, indent);
    case 'list':
      return block.items.flatMap(({ bullet, text }) =>
        wrap(inline(text, notes), width, `${indent}${bullet} `, `${indent}${' '.repeat(bullet.length + 1)}`),
      );
    case 'table':
      return block.rows.flatMap(([lead = '', ...rest]) => {
        const facts = rest.flatMap((cell, i) => (cell ? [`${block.header[i + 1] ?? ''}: ${cell}`] : []));
        return wrap(inline(`${lead} — ${facts.join(' · ')}`, notes), width, `${indent}• `, `${indent}  `);
      });
  }
}

/** A card's markdown detail, indented, with the targets of its links listed after it. */
function renderDetail(markdown: string, width: number, indent: string): string[] {
  const notes: string[] = [];
  const lines = blocksOf(markdown).flatMap((block, i) => [
    ...(i === 0 || block.joined ? [] : ['']),
    ...renderBlock(block, width, indent, notes),
  ]);
  return notes.length > 0 ? [...lines, '', ...notes.map((url, i) => `${indent}[${i + 1}] ${url}`)] : lines;
}

const assessmentSchema = z.object({
  kind: z.string(),
  model: z.string().optional(),
  points: z.number().optional(),
  tier: z.string().optional(),
  factors: z.array(z.object({ id: z.string(), points: z.number() })),
  notAssessed: z.array(z.string()),
});

/** `extension["pvp-cds.assessment"]`: each scoring factor with its points, the tier, what was not assessed. */
function renderAssessment(card: Card, width: number): string[] {
  const parsed = assessmentSchema.safeParse(card.extension?.['pvp-cds.assessment']);
  if (!parsed.success) return [];
  const { model, points, tier, factors, notAssessed } = parsed.data;
  const column = Math.max(0, ...factors.map((f) => f.id.length)) + 2;
  const score = [...(points === undefined ? [] : [`${points} points`]), ...(model ? [`model ${model}`] : [])];
  return [
    ...factors.map((f) => `  ${f.id.padEnd(column)}${f.points >= 0 ? '+' : ''}${f.points}`),
    ...(tier === undefined ? [] : [`  tier: ${tier}${score.length > 0 ? ` (${score.join(', ')})` : ''}`]),
    ...(notAssessed.length > 0 ? wrap(`not assessed: ${notAssessed.join(', ')}`, width, '  ', '    ') : []),
  ];
}

const indicators = {
  critical: ['red', '[CRITICAL]'],
  warning: ['yellow', '[WARNING]'],
  info: ['blue', '[INFO]'],
} as const;

function renderCard(card: Card, width: number): string[] {
  const [colour, label] = indicators[card.indicator];
  const lines = wrap(bold(card.summary), width, `${styleText(['bold', colour], label)} `, '  ');
  lines.push(...renderAssessment(card, width));
  if (card.detail) lines.push('', ...renderDetail(card.detail, width, '    '));
  if (card.suggestions) {
    lines.push('', '  Suggestions:');
    for (const suggestion of card.suggestions) {
      const recommended = suggestion.isRecommended ? ' (recommended)' : '';
      lines.push(...wrap(`${suggestion.label}${recommended}`, width, '    • ', '      '));
      for (const action of suggestion.actions ?? [])
        lines.push(...wrap(action.description, width, '        '));
    }
  }
  if (card.links) {
    lines.push('', '  Links:');
    for (const link of card.links)
      lines.push(...wrap(`${link.label} → ${link.url}`, width, '    • ', '      '));
  }
  const source = card.source.url ? `${card.source.label} → ${card.source.url}` : card.source.label;
  lines.push('', ...wrap(`Source: ${source}`, width, '  ', '    '));
  return lines;
}

function renderCards(options: Options, cards: Card[]): string {
  // A terminal's width up to 100 columns (a pseudo-terminal may report 0), else 100.
  const columns = process.stdout.isTTY && process.stdout.columns > 0 ? process.stdout.columns : 100;
  const width = Math.max(40, Math.min(columns, 100));
  const count = cards.length === 0 ? 'no cards' : cards.length === 1 ? '1 card' : `${cards.length} cards`;
  const title = `${services[options.hook]} for ${options.scenario} (Patient/${options.patientId}): ${count}`;
  return [title, ...cards.flatMap((card) => ['', ...renderCard(card, width)])].join('\n');
}

function pretty(text: string): string {
  try {
    return JSON.stringify(JSON.parse(text), null, 2);
  } catch {
    return text;
  }
}

async function run(args: string[]): Promise<void> {
  const options = await parseOptions(args);
  if (options === 'help') {
    process.stdout.write(usage);
    return;
  }
  const answer = await call(options);
  if (options.json) process.stdout.write(`${pretty(answer.text)}\n`);
  if (answer.status !== 200) throw new CallFailed(failure(answer, options));
  if (options.json) return;
  let json: unknown;
  try {
    json = JSON.parse(answer.text);
  } catch {
    throw new CallFailed('pvp-cds answered 200 with a body that is not JSON');
  }
  const parsed = hookResponseSchema.safeParse(json);
  if (!parsed.success) {
    throw new CallFailed(
      `the answer is not a valid CDS Hooks response (see --json):\n${z.prettifyError(parsed.error)}`,
    );
  }
  process.stdout.write(`${renderCards(options, parsed.data.cards)}\n`);
}

/** Runs the command line; the exit status: 0 answered, 1 the call failed, 2 a usage error. */
async function main(args: string[]): Promise<number> {
  try {
    await run(args);
    return 0;
  } catch (error) {
    if (error instanceof UsageError) {
      process.stderr.write(`fire: ${error.message}\n(npm run fire -- --help for usage)\n`);
      return 2;
    }
    if (error instanceof CallFailed) {
      process.stderr.write(`fire: ${error.message}\n`);
      return 1;
    }
    throw error;
  }
}

if (import.meta.main) process.exitCode = await main(process.argv.slice(2));
