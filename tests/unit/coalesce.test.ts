/**
 * Calls that arrive while their group's previous call is with the database go together in the next
 * one; a lone call is sent at once; no call waits past its patience for one that hangs; a failure
 * fails the calls it carried and no others.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { Coalescer } from '../../src/store/coalesce.ts';

/** A send that records each batch and answers when the test says. */
function heldSend() {
  const batches: Array<{ group: string; items: number[] }> = [];
  const pending: Array<{ resolve(results: string[]): void; reject(error: Error): void; items: number[] }> =
    [];
  const send = (group: string, items: number[]) => {
    batches.push({ group, items });
    return new Promise<string[]>((resolve, reject) => pending.push({ resolve, reject, items }));
  };
  /** Answers the oldest batch still waiting, one result per item. */
  const answer = () => {
    const next = pending.shift();
    next?.resolve(next.items.map((item) => `result ${item}`));
  };
  const fail = (error: Error) => pending.shift()?.reject(error);
  return { batches, send, answer, fail };
}

afterEach(() => {
  vi.useRealTimers();
});

describe('Coalescer', () => {
  it('sends a lone call at once, alone', async () => {
    const held = heldSend();
    const coalescer = new Coalescer(held.send);
    const result = coalescer.add('client a', 1);
    expect(held.batches).toEqual([{ group: 'client a', items: [1] }]);
    held.answer();
    expect(await result).toBe('result 1');
  });

  it('sends the calls that waited for one in flight together, each with its own result', async () => {
    const held = heldSend();
    const coalescer = new Coalescer(held.send);
    const first = coalescer.add('client a', 1);
    const waiting = [
      coalescer.add('client a', 2),
      coalescer.add('client a', 3),
      coalescer.add('client a', 4),
    ];
    expect(held.batches).toHaveLength(1);
    held.answer();
    expect(await first).toBe('result 1');
    expect(held.batches).toEqual([
      { group: 'client a', items: [1] },
      { group: 'client a', items: [2, 3, 4] },
    ]);
    held.answer();
    expect(await Promise.all(waiting)).toEqual(['result 2', 'result 3', 'result 4']);
    const later = coalescer.add('client a', 5);
    expect(held.batches.at(-1)).toEqual({ group: 'client a', items: [5] });
    held.answer();
    expect(await later).toBe('result 5');
  });

  it('keeps groups apart: one client in flight does not hold another back', () => {
    const held = heldSend();
    const coalescer = new Coalescer(held.send);
    void coalescer.add('client a', 1);
    void coalescer.add('client a', 2);
    void coalescer.add('client b', 3);
    expect(held.batches).toEqual([
      { group: 'client a', items: [1] },
      { group: 'client b', items: [3] },
    ]);
  });

  it('fails only the calls a failed batch carried, and sends the next batch', async () => {
    const held = heldSend();
    const coalescer = new Coalescer(held.send);
    const first = coalescer.add('client a', 1);
    const second = coalescer.add('client a', 2);
    held.fail(new Error('database unavailable'));
    await expect(first).rejects.toThrow('database unavailable');
    expect(held.batches.at(-1)).toEqual({ group: 'client a', items: [2] });
    held.answer();
    expect(await second).toBe('result 2');
  });

  it('refuses an answer with fewer results than calls rather than leave a call without one', async () => {
    const coalescer = new Coalescer(async (_group: string, items: number[]) => items.slice(1).map(String));
    await expect(coalescer.add('client a', 1)).rejects.toThrow('0 results for 1 calls');
  });

  it('sends the waiting calls without the one in flight once their patience is out, as a database that hangs', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    const held = heldSend();
    const coalescer = new Coalescer(held.send, 50);
    const hanging = coalescer.add('client a', 1);
    const waiting = [coalescer.add('client a', 2), coalescer.add('client a', 3)];
    vi.advanceTimersByTime(49);
    expect(held.batches).toHaveLength(1);
    vi.advanceTimersByTime(1);
    expect(held.batches.at(-1)).toEqual({ group: 'client a', items: [2, 3] });
    held.fail(new Error('statement timeout'));
    held.answer();
    await expect(hanging).rejects.toThrow('statement timeout');
    expect(await Promise.all(waiting)).toEqual(['result 2', 'result 3']);
  });
});
