/**
 * POST /cds-services/{id}: validate once at the edge, resolve prefetch (request first, FHIR server
 * second, under one deadline), answer 412 naming what could not be had, then let the service speak.
 */
import type { RequestHandler, Response } from 'express';
import type { z } from 'zod';
import { onlyPatient, ownDraftOrders } from '../cds-hooks/patient-scope.ts';
import { type PrefetchOutcome, resolvePrefetch } from '../cds-hooks/prefetch.ts';
import { type HookRequest, hookRequestSchema } from '../cds-hooks/schemas.ts';
import type { BaseContext, CdsService } from '../cds-hooks/service.ts';
import { normaliseBaseUrl } from '../cds-hooks/trusted-clients.ts';
import type { Config } from '../config.ts';
import { createFhirReader, type FhirReader, ServerCapabilities } from '../fhir/client.ts';
import { type FhirRead, timedReader } from '../fhir/timed-reader.ts';
import type { Logger } from '../observability/logger.ts';
import { countCards, type Metrics } from '../observability/metrics.ts';
import type { IssuedCards } from '../store/ledger.ts';
import { arrivedAt } from './arrival.ts';
import { verifiedClient } from './client-auth.ts';
import { InvalidRequest, NotFound, PrefetchUnavailable } from './errors.ts';
import { negotiateLocale } from './locale.ts';
import { baseUrlOf } from './public-url.ts';

export interface HookRouteOptions {
  config: Config;
  logger: Logger;
  metrics: Metrics;
  services: ReadonlyMap<string, CdsService<BaseContext>>;
  now: () => Date;
  /** How to reach an EHR's FHIR server; replaced in tests only to inject faults. */
  fhirReader?: (baseUrl: string, accessToken?: string) => FhirReader;
  /** Records the cards answered, after the answer has gone (the issued-card ledger). */
  recordCards: (issued: Omit<IssuedCards, 'modelVersions'>) => void;
}

/** What the request's log line says of a hook call: no patient, token or resource content. */
export interface HookLog {
  cdsService: string;
  hook: string;
  /** Where the data came from: the request's prefetch, the FHIR server, both, or neither. */
  dataSource?: 'prefetch' | 'fhir-server' | 'prefetch+fhir-server' | 'none';
  fhirCalls: number;
  fhirErrors: number;
  /** Time spent resolving prefetch (FHIR reads included). */
  fhirMs?: number;
  cards?: number;
}

export function hookLogOf(res: Response): HookLog | undefined {
  return res.locals.hookLog as HookLog | undefined;
}

function dataSource(keys: number, outcome: PrefetchOutcome): NonNullable<HookLog['dataSource']> {
  const provided = keys - outcome.fetched.length - outcome.missing.length;
  if (outcome.fetched.length === 0) return provided > 0 ? 'prefetch' : 'none';
  return provided > 0 ? 'prefetch+fhir-server' : 'fhir-server';
}

function parseOrReject<T>(schema: z.ZodType<T>, value: unknown, prefix: string[]): T {
  const parsed = schema.safeParse(value);
  if (parsed.success) return parsed.data;
  const issues = parsed.error.issues.slice(0, 5);
  const message = issues
    .map((issue) => `${[...prefix, ...issue.path.map(String)].join('.') || 'body'}: ${issue.message}`)
    .join('; ');
  const paths = issues.map((issue) => [...prefix, ...issue.path.map(String)].join('.')).filter(Boolean);
  throw new InvalidRequest(`Invalid CDS Hooks request: ${message}`, paths);
}

/**
 * The request's fhirServer receives a bearer token from us: only the servers configured for the
 * verified client (exact base URL after normalisation). With authentication off (development), any.
 */
function mayCall(res: Response, fhirServer: string): boolean {
  const client = verifiedClient(res);
  if (!client) return true;
  const wanted = normaliseBaseUrl(fhirServer);
  return wanted !== undefined && client.fhirServers.includes(wanted);
}

/**
 * FHIR_DEADLINE_MS bounds the whole answer, from the call's arrival: the reads stop at 90% of it,
 * leaving the rest, and the 10% over it that callers tolerate, for scoring what arrived (a few ms
 * usually; some hundreds at the caps). What the call waited for before its reads (a slow upload, a
 * JWK Set fetched for a new key, a busy event loop) is taken from the reads' share.
 */
