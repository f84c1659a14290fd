/**
 * Governance analytics for a CDS committee: `GET /analytics/cards` (JSON) and `GET /analytics` (an HTML
 * page, server-rendered, no script), both behind ANALYTICS_TOKEN and absent without it. The page takes
 * the token as a bearer header or, for a browser, from a login form that sets an HttpOnly cookie
 * holding an HMAC of the token (never the token itself).
 */
import { createHmac } from 'node:crypto';
import express, { type Request, type Response, Router } from 'express';
import type { Wordings } from '../cards/wording.ts';
import { addDays, clinicalDay, daysBetween } from '../clinical/clinical-dates.ts';
import type { Config, Locale } from '../config.ts';
import { analyticsStyle, renderAnalyticsLogin, renderAnalyticsPage } from '../pages/analytics-page.ts';
import { cardAnalytics } from '../store/analytics.ts';
import type { Store } from '../store/store.ts';
import { bearerToken, sameSecret } from './bearer.ts';
import { HttpError, InvalidRequest, NotFound } from './errors.ts';
import { pageLocale, sendPage } from './page-response.ts';

const cookieName = 'pvp-cds-analytics';
const defaultWeeks = 12;
const longestWindowDays = 3660;

class AnalyticsUnauthorized extends HttpError {
  constructor() {
    super(401, 'login', 'Analytics need the bearer token configured as ANALYTICS_TOKEN.');
    this.name = 'AnalyticsUnauthorized';
  }
}

function sessionValue(token: string): string {
  return createHmac('sha256', token).update('pvp-cds analytics session').digest('base64url');
}

function cookie(req: Request, name: string): string | undefined {
  for (const part of (req.get('cookie') ?? '').split(';')) {
    const [key, ...value] = part.trim().split('=');
    if (key === name) return value.join('=');
  }
  return undefined;
}

function authorised(req: Request, token: string): boolean {
  const bearer = bearerToken(req);
  if (bearer !== undefined) return sameSecret(bearer, token);
  const session = cookie(req, cookieName);
  return session !== undefined && sameSecret(session, sessionValue(token));
}

const isoDate = /^\d{4}-\d{2}-\d{2}$/;
/** The dates a window may name: the query's bounds, a day either side, stay four-digit years. */
const earliestDate = '1900-01-01';
const latestDate = '9998-12-31';

function dateParam(req: Request, name: 'from' | 'to'): string | undefined {
  const value = req.query[name];
  if (value === undefined || value === '') return undefined;
  if (
    typeof value !== 'string' ||
    !isoDate.test(value) ||
    Number.isNaN(Date.parse(value)) ||
    addDays(value, 0) !== value ||
    value < earliestDate ||
    value > latestDate
  )
    throw new InvalidRequest(
      `The ${name} parameter must be a date such as 2026-11-02, from ${earliestDate} to ${latestDate}.`,
      [name],
    );
  return value;
}

/** The window asked for: dates of the clinic's calendar, both included; by default the last 12 weeks. */
function windowOf(req: Request, config: Config, now: Date): { from: string; to: string } {
  const to = dateParam(req, 'to') ?? clinicalDay(now, config.clinicTimeZone).today;
  const from = dateParam(req, 'from') ?? addDays(to, -(defaultWeeks * 7 - 1));
  if (daysBetween(from, to) < 0)
    throw new InvalidRequest('The from date is after the to date.', ['from', 'to']);
  if (daysBetween(from, to) > longestWindowDays)
    throw new InvalidRequest(`The window is longer than ${longestWindowDays} days.`, ['from', 'to']);
  return { from, to };
}

/** The page's own parameters, kept across the login form and its redirect. */
function pageQuery(req: Request, locale: Locale): string {
  const query = new URLSearchParams({ lang: locale });
  for (const name of ['from', 'to']) {
    const value = req.query[name];
    if (typeof value === 'string' && isoDate.test(value)) query.set(name, value);
  }
  return query.toString();
}

function sendAnalyticsPage(res: Response, status: number, html: string): void {
  sendPage(res, status, analyticsStyle, html, "form-action 'self'; ");
}

export interface AnalyticsRouteOptions {
  config: Config;
  store: Store;
  wordings: Wordings;
  now: () => Date;
}

export function analyticsRouter(options: AnalyticsRouteOptions): Router {
  const { config, store, wordings } = options;
  const router = Router();
  const token = config.analyticsToken;
  if (!token) {
    router.use((_req, _res, next) =>
      next(new NotFound('Analytics are disabled: this service has no ANALYTICS_TOKEN.')),
    );
    return router;
  }
  const report = (req: Request) =>
    cardAnalytics(store.db, { ...windowOf(req, config, options.now()), timeZone: config.clinicTimeZone });
  const secure = config.nodeEnv === 'production';
  /** 401 with the sign-in form, which posts back to /login with the page's own parameters. */
  const sendLogin = (req: Request, res: Response, refused: boolean) => {
    const locale = pageLocale(req, config.defaultLocale);
    const action = `${req.baseUrl}/login?${pageQuery(req, locale)}`;
    sendAnalyticsPage(res, 401, renderAnalyticsLogin(wordings[locale], { locale, action, refused }));
  };

  router.get('/cards', async (req, res) => {
    if (!authorised(req, token)) {
      res.set('WWW-Authenticate', 'Bearer');
      throw new AnalyticsUnauthorized();
    }
    res.set('Cache-Control', 'no-store').json(await report(req));
  });

  router.get('/', async (req, res) => {
    const locale = pageLocale(req, config.defaultLocale);
    if (!authorised(req, token)) {
      sendLogin(req, res, false);
      return;
    }
    sendAnalyticsPage(
      res,
      200,
      renderAnalyticsPage(await report(req), wordings[locale], { locale, basePath: req.baseUrl }),
    );
  });

  router.post('/login', express.urlencoded({ extended: false, limit: 4096 }), (req, res) => {
    const locale = pageLocale(req, config.defaultLocale);
    const given = (req.body as { token?: unknown } | undefined)?.token;
    if (typeof given !== 'string' || !sameSecret(given, token)) {
      sendLogin(req, res, true);
      return;
    }
    res.cookie(cookieName, sessionValue(token), {
      httpOnly: true,
      sameSite: 'strict',
      secure,
      path: req.baseUrl,
    });
    res.redirect(303, `${req.baseUrl}?${pageQuery(req, locale)}`);
  });
  return router;
}
