/**
 * POST /cds-services/{id}: validate once at the edge, resolve prefetch (request first, FHIR server
 * second, under one deadline), answer 412 naming what could not be had, then let the service speak.
 */
import type { RequestHandler, Response } from 'express';
import type { z } from 'zod';
import { onlyPatient, ownDraftOrders } from '../cds-hooks/patient-scope.ts';
import { resolvePrefetch } from '../cds-hooks/prefetch.ts';
import { hookRequestSchema } from '../cds-hooks/schemas.ts';
import type { BaseContext, CdsService } from '../cds-hooks/service.ts';
import { normaliseBaseUrl } from '../cds-hooks/trusted-clients.ts';
import type { Config } from '../config.ts';
import { createFhirReader, type FhirReader } from '../fhir/client.ts';
import type { Logger } from '../observability/logger.ts';
import { verifiedClient } from './client-auth.ts';
import { InvalidRequest, NotFound, PrefetchUnavailable } from './errors.ts';
import { negotiateLocale } from './locale.ts';
import { baseUrlOf } from './public-url.ts';

export interface HookRouteOptions {
  config: Config;
  logger: Logger;
  services: ReadonlyMap<string, CdsService<BaseContext>>;
  now: () => Date;
  /** How to reach an EHR's FHIR server; replaced in tests only to inject faults. */
  fhirReader?: (baseUrl: string, accessToken?: string) => FhirReader;
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

export function hookRoute(options: HookRouteOptions): RequestHandler {
  const { config, logger } = options;
  const readerFor = options.fhirReader ?? createFhirReader;
  return async (req, res) => {
    const serviceId = String(req.params.id);
    const service = options.services.get(serviceId);
    if (!service) throw new NotFound(`No CDS service with id '${serviceId}'.`);
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
    const reader = fhirServer ? readerFor(fhirServer, request.fhirAuthorization?.access_token) : undefined;
    const signal = AbortSignal.timeout(config.fhirDeadlineMs);
    const started = performance.now();
    const outcome = await resolvePrefetch({
      templates: service.definition.prefetch,
      tokens: context,
      provided: request.prefetch,
      reader,
      signal,
      maxPages: config.fhirMaxPages,
    });
    const missing = outcome.missing.filter((key) => service.requiredPrefetch.includes(key));
    const scoped = onlyPatient(outcome.data, context.patientId);
    const foreignRecords = Object.values(scoped.foreign).reduce((sum, n) => sum + n, drafts.foreign);
    if (foreignRecords > 0) {
      logger.warn(
        { cdsService: serviceId, foreignResources: scoped.foreign, foreignDraftOrders: drafts.foreign },
        'resources naming another patient were dropped',
      );
    }
    logger.info(
      {
        cdsService: serviceId,
        prefetchFetched: outcome.fetched,
        prefetchMissing: outcome.missing,
        fhirMs: Math.round(performance.now() - started),
      },
      'prefetch resolved',
    );
    if (missing.length > 0) {
      const reason = !request.fhirServer
        ? 'The request carries neither these prefetch keys nor a fhirServer to fetch them from.'
        : !reader
          ? 'The request names a fhirServer this client is not trusted to name, so it was not contacted.'
          : signal.aborted
            ? `The FHIR server did not answer within ${config.fhirDeadlineMs} ms.`
            : 'The FHIR server could not provide them.';
      throw new PrefetchUnavailable(missing, reason);
    }
    const cards = service.handle({
      context,
      data: scoped.data,
      unavailable: outcome.missing,
      foreignRecords,
      locale: negotiateLocale(req.get('accept-language'), config.defaultLocale),
      now: options.now(),
      timeZone: config.clinicTimeZone,
      baseUrl: baseUrlOf(req, config),
    });
    res.set('Cache-Control', 'no-store').json({ cards });
  };
}
