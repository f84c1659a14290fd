/**
 * POST /cds-services/{id}/feedback (CDS Hooks 2.0): what clinicians did with our cards. Behind the
 * same client authentication as the hooks. All or nothing: one bad item is a 400 naming it (and every
 * other problem) and nothing is stored; 200 says how many items were new.
 */
import type { RequestHandler } from 'express';
import { feedbackRequestSchema } from '../cds-hooks/schemas.ts';
import type { Logger } from '../observability/logger.ts';
import type { Metrics } from '../observability/metrics.ts';
import { recordFeedback } from '../store/feedback.ts';
import type { Store } from '../store/store.ts';
import { Conflict, InvalidRequest, NotFound } from './errors.ts';

export interface FeedbackRouteOptions {
  serviceIds: ReadonlySet<string>;
  store: Store;
  logger: Logger;
  metrics: Metrics;
  now: () => Date;
}

export function feedbackRoute(options: FeedbackRouteOptions): RequestHandler {
  return async (req, res) => {
    const service = String(req.params.id);
    if (!options.serviceIds.has(service)) throw new NotFound(`No CDS service with id '${service}'.`);
    const body = feedbackRequestSchema.safeParse(req.body);
    if (!body.success) {
      options.metrics.feedbackRefused.inc({ reason: 'invalid' });
      throw new InvalidRequest(
        'Invalid feedback: the body must be {"feedback": [...]} with 1 to 100 items.',
        ['feedback'],
      );
    }
    const result = await recordFeedback(options.store.db, options.store.ledger, {
      service,
      items: body.data.feedback,
      receivedAt: options.now(),
    });
    if (result.kind !== 'stored') options.metrics.feedbackRefused.inc({ reason: result.kind });
    if (result.kind === 'invalid') {
      const [first, ...rest] = result.problems.map((p) => ({
        diagnostics: `${p.expression}: ${p.message}`,
        expression: [p.expression],
      }));
      options.logger.info(
        { cdsService: service, problems: result.problems.map((p) => `${p.expression}: ${p.message}`) },
        'feedback refused',
      );
      throw new InvalidRequest(
        `Invalid feedback, nothing was stored. ${first?.diagnostics}`,
        first?.expression,
        rest,
      );
    }
    if (result.kind === 'unrecorded') {
      throw new Conflict(
        `Nothing was stored: card ${result.cards.join(', ')} was issued while the ledger could not record it, so its feedback cannot be counted.`,
        ['feedback.card'],
      );
    }
    // Stored, so every item was checked: its outcome is accepted or overridden.
    for (const item of body.data.feedback as Array<{ outcome: string }>) {
      options.metrics.feedbackItems.inc({ outcome: item.outcome });
    }
    options.logger.info(
      { cdsService: service, received: result.received, stored: result.stored },
      'feedback stored',
    );
    res.set('Cache-Control', 'no-store').json({
      received: result.received,
      stored: result.stored,
      alreadyStored: result.alreadyStored,
    });
  };
}
