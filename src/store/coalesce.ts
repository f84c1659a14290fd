/**
 * Calls that arrive while an earlier one of their group is with the database wait, and then go to it
 * together in one statement: under load, one round trip for every call that waited instead of one
 * each. A call that finds nothing of its group in flight is sent at once, so a lone call waits no
 * longer than it would alone. Groups are independent (one per rate-limited client, say), and a group
 * is forgotten once nothing of it waits or is in flight.
 */
interface Waiting<Item, Result> {
  item: Item;
  resolve(result: Result): void;
  reject(error: unknown): void;
}

export class Coalescer<Item, Result> {
  /** Sends one group's waiting items; answers one result per item, in their order. */
  readonly #send: (group: string, items: Item[]) => Promise<Result[]>;
  readonly #waiting = new Map<string, Waiting<Item, Result>[]>();
  readonly #inFlight = new Set<string>();

  constructor(send: (group: string, items: Item[]) => Promise<Result[]>) {
    this.#send = send;
  }

  add(group: string, item: Item): Promise<Result> {
    return new Promise<Result>((resolve, reject) => {
      const waiting = this.#waiting.get(group);
      if (waiting) waiting.push({ item, resolve, reject });
      else this.#waiting.set(group, [{ item, resolve, reject }]);
      if (!this.#inFlight.has(group)) void this.#next(group);
    });
  }

  async #next(group: string): Promise<void> {
    const calls = this.#waiting.get(group);
    if (!calls) return;
    this.#waiting.delete(group);
    this.#inFlight.add(group);
    try {
      const results = await this.#send(
        group,
        calls.map((call) => call.item),
      );
      if (results.length !== calls.length)
        throw new Error(`${results.length} results for ${calls.length} calls`);
      for (const [i, call] of calls.entries()) call.resolve(results[i] as Result);
    } catch (error) {
      for (const call of calls) call.reject(error);
    } finally {
      this.#inFlight.delete(group);
      if (this.#waiting.has(group)) void this.#next(group);
    }
  }
}