function readsDeadlineMs(config: Config): number {
  return Math.floor(config.fhirDeadlineMs * 0.9);
}

/** What is left of the reads' share of the deadline, counted from the call's arrival. */
function readsLeftMs(config: Config, res: Response): number {
  return Math.max(0, Math.floor(readsDeadlineMs(config) - (performance.now() - arrivedAt(res))));
}

/** Keys that read one resource of the patient in context (`Patient/{{context.patientId}}`): empty is unusable. */
function readsOfThePatient(service: CdsService<BaseContext>): string[] {
  return Object.entries(service.definition.prefetch)
    .filter(([, template]) => /^Patient\/\{\{\s*context\.patientId\s*\}\}$/.test(template))
    .map(([key]) => key);
}

/** The 412's reason: why nothing was fetched, or what went wrong with each key. */
function unavailableReason(
  keys: string[],
  problems: PrefetchOutcome['problems'],
  call: { request: HookRequest; reader: FhirReader | undefined; signal: AbortSignal; config: Config },
): string {
  const detail = keys
    .map((key) => {
      const why = problems[key];
      const asSent = why?.from === 'prefetch' && why.problem !== 'not sent' ? ' as sent' : '';
      return `${key}${asSent}: ${why?.problem}`;
    })
    .join('; ');
  if (!call.reader) {
    return call.request.fhirServer
      ? `The request names a fhirServer this client is not trusted to name, so it was not contacted (${detail}).`
      : `The request carries neither usable prefetch for these keys nor a fhirServer to fetch them from (${detail}).`;
  }
  if (call.signal.aborted) {
    const { fhirDeadlineMs } = call.config;
    return `The FHIR server did not answer within ${readsDeadlineMs(call.config)} ms, the reads' share of the ${fhirDeadlineMs} ms deadline (counted from the call's arrival): ${detail}.`;
  }
  return `The FHIR server could not provide them: ${detail}.`;
}

