import { describe, expect, it } from 'vitest';
import type { Card } from '../../src/cds-hooks/schemas.ts';
import type { Logger } from '../../src/observability/logger.ts';
import type { Database } from '../../src/store/database.ts';
import { CardLedger } from '../../src/store/ledger.ts';

/** A database that must not be reached: these answers are refused before anything is written. */
const unreachable = new Proxy({} as Database, {
  get: () => {
    throw new Error('the database was reached');
  },
});

function collectingLogger(lines: Array<{ fields: unknown; message: string }>): Logger {
  const logger = {
    error: (fields: unknown, message: string) => lines.push({ fields, message }),
  };
  return logger as unknown as Logger;
}

const card = (uuid: string): Card => ({
  uuid,
  summary: 'a card',
  indicator: 'info',
  source: { label: 'pvp-cds' },
});

describe('the card ledger', () => {
  it('counts and remembers an answer whose rows cannot be made, and does not throw into the hook route', async () => {
    const lines: Array<{ fields: unknown; message: string }> = [];
    const ledger = new CardLedger(unreachable, collectingLogger(lines), undefined);
    const uuids = ['7a1e9a52-4c1f-4b5e-9a43-0f3f6f0c0a01', '7a1e9a52-4c1f-4b5e-9a43-0f3f6f0c0a02'];
    expect(() =>
      ledger.record({
        service: 'pvp-risk-patient-view',
        hookInstance: 'd1577c69-dfbe-44ad-ba6d-3e05e953b2ea',
        locale: 'en',
        issuedAt: new Date(Number.NaN),
        patient: { patientId: 'pvp-high-rbp-risk' },
        cards: uuids.map(card),
        modelVersions: {},
      }),
    ).not.toThrow();
    expect(ledger.lostCount).toBe(2);
    expect(uuids.every((uuid) => ledger.wasLost(uuid))).toBe(true);
    await ledger.settled();
    expect(lines).toHaveLength(1);
    expect(lines[0]?.message).toBe('issued cards could not be recorded');
    expect(lines[0]?.fields).toMatchObject({
      cards: 2,
      why: 'RangeError',
      cdsServices: ['pvp-risk-patient-view'],
    });
    expect(JSON.stringify(lines)).not.toContain('pvp-high-rbp-risk');
  });
});
