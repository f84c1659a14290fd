/**
 * Typed errors of the HTTP edge, each mapped to one status code by the error handler. Their messages
 * reach the client in an OperationOutcome, so they name the problem and never carry patient data.
 */
import type { OperationOutcome } from 'fhir/r4';

export type IssueCode = NonNullable<OperationOutcome['issue'][number]['code']>;

/** The media type of every OperationOutcome this service answers with. */
export const fhirJson = 'application/fhir+json; charset=utf-8';

/** One more problem of the same request, as its own OperationOutcome issue. */
export interface FurtherIssue {
  diagnostics: string;
  expression?: string[];
}

export class HttpError extends Error {
  readonly status: number;
  readonly issueCode: IssueCode;
  readonly expression: string[] | undefined;
  readonly furtherIssues: FurtherIssue[];
  constructor(
    status: number,
    issueCode: IssueCode,
    message: string,
    expression?: string[],
    furtherIssues: FurtherIssue[] = [],
  ) {
    super(message);
    this.status = status;
    this.issueCode = issueCode;
    this.expression = expression;
    this.furtherIssues = furtherIssues;
  }
}

export class InvalidRequest extends HttpError {
  constructor(message: string, expression?: string[], furtherIssues: FurtherIssue[] = []) {
    super(400, 'invalid', message, expression, furtherIssues);
    this.name = 'InvalidRequest';
  }
}

export class Conflict extends HttpError {
  constructor(message: string, expression?: string[]) {
    super(409, 'conflict', message, expression);
    this.name = 'Conflict';
  }
}

export class NotFound extends HttpError {
  constructor(message: string) {
    super(404, 'not-found', message);
    this.name = 'NotFound';
  }
}

/** 401 with no detail: which check failed is logged, never told to the caller. */
export class Unauthorized extends HttpError {
  constructor() {
    super(401, 'login', 'Unauthorized.');
    this.name = 'Unauthorized';
  }
}

export class TooManyRequests extends HttpError {
  readonly retryAfterSeconds: number;
  constructor(retryAfterSeconds: number) {
    super(429, 'throttled', 'Too many requests from this client; retry later.');
    this.name = 'TooManyRequests';
    this.retryAfterSeconds = retryAfterSeconds;
  }
}

export class PrefetchUnavailable extends HttpError {
  readonly keys: string[];
  constructor(keys: string[], reason: string) {
    super(412, 'incomplete', `Could not obtain prefetch data for: ${keys.join(', ')}. ${reason}`, keys);
    this.name = 'PrefetchUnavailable';
    this.keys = keys;
  }
}

export function operationOutcome(
  issueCode: IssueCode,
  diagnostics: string,
  expression?: string[],
  severity: 'error' | 'fatal' = 'error',
): OperationOutcome {
  return {
    resourceType: 'OperationOutcome',
    issue: [{ severity, code: issueCode, diagnostics, ...(expression?.length ? { expression } : {}) }],
  };
}
