/**
 * helmet's security headers, worked out once. helmet runs a dozen middleware functions for every
 * response, each setting one header. Ours are the same for every response (no directive is a function
 * of the request, such as a nonce), so helmet runs once, at start, against a recorder, and every
 * response then gets the headers it set, in its order.
 */
import type { RequestHandler, Response } from 'express';
import helmet, { type HelmetOptions } from 'helmet';

/** What every answer carries. */
export const answerSecurityOptions: Readonly<HelmetOptions> = {
  // JSON for machines; the pages set their own policy (src/pages/page-frame.ts).
  contentSecurityPolicy: {
    useDefaults: false,
    directives: { defaultSrc: ["'none'"], frameAncestors: ["'none'"] },
  },
  // The CDS Hooks sandbox and EHRs' browser apps read our answers from their own origins.
  crossOriginResourcePolicy: { policy: 'cross-origin' },
  referrerPolicy: { policy: 'no-referrer' },
  xFrameOptions: { action: 'deny' },
};

function dependsOnTheRequest(options: HelmetOptions): boolean {
  const policy = options.contentSecurityPolicy;
  if (typeof policy !== 'object' || policy === null) return false;
  return Object.values(policy.directives ?? {}).some(
    (value) =>
      typeof value === 'function' ||
      (Array.isArray(value) && value.some((element) => typeof element === 'function')),
  );
}

export function securityHeaders(options: Readonly<HelmetOptions>): RequestHandler {
  if (dependsOnTheRequest(options)) {
    throw new Error(
      'securityHeaders: a Content-Security-Policy directive depends on the request; use helmet',
    );
  }
  const set: Array<[string, string]> = [];
  const removed: string[] = [];
  const recorder = {
    setHeader(name: string, value: unknown) {
      set.push([name, String(value)]);
    },
    removeHeader(name: string) {
      removed.push(name);
    },
  };
  let done = false;
  helmet(options)({} as never, recorder as unknown as Response, (error?: unknown) => {
    if (error) throw error;
    done = true;
  });
  if (!done) throw new Error('securityHeaders: helmet did not set its headers at once');
  return (_req, res, next) => {
    for (const name of removed) res.removeHeader(name);
    for (const [name, value] of set) res.setHeader(name, value);
    next();
  };
}
