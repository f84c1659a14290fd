/**
 * Retention on both engines: ledger rows and feedback older than RETENTION_DAYS go, newer ones stay,
 * and with several replicas one of them does a round while the others skip it.
 */
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Card } from '../../src/cds-hooks/schemas.ts';
import { applyRetention } from '../../src/store/retention.ts';
import type { Store } from '../../src/store/store.ts';
import { type RunningApp, startApp } from '../support/app.ts';
import type { TestFhirServer } from '../support/fhir-server.ts';
import { hookBody, scenarioPrefetch } from '../support/hook-calls.ts';
import { postgresAvailable } from '../support/postgres.ts';
import { backends, openTestStore, postgres } from '../support/stores.ts';

const patientId = 'pvp-high-rbp-risk';
let fhir: TestFhirServer;
let prefetch: Record<string, unknown>;

beforeAll(async () => {
  ({ fhir, prefetch } = await scenarioPrefetch('high-rbp-risk'));
});
afterAll(() => fhir.close());

describe.each(backends())('retention on the $name database', (backend) => {
  let store: Store;
  let app: RunningApp;
  let clock = new Date();

  async function issueOn(day: string): Promise<Card[]> {
    clock = new Date(`${day}T09:00:00Z`);
    const response = await app.post(
      '/cds-services/pvp-risk-patient-view',
      await hookBody('patient-view', patientId, { prefetch }),
    );
    const { cards } = (await response.json()) as { cards: Card[] };
    expect(cards.length).toBeGreaterThan(0);
    const item = { card: cards[0]?.uuid, outcome: 'overridden', outcomeTimestamp: `${day}T09:01:00Z` };
    expect(
      (await app.post('/cds-services/pvp-risk-patient-view/feedback', { feedback: [item] })).status,
    ).toBe(200);
    return cards;
  }

  beforeAll(async () => {
    store = await openTestStore(await backend.place(), { now: () => clock });
    app = await startApp({}, { store, now: () => clock });
  });
  afterAll(async () => {
    await app.close();
    await store.close();
  });

  it('deletes what is older than RETENTION_DAYS and keeps the rest', async () => {
    const old = await issueOn('2026-11-01');
    const recent = await issueOn('2026-11-22');
    await store.ledger.settled();
    const result = await applyRetention(store.db, 10, new Date('2026-11-25T00:00:00Z'));
    expect(result).toMatchObject({ ran: true, cards: old.length, feedback: 1 });
    const left = await store.db.query<{ card_uuid: string }>('SELECT card_uuid::text FROM issued_card');
    expect(left.map((r) => r.card_uuid).sort()).toEqual(recent.map((c) => c.uuid).sort());
    const feedback = await store.db.query('SELECT 1 FROM card_feedback');
    expect(feedback).toHaveLength(1);
    expect(
      await store.db.query(
        'SELECT 1 FROM issued_suggestion s LEFT JOIN issued_card c USING (card_uuid) WHERE c.card_uuid IS NULL',
      ),
    ).toHaveLength(0);
  });
});

describe.runIf(postgresAvailable())('retention with several replicas', () => {
  it('skips a round while another replica holds it', async () => {
    const place = await postgres.place();
    const store = await openTestStore(place);
    const other = new pg.Client({ connectionString: place.DATABASE_URL });
    await other.connect();
    try {
      await other.query('BEGIN');
      await other.query("SELECT pg_advisory_xact_lock('8103516193340846708'::bigint)");
      expect(await applyRetention(store.db, 400, new Date())).toEqual({
        ran: false,
        cards: 0,
        feedback: 0,
        tokens: 0,
      });
      await other.query('COMMIT');
      expect((await applyRetention(store.db, 400, new Date())).ran).toBe(true);
    } finally {
      await other.end();
      await store.close();
    }
  });
});
