/**
 * Draining: after SIGTERM the service says it is not ready (so a load balancer stops sending), keeps
 * answering what arrives, and lets the process go once nothing is in flight. Health probes and metrics
 * scrapes are not counted as work in flight.
 */
import type { RequestHandler } from 'express';

export class Lifecycle {
  #inFlight = 0;
  #draining = false;
  #idle: Array<() => void> = [];

  get draining(): boolean {
    return this.#draining;
  }

  get inFlight(): number {
    return this.#inFlight;
  }

  /** Turns readiness off; resolves when no request is in flight (at once if none is). */
  drain(): Promise<void> {
    this.#draining = true;
    if (this.#inFlight === 0) return Promise.resolve();
    return new Promise((resolve) => this.#idle.push(resolve));
  }

  /** Counts each request from its arrival until its response is finished or its caller is gone. */
  readonly tracker: RequestHandler = (_req, res, next) => {
    this.#inFlight += 1;
    let done = false;
    const settle = () => {
      if (done) return;
      done = true;
      this.#inFlight -= 1;
      if (this.#inFlight === 0 && this.#draining) for (const resolve of this.#idle.splice(0)) resolve();
    };
    res.once('finish', settle);
    res.once('close', settle);
    if (this.#draining) res.set('Connection', 'close');
    next();
  };
}