export function hookRoute(options: HookRouteOptions): RequestHandler {
  const { config, logger, metrics } = options;
  // What each FHIR server can do (batch), read once per server and shared by this app's calls.
  const capabilities = new ServerCapabilities();
  const readerFor =
    options.fhirReader ??
    ((baseUrl: string, accessToken?: string) => createFhirReader(baseUrl, accessToken, capabilities));
  const resourceTypes = new Set(
    [...options.services.values()].flatMap((s) => Object.values(s.prefetchResourceTypes).flat()),
  );
  // Worked out once per service, not per call.
  const patientReads = new Map([...options.services].map(([id, s]) => [id, readsOfThePatient(s)]));
  return async (req, res) => {
    const serviceId = String(req.params.id);
    const service = options.services.get(serviceId);
    if (!service) throw new NotFound(`No CDS service with id '${serviceId}'.`);
    const log: HookLog = {
      cdsService: serviceId,
      hook: service.definition.hook,
      fhirCalls: 0,
      fhirErrors: 0,
    };
    res.locals.hookLog = log;
    const onRead = (read: FhirRead) => {
      log.fhirCalls += 1;
      metrics.fhirRequestDuration.observe(
        { resource_type: read.resourceType, outcome: read.problem ?? 'ok' },
        read.ms / 1000,
      );
      if (read.problem === undefined) return;
      log.fhirErrors += 1;
      metrics.fhirRequestErrors.inc({ resource_type: read.resourceType, problem: read.problem });
    };
    if (!req.is(['application/json', 'application/*+json'])) {
      throw new InvalidRequest('The request body must be JSON (Content-Type: application/json).');
    }
    const request = parseOrReject(hookRequestSchema, req.body, []);
    if (request.hook !== service.definition.hook) {
      throw new InvalidRequest(
        `Service '${serviceId}' answers the '${service.definition.hook}' hook, not '${request.hook}'.`,
        ['hook'],
      );
    }
    const parsedContext = parseOrReject(service.contextSchema, request.context, ['context']);
    const drafts = ownDraftOrders(parsedContext, parsedContext.patientId);
    const context = drafts.context;
    const fhirServer =
      request.fhirServer && mayCall(res, request.fhirServer) ? request.fhirServer : undefined;
    const reader = fhirServer
      ? timedReader(readerFor(fhirServer, request.fhirAuthorization?.access_token), resourceTypes, onRead)
      : undefined;
    // A caller that gave up (an EHR's own timeout) leaves nothing to answer: stop reading for it too.
    const callerGone = new AbortController();
    res.once('close', () => {
      if (!res.writableFinished) callerGone.abort();
    });
    // Without a FHIR server to read from there is no deadline to keep (nor a timer to make).
    const signal = reader
      ? AbortSignal.any([AbortSignal.timeout(readsLeftMs(config, res)), callerGone.signal])
      : callerGone.signal;
    const started = performance.now();
    const outcome = await resolvePrefetch({
      templates: service.definition.prefetch,
      tokens: context,
      provided: request.prefetch,
      reader,
      signal,
      limits: {
        maxPages: config.fhirMaxPages,
        maxEntries: config.fhirMaxEntries,
        maxBytes: config.fhirMaxBytes,
      },
      resourceTypes: service.prefetchResourceTypes,
    });
    if (callerGone.signal.aborted) {
      // The caller left while its data was read (its own timeout): nobody will read an answer or a 412,
      // and the reads it stopped were not the FHIR server's fault (no warning, no unavailable count).
      logger.info(
        { cdsService: serviceId, fhirMs: Math.round(performance.now() - started) },
        'the caller left before the answer',
      );
      return;
    }
    const scoped = onlyPatient(outcome.data, context.patientId);
    for (const key of patientReads.get(serviceId) ?? []) {
      if (outcome.missing.includes(key) || (scoped.data[key]?.length ?? 0) > 0) continue;
      outcome.missing.push(key);
      outcome.problems[key] = {
        from: outcome.fetched.includes(key) ? 'fhir-server' : 'prefetch',
        problem: 'no resource of the patient in context',
      };
    }
    const missing = Object.keys(service.definition.prefetch).filter(
      (key) => outcome.missing.includes(key) && service.requiredPrefetch.includes(key),
    );
    const foreignRecords = Object.values(scoped.foreign).reduce((sum, n) => sum + n, drafts.foreign);
    log.dataSource = dataSource(Object.keys(service.definition.prefetch).length, outcome);
    log.fhirMs = Math.round(performance.now() - started);
    if (foreignRecords > 0) {
      metrics.foreignResourcesDropped.inc({ service: serviceId }, foreignRecords);
      logger.warn(
        { cdsService: serviceId, foreignResources: scoped.foreign, foreignDraftOrders: drafts.foreign },
        'resources naming another patient were dropped',
      );
    }
    const problems = Object.entries(outcome.problems).map(
      ([key, why]) => `${key}: ${why.from} ${why.problem}`,
    );
    const misfiled = Object.keys(outcome.misfiled).length > 0;
    // A call whose data all came in its prefetch, as sent, has nothing to say here that its request
    // line does not (dataSource 'prefetch'): at debug, so that the deployed level logs one line for it.
    const level =
      problems.length > 0
        ? 'warn'
        : outcome.fetched.length > 0 || outcome.missing.length > 0 || misfiled
          ? 'info'
          : 'debug';
    if (logger.isLevelEnabled(level)) {
      logger[level](
        {
          cdsService: serviceId,
          prefetchFetched: outcome.fetched,
          prefetchMissing: outcome.missing,
          ...(problems.length > 0 ? { prefetchProblems: problems } : {}),
          ...(misfiled ? { prefetchMisfiled: outcome.misfiled } : {}),
        },
        'prefetch resolved',
      );
    }
    if (missing.length > 0) {
      metrics.prefetchUnavailable.inc({ service: serviceId });
      throw new PrefetchUnavailable(
        missing,
        unavailableReason(missing, outcome.problems, { request, reader, signal, config }),
      );
    }
    const locale = negotiateLocale(req.get('accept-language'), config.defaultLocale);
    const now = options.now();
    const cards = service.handle({
      context,
      data: scoped.data,
      unavailable: outcome.missing,
      foreignRecords,
      misfiledRecords: Object.values(outcome.misfiled).reduce((sum, n) => sum + n, 0),
      locale,
      now,
      timeZone: config.clinicTimeZone,
      baseUrl: baseUrlOf(req, config),
    });
    log.cards = cards.length;
    countCards(metrics, serviceId, cards);
    res.set('Cache-Control', 'no-store').json({ cards });
    options.recordCards({
      service: serviceId,
      hookInstance: request.hookInstance,
      locale,
      issuedAt: now,
      patient: { fhirServer: request.fhirServer, patientId: context.patientId },
      cards,
    });
  };
}
