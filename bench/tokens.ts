/**
 * The client JWTs of `npm run bench`'s authenticated runs, signed before each run rather than during it.
 * Signing one costs the bench process about 0.7 ms of CPU here with ES384 and 0.3 ms with RS384: signed
 * as each request was sent (until 2026-12-07's eighth run), that work shared the two cores with the
 * process measured, and an authenticated run measured the load generator as much as the server.
 *
 * Every request to a service still carries a token of its own, signed for it seconds before (a jti
 * never sent before: the service refuses a replay). How many a run needs is estimated from the last
 * run of the same load at the same concurrency; a run that sends more than were signed signs the rest
 * as it sends them, and says how many (`signedInRun`). The floor checks no replay (bench/floor.ts),
 * so its runs take a fixed set of tokens in turn.
 */
import { cpus } from 'node:os';
import { Worker } from 'node:worker_threads';
import { clientToken, type SigningKey } from '../tests/support/ehr-client.ts';
import type { Signed, SignRequest } from './token-signer.ts';

export interface Ehr {
  iss: string;
  key: SigningKey;
}

/** Signs tokens on worker threads, one a core, between runs. */
export class TokenSigner {
  readonly #workers: Worker[];
  readonly #waiting = new Map<number, { resolve(tokens: string[]): void; reject(error: Error): void }>();
  #ids = 0;

  constructor(threads = cpus().length) {
    this.#workers = Array.from({ length: Math.max(1, threads) }, () => {
      const worker = new Worker(new URL('./token-signer.ts', import.meta.url));
      worker.on('message', ({ id, tokens }: Signed) => {
        this.#waiting.get(id)?.resolve(tokens);
        this.#waiting.delete(id);
      });
      worker.on('error', (error) => {
        for (const waiting of this.#waiting.values()) waiting.reject(error);
        this.#waiting.clear();
      });
      return worker;
    });
  }

  /** `count` tokens from `ehr` for `aud`, each with its own jti. */
  async sign(ehr: Ehr, aud: string, count: number, lifetimeSeconds = 300): Promise<string[]> {
    const share = Math.ceil(count / this.#workers.length);
    const parts = this.#workers.map((worker, i) => {
      const id = this.#ids++;
      const request: SignRequest = {
        id,
        iss: ehr.iss,
        aud,
        key: ehr.key,
        count: Math.max(0, Math.min(share, count - i * share)),
        lifetimeSeconds,
      };
      return new Promise<string[]>((resolve, reject) => {
        this.#waiting.set(id, { resolve, reject });
        worker.postMessage(request);
      });
    });
    return (await Promise.all(parts)).flat();
  }

  async close(): Promise<void> {
    await Promise.all(this.#workers.map((worker) => worker.terminate()));
  }
}

/** The tokens one run sends, one a request, in the order signed. */
export class RunTokens {
  /** Tokens signed during the run because it sent more requests than were signed before it. */
  signedInRun = 0;
  readonly #tokens: readonly string[];
  readonly #ehr: Ehr;
  readonly #aud: string;
  readonly #reuse: boolean;
  #next = 0;

  /** `reuse`: past the last token, the same ones again (the floor, which checks no replay). */
  constructor(tokens: readonly string[], ehr: Ehr, aud: string, reuse: boolean) {
    this.#tokens = tokens;
    this.#ehr = ehr;
    this.#aud = aud;
    this.#reuse = reuse;
  }

  next(): string {
    if (this.#next < this.#tokens.length) return this.#tokens[this.#next++] as string;
    if (this.#reuse && this.#tokens.length > 0) {
      this.#next = 1;
      return this.#tokens[0] as string;
    }
    this.signedInRun++;
    return clientToken({ iss: this.#ehr.iss, aud: this.#aud, key: this.#ehr.key });
  }
}
