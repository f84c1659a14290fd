import { afterEach, describe, expect, it, vi } from 'vitest';
import { z } from 'zod';
import { timeOrderedUuid } from '../../src/cards/card-uuid.ts';
import { uuidPattern } from '../../src/store/feedback.ts';

const version7 = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

/** The milliseconds in a version 7 uuid's first 48 bits. */
const msOf = (uuid: string) => Number.parseInt(uuid.replaceAll('-', '').slice(0, 12), 16);

describe('card and suggestion uuids', () => {
  afterEach(() => vi.useRealTimers());

  it('are version 7 uuids (RFC 9562) that the CDS Hooks schema and our feedback check accept', () => {
    for (let i = 0; i < 1000; i++) {
      const uuid = timeOrderedUuid();
      expect(uuid).toMatch(version7);
      expect(z.uuid().safeParse(uuid).success).toBe(true);
      expect(uuidPattern.test(uuid)).toBe(true);
    }
  });

  it('carry the time they were made in their first 48 bits, and sort by it', () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    const times = [0, 1, 0x1_0000_0000 - 1, 0x1_0000_0000, Date.UTC(2026, 11, 7, 18, 0, 0, 123), 2 ** 48 - 1];
    const made = times.map((ms) => {
      vi.setSystemTime(ms);
      return timeOrderedUuid();
    });
    expect(made.map(msOf)).toEqual(times);
    expect([...made].sort()).toEqual(made);
  });

  it('differ within one millisecond: 74 random bits, drawn afresh past the 256 of one draw', () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(Date.UTC(2026, 11, 7));
    const made = Array.from({ length: 10_000 }, timeOrderedUuid);
    expect(new Set(made).size).toBe(made.length);
    const variants = new Set(made.map((uuid) => uuid[19]));
    expect([...variants].sort()).toEqual(['8', '9', 'a', 'b']);
  });
});
