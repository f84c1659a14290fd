/**
 * Prometheus metrics (prom-client), one registry per app. Label values are service ids, resource
 * types, card kinds, tiers, failed checks, outcomes and status codes: bounded sets that name no
 * patient, client token or card.
 */
import { Counter, collectDefaultMetrics, Histogram, Registry } from 'prom-client';
import { type AssessmentExtension, extensionKey } from '../cards/card-frame.ts';
import type { Card } from '../cds-hooks/schemas.ts';

const seconds = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2, 5];

export interface MetricSources {
  /** Cards answered but not recorded in the ledger since the start. */
  ledgerCardsLost(): number;
}

export function createMetrics(sources: MetricSources) {
  const registry = new Registry();
  const registers = [registry];
  collectDefaultMetrics({ register: registry });
  const counter = <Label extends string>(name: string, help: string, labelNames: readonly Label[] = []) =>
    new Counter({ name, help, labelNames, registers });
  return {
    registry,
    hookDuration: new Histogram({
      name: 'pvp_cds_hook_duration_seconds',
      help: 'Time to answer a hook call, by CDS service and status code',
      labelNames: ['service', 'status'] as const,
      buckets: seconds,
      registers,
    }),
    fhirRequestDuration: new Histogram({
      name: 'pvp_cds_fhir_request_duration_seconds',
      help: "Time of one read from an EHR's FHIR server, by resource type and outcome (ok or the problem)",
      labelNames: ['resource_type', 'outcome'] as const,
      buckets: seconds,
      registers,
    }),
    fhirRequestErrors: counter(
      'pvp_cds_fhir_request_errors_total',
      'FHIR reads that failed, by resource type and problem',
      ['resource_type', 'problem'] as const,
    ),
    cardsIssued: counter(
      'pvp_cds_cards_issued_total',
      'Cards answered, by CDS service, card kind and risk tier (none for cards without one)',
      ['service', 'kind', 'tier'] as const,
    ),
    prefetchUnavailable: counter(
      'pvp_cds_prefetch_unavailable_total',
      'Hook calls answered 412 because required prefetch could not be had, by CDS service',
      ['service'] as const,
    ),
    clientTokensRefused: counter(
      'pvp_cds_client_tokens_refused_total',
      'Calls answered 401, by the check the client JWT failed',
      ['check'] as const,
    ),
    rateLimited: counter(
      'pvp_cds_rate_limited_total',
      'Calls answered 429 because the client was over its rate limit',
    ),
    foreignResourcesDropped: counter(
      'pvp_cds_foreign_patient_resources_dropped_total',
      'Resources and draft orders naming another patient than the one in context, dropped before scoring',
      ['service'] as const,
    ),
    feedbackItems: counter(
      'pvp_cds_feedback_items_total',
      'Feedback items of stored feedback requests (new or sent again), by outcome (accepted, overridden)',
      ['outcome'] as const,
    ),
    feedbackRefused: counter(
      'pvp_cds_feedback_refused_total',
      'Feedback requests stored nothing, by reason (invalid, unrecorded card)',
      ['reason'] as const,
    ),
    ledgerWriteFailures: new Counter({
      name: 'pvp_cds_ledger_write_failures_total',
      help: 'Cards answered that the ledger could not record',
      registers,
      collect() {
        this.reset();
        this.inc(sources.ledgerCardsLost());
      },
    }),
    databaseErrors: counter(
      'pvp_cds_database_errors_total',
      'Times the database could not be reached or failed, by what was being done',
      ['operation'] as const,
    ),
    httpResponses: counter('pvp_cds_http_responses_total', 'Responses by route pattern and status code', [
      'route',
      'status',
    ] as const),
  };
}

export type Metrics = ReturnType<typeof createMetrics>;

/** Counts the cards of one answer by kind and tier, as the ledger records them. */
export function countCards(metrics: Metrics, service: string, cards: Card[]): void {
  for (const card of cards) {
    const assessment = card.extension?.[extensionKey] as AssessmentExtension | undefined;
    metrics.cardsIssued.inc({
      service,
      kind: assessment?.kind ?? 'unknown',
      tier: assessment?.tier ?? 'none',
    });
  }
}
