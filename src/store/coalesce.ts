/**
 * Calls that arrive while an earlier one of their group is with the database wait, and then go to it
 * together in one statement: under load, one round trip for every call that waited instead of one
 * each. A call that finds nothing of its group in flight is sent at once, so a lone call waits no
 * longer than it would alone; and no call waits longer than `patienceMs` for the one in flight, so a
 * database that hangs costs a call its own statement's timeout and `patienceMs`, not two timeouts.
 * Groups are independent (one per rate-limited client, say), and a group is forgotten once nothing of
 * it waits or is in flight.
 */
interface Waiting<Item, Result> {
  item: Item;
  resolve(result: Result): void;
  reject(error: unknown): void;
}

interface Group<Item, Result> {
  waiting: Waiting<Item, Result>[];
  inFlight: number;
  /** Sends the waiting calls without the one in flight, should it not be back in time. */
  impatience?: NodeJS.Timeout;
}

export class Coalescer<Item, Result> {
  /** Sends one group's waiting items; answers one result per item, in their order. */
  readonly #send: (group: string, items: Item[]) => Promise<Result[]>;
  readonly #patienceMs: number;
  readonly #groups = new Map<string, Group<Item, Result>>();

  constructor(send: (group: string, items: Item[]) => Promise<Result[]>, patienceMs = 50) {
    this.#send = send;
    this.#patienceMs = patienceMs;
  }

  add(group: string, item: Item): Promise<Result> {
    return new Promise<Result>((resolve, reject) => {
      let state = this.#groups.get(group);
      if (!state) {
        state = { waiting: [], inFlight: 0 };
        this.#groups.set(group, state);
      }
      state.waiting.push({ item, resolve, reject });
      if (state.inFlight === 0) void this.#flush(group, state);
      else state.impatience ??= setTimeout(() => void this.#flush(group, state), this.#patienceMs);
    });
  }

  async #flush(name: string, group: Group<Item, Result>): Promise<void> {
    clearTimeout(group.impatience);
    group.impatience = undefined;
    const calls = group.waiting;
    if (calls.length === 0) return;
    group.waiting = [];
    group.inFlight++;
    try {
      const results = await this.#send(
        name,
        calls.map((call) => call.item),
      );
      if (results.length !== calls.length)
        throw new Error(`${results.length} results for ${calls.length} calls`);
      for (const [i, call] of calls.entries()) call.resolve(results[i] as Result);
    } catch (error) {
      for (const call of calls) call.reject(error);
    } finally {
      group.inFlight--;
      if (group.waiting.length > 0) void this.#flush(name, group);
      else if (group.inFlight === 0) this.#groups.delete(name);
    }
  }
}
