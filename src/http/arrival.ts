/**
 * A call's arrival (its headers read), stamped first on the app: the request log's time and a hook's
 * FHIR deadline both count from it.
 */
import type { RequestHandler, Response } from 'express';

export const stampArrival: RequestHandler = (_req, res, next) => {
  res.locals.arrivedAt = performance.now();
  next();
};

/** `performance.now()` at the request's arrival (now, for an app without `stampArrival`). */
export function arrivedAt(res: Response): number {
  return (res.locals.arrivedAt as number | undefined) ?? performance.now();
}
