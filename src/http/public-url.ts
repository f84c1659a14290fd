/** The URL a caller used to reach us: the configured public base URL, else what the request says. */
import type { Request } from 'express';
import type { Config } from '../config.ts';

export function baseUrlOf(req: Request, config: Config): string {
  return config.publicBaseUrl ?? `${req.protocol}://${req.get('host') ?? 'localhost'}`;
}

/** The URL called, without its query: what a client's token must name as `aud`. */
export function calledUrl(req: Request, config: Config): string {
  return `${baseUrlOf(req, config)}${req.originalUrl.split('?')[0] ?? ''}`;
}
