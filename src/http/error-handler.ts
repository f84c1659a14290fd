/**
 * The one place errors become responses: typed errors keep their status, the client errors of
 * body-parser and the router (bad JSON, a body that is not the Content-Encoding it claims, a malformed
 * percent-encoding) keep their 4xx, anything else is a 500 and an error log line. The body is always
 * an OperationOutcome; no stack trace or internal message ever reaches the client.
 */
import { STATUS_CODES } from 'node:http';
import type { ErrorRequestHandler, RequestHandler } from 'express';
import type { OperationOutcome } from 'fhir/r4';
import type { Logger } from '../observability/logger.ts';
import type { Metrics } from '../observability/metrics.ts';
import { StoreUnavailable } from '../store/database.ts';
import { fhirJson, HttpError, operationOutcome, TooManyRequests, Unauthorized } from './errors.ts';

/** Errors of body-parser and the router (http-errors): a client's mistake carries its 4xx status. */
interface ClientError {
  status: number;
  type?: unknown;
  code?: unknown;
}

function clientError(error: unknown): ClientError | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  const status = (error as { status?: unknown }).status;
  return typeof status === 'number' && status >= 400 && status < 500 ? (error as ClientError) : undefined;
}

/** What the client did wrong, in our words: the library's message may quote the request. */
function clientProblem(error: ClientError): { status: number; body: OperationOutcome } {
  switch (error.type) {
    case 'entity.parse.failed':
      return { status: 400, body: operationOutcome('invalid', 'The request body is not valid JSON.') };
    case 'entity.too.large':
      return {
        status: 413,
        body: operationOutcome('too-costly', 'The request body is larger than this service accepts.'),
      };
    case 'encoding.unsupported':
      return {
        status: 415,
        body: operationOutcome(
          'not-supported',
          'The request body is in a Content-Encoding this service does not accept.',
        ),
      };
    case 'charset.unsupported':
      return {
        status: 415,
        body: operationOutcome('not-supported', 'The request body must be UTF-8 JSON.'),
      };
  }
  if (error instanceof URIError) {
    return {
      status: 400,
      body: operationOutcome('invalid', 'The request path has a malformed percent-encoding.'),
    };
  }
  if (typeof error.code === 'string' && error.status === 400) {
    return {
      status: 400,
      body: operationOutcome(
        'invalid',
        'The request body could not be decoded as its Content-Encoding says.',
      ),
    };
  }
  const reason = STATUS_CODES[error.status] ?? 'Bad Request';
  return { status: error.status, body: operationOutcome('invalid', `The request was refused: ${reason}.`) };
}

export function errorHandler(logger: Logger, metrics: Metrics): ErrorRequestHandler {
  return (error: unknown, req, res, _next) => {
    let status = 500;
    let body = operationOutcome(
      'exception',
      'Internal error: the request could not be processed.',
      undefined,
      'fatal',
    );
    const fromClient = clientError(error);
    if (error instanceof HttpError) {
      if (error instanceof Unauthorized) res.set('WWW-Authenticate', 'Bearer');
      if (error instanceof TooManyRequests) {
        metrics.rateLimited.inc();
        res.set('Retry-After', String(error.retryAfterSeconds));
      }
      status = error.status;
      body = operationOutcome(error.issueCode, error.message, error.expression);
      for (const more of error.furtherIssues) {
        body.issue.push({
          severity: 'error',
          code: error.issueCode,
          diagnostics: more.diagnostics,
          ...(more.expression?.length ? { expression: more.expression } : {}),
        });
      }
    } else if (error instanceof StoreUnavailable) {
      // Ours, not the client's, and passing: the client may retry; nothing of the request was stored.
      metrics.databaseErrors.inc({ operation: 'request' });
      logger.warn({ path: req.path, error: error.message }, 'database unavailable');
      res.set('Retry-After', '5');
      status = 503;
      body = operationOutcome(
        'transient',
        'The service cannot reach its database just now; nothing of this request was stored. Retry later.',
      );
    } else if (fromClient) {
      ({ status, body } = clientProblem(fromClient));
    } else {
      // The message may quote data (a URL with a patient id): log the error's name and frames only.
      const frames = error instanceof Error ? error.stack?.split('\n').slice(1).join('\n') : undefined;
      logger.error(
        { error: error instanceof Error ? error.name : typeof error, frames, path: req.path },
        'unhandled error',
      );
    }
    if (res.headersSent) return;
    res.status(status).type(fhirJson).send(JSON.stringify(body));
  };
}

export const notFoundHandler: RequestHandler = (_req, res) => {
  res
    .status(404)
    .type(fhirJson)
    .send(JSON.stringify(operationOutcome('not-found', 'No such endpoint.')));
};
