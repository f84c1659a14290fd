/**
 * The one place errors become responses: typed errors keep their status, body-parser's errors map
 * to 400/413/415, anything else is a 500. The body is always an OperationOutcome; no stack trace or
 * internal message ever reaches the client.
 */
import type { ErrorRequestHandler, RequestHandler } from 'express';
import type { Logger } from '../observability/logger.ts';
import { HttpError, operationOutcome, TooManyRequests, Unauthorized } from './errors.ts';

const fhirJson = 'application/fhir+json; charset=utf-8';

interface BodyParserError {
  type?: string;
  status?: number;
}

function bodyParserError(error: unknown): BodyParserError | undefined {
  if (typeof error !== 'object' || error === null || !('type' in error)) return undefined;
  return error as BodyParserError;
}

export function errorHandler(logger: Logger): ErrorRequestHandler {
  return (error: unknown, req, res, _next) => {
    let status = 500;
    let body = operationOutcome(
      'exception',
      'Internal error: the request could not be processed.',
      undefined,
      'fatal',
    );
    const parserError = bodyParserError(error);
    if (error instanceof HttpError) {
      if (error instanceof Unauthorized) res.set('WWW-Authenticate', 'Bearer');
      if (error instanceof TooManyRequests) res.set('Retry-After', String(error.retryAfterSeconds));
      status = error.status;
      body = operationOutcome(error.issueCode, error.message, error.expression);
    } else if (parserError?.type === 'entity.parse.failed') {
      status = 400;
      body = operationOutcome('invalid', 'The request body is not valid JSON.');
    } else if (parserError?.type === 'entity.too.large') {
      status = 413;
      body = operationOutcome('too-costly', 'The request body is larger than this service accepts.');
    } else if (parserError?.type === 'encoding.unsupported' || parserError?.type === 'charset.unsupported') {
      status = 415;
      body = operationOutcome('not-supported', 'The request body encoding is not supported.');
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
