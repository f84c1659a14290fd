/**
 * Learning from clinicians, on both storage engines: every card answered is in the ledger (without a
 * patient identifier), feedback is checked against it, stored once and all or nothing, survives a
 * restart, and a database that goes down never fails a hook answer.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Card } from '../../src/cds-hooks/schemas.ts';
import type { Database } from '../../src/store/database.ts';
import type { Store } from '../../src/store/store.ts';
import { type RunningApp, startApp, testDate } from '../support/app.ts';
import type { TestFhirServer } from '../support/fhir-server.ts';
import { cardKind, hookBody, scenarioPrefetch } from '../support/hook-calls.ts';
import { capturedLogger } from '../support/log-capture.ts';
import { backends, type Outage, openTestStore, outageFor } from '../support/stores.ts';

const patientId = 'pvp-high-rbp-risk';
const orderSign = '/cds-services/pvp-risk-order-sign';
const patientView = '/cds-services/pvp-risk-patient-view';
const at = (minutes: number) => new Date(testDate.getTime() + minutes * 60_000).toISOString();

let fhir: TestFhirServer;
let prefetch: Record<string, unknown>;

beforeAll(async () => {
  ({ fhir, prefetch } = await scenarioPrefetch('high-rbp-risk'));
});
afterAll(() => fhir.close());

async function issue(app: RunningApp, path = orderSign): Promise<Card[]> {
  const hook = path === orderSign ? 'order-sign' : 'patient-view';
  const body = await hookBody(hook, patientId, {
    prefetch,
    ...(hook === 'order-sign' ? { draftOrders: 'high-rbp-risk.draft-orders' } : {}),
  });
  const response = await app.post(path, body);
  expect(response.status).toBe(200);
  return ((await response.json()) as { cards: Card[] }).cards;
}

async function feedback(app: RunningApp, items: unknown[], path = orderSign) {
  const response = await app.post(`${path}/feedback`, { feedback: items });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

const withSuggestions = (cards: Card[]) => {
  const card = cards.find((c) => c.suggestions && c.overrideReasons);
  if (!card?.suggestions) throw new Error('no card with suggestions and override reasons');
  return card as Card & { suggestions: NonNullable<Card['suggestions']> };
};

async function count(db: Database, table: string): Promise<number> {
  const [row] = await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${table}`);
  return row?.n ?? 0;
}

describe.each(backends())('feedback and ledger on the $name database', (backend) => {
  let store: Store;
  let app: RunningApp;
  let outage: Outage;
  const { logger, lines } = capturedLogger('warn');

  beforeAll(async () => {
    const place = await backend.place();
    outage = await outageFor(place);
    store = await openTestStore(
      { ...outage.env, PATIENT_KEY_SECRET: 'k'.repeat(32) },
      { now: () => testDate, logger, ...(outage.db ? { db: outage.db } : {}) },
    );
    app = await startApp({}, { store, logger });
  });
  afterAll(async () => {
    await app.close();
    await store.close();
    await outage.close();
  });

  it('records every card answered, with model, tier and factors, and never the patient id', async () => {
    const cards = await issue(app);
    await store.ledger.settled();
    const rows = await store.db.query<Record<string, unknown>>(
      'SELECT * FROM issued_card WHERE card_uuid = ANY($1::uuid[])',
      [cards.map((c) => c.uuid)],
    );
    expect(rows).toHaveLength(cards.length);
    const risk = cards.find((c) => cardKind(c) === 'residual-pain-risk');
    const row = rows.find((r) => r.card_uuid === risk?.uuid);
    const assessment = risk?.extension?.['pvp-cds.assessment'] as {
      points: number;
      tier: string;
      factors: Array<{ id: string }>;
    };
    expect(row).toMatchObject({
      service: 'pvp-risk-order-sign',
      kind: 'residual-pain-risk',
      model: 'rbp-v1',
      model_version: '1.1.0',
      tier: assessment.tier,
      points: assessment.points,
      factors: assessment.factors.map((f) => f.id),
      locale: 'en',
    });
    expect(row?.issued_at).toEqual(testDate);
    expect(row?.patient_key).toMatch(/^[A-Za-z0-9_-]{43}$/);
    const suggestions = await store.db.query<{ suggestion_uuid: string; key: string }>(
      'SELECT suggestion_uuid::text, key FROM issued_suggestion WHERE card_uuid = ANY($1::uuid[])',
      [cards.map((c) => c.uuid)],
    );
    expect(suggestions.map((s) => s.suggestion_uuid).sort()).toEqual(
      cards.flatMap((c) => c.suggestions?.map((s) => s.uuid) ?? []).sort(),
    );
    const everything = JSON.stringify(
      await store.db.query(
        'SELECT c.*, s.* FROM issued_card c LEFT JOIN issued_suggestion s USING (card_uuid)',
      ),
    );
    expect(everything).not.toContain(patientId);
  });

  it("stores the sandbox's accept, override with a reason, and dismiss: 200 each", async () => {
    const card = withSuggestions(await issue(app));
    const [first] = card.suggestions;
    const accept = await feedback(app, [
      {
        card: card.uuid,
        outcome: 'accepted',
        acceptedSuggestions: [{ id: first?.uuid }],
        outcomeTimestamp: at(2),
      },
    ]);
    expect(accept).toEqual({ status: 200, body: { received: 1, stored: 1, alreadyStored: 0 } });
    const other = withSuggestions(await issue(app));
    const override = await feedback(app, [
      {
        card: other.uuid,
        outcome: 'overridden',
        overrideReason: { reason: { code: 'patient-declined' } },
        outcomeTimestamp: at(3),
      },
    ]);
    expect(override.status).toBe(200);
    const dismissed = withSuggestions(await issue(app));
    expect(
      (await feedback(app, [{ card: dismissed.uuid, outcome: 'overridden', outcomeTimestamp: at(3) }]))
        .status,
    ).toBe(200);
    const rows = await store.db.query<{ card_uuid: string; outcome: string; override_reason: string | null }>(
      'SELECT card_uuid::text, outcome, override_reason FROM card_feedback WHERE card_uuid = ANY($1::uuid[]) ORDER BY outcome, override_reason',
      [[card.uuid, other.uuid, dismissed.uuid]],
    );
    expect(rows).toEqual([
      { card_uuid: card.uuid, outcome: 'accepted', override_reason: null },
      { card_uuid: other.uuid, outcome: 'overridden', override_reason: 'patient-declined' },
      { card_uuid: dismissed.uuid, outcome: 'overridden', override_reason: null },
    ]);
  });

  it('stores the same item once, sent again or twice at the same moment', async () => {
    const card = withSuggestions(await issue(app));
    const item = {
      card: card.uuid,
      outcome: 'accepted',
      acceptedSuggestions: [{ id: card.suggestions[0]?.uuid }],
      outcomeTimestamp: at(1),
    };
    const [a, b] = await Promise.all([feedback(app, [item]), feedback(app, [item])]);
    expect([a.status, b.status]).toEqual([200, 200]);
    expect([a.body.stored, b.body.stored].sort()).toEqual([0, 1]);
    const again = await feedback(app, [item, { ...item, outcomeTimestamp: at(1).replace('Z', '+00:00') }]);
    expect(again.body).toEqual({ received: 2, stored: 0, alreadyStored: 2 });
    const rows = await store.db.query('SELECT 1 FROM card_feedback WHERE card_uuid = $1', [card.uuid]);
    expect(rows).toHaveLength(1);
  });

  it('refuses a batch with one bad item, naming it, and stores nothing of it', async () => {
    const [card, other] = [withSuggestions(await issue(app)), withSuggestions(await issue(app))];
    const before = await count(store.db, 'card_feedback');
    const good = { card: card.uuid, outcome: 'overridden', outcomeTimestamp: at(2) };
    const bad = {
      card: card.uuid,
      outcome: 'accepted',
      acceptedSuggestions: [{ id: other.suggestions[0]?.uuid }],
      outcomeTimestamp: at(2),
    };
    const refused = await feedback(app, [good, bad]);
    expect(refused.status).toBe(400);
    expect(JSON.stringify(refused.body)).toContain(
      'feedback[1].acceptedSuggestions[0].id: is not a suggestion of this card',
    );
    expect(await count(store.db, 'card_feedback')).toBe(before);
  });

  it.each([
    [
      'an unknown card',
      (c: Card) => ({ card: crypto.randomUUID(), outcome: 'overridden', outcomeTimestamp: at(1), _: c }),
      'feedback[0].card: no card',
    ],
    [
      'a card id that is not a uuid',
      () => ({ card: 'card-1', outcome: 'overridden', outcomeTimestamp: at(1) }),
      'feedback[0].card: must be the uuid of a card',
    ],
    [
      'a reason the card did not offer',
      (c: Card) => ({
        card: c.uuid,
        outcome: 'overridden',
        overrideReason: { reason: { system: 'urn:pvp-cds:override-reason', code: 'too-busy' } },
        outcomeTimestamp: at(1),
      }),
      "feedback[0].overrideReason.reason.code: is not one of this card's override reasons",
    ],
    [
      'a reason of another system',
      (c: Card) => ({
        card: c.uuid,
        outcome: 'overridden',
        overrideReason: { reason: { system: 'http://example.org', code: 'patient-declined' } },
        outcomeTimestamp: at(1),
      }),
      'feedback[0].overrideReason.reason.system',
    ],
    [
      'accepted without acceptedSuggestions',
      (c: Card) => ({ card: c.uuid, outcome: 'accepted', outcomeTimestamp: at(1) }),
      'feedback[0]: acceptedSuggestions is required when the outcome is accepted',
    ],
    [
      'an unknown outcome',
      (c: Card) => ({ card: c.uuid, outcome: 'ignored', outcomeTimestamp: at(1) }),
      'feedback[0].outcome',
    ],
    [
      'a timestamp without a zone',
      (c: Card) => ({ card: c.uuid, outcome: 'overridden', outcomeTimestamp: '2026-11-22T10:01:00' }),
      'feedback[0].outcomeTimestamp: must be an RFC 3339 date-time',
    ],
    [
      'an impossible date',
      (c: Card) => ({ card: c.uuid, outcome: 'overridden', outcomeTimestamp: '2026-02-30T10:01:00Z' }),
      'feedback[0].outcomeTimestamp',
    ],
    [
      'a timestamp in the future',
      (c: Card) => ({ card: c.uuid, outcome: 'overridden', outcomeTimestamp: at(60) }),
      'feedback[0].outcomeTimestamp: is in the future',
    ],
    [
      'a comment with a NUL character (text cannot hold one)',
      (c: Card) => ({
        card: c.uuid,
        outcome: 'overridden',
        overrideReason: { reason: c.overrideReasons?.[0], userComment: 'patient declined\u0000' },
        outcomeTimestamp: at(1),
      }),
      'feedback[0].overrideReason.userComment: must not contain a NUL character',
    ],
    [
      'a timestamp before the card',
      (c: Card) => ({ card: c.uuid, outcome: 'overridden', outcomeTimestamp: at(-60) }),
      'feedback[0].outcomeTimestamp: is before the card was issued',
    ],
  ])('400 for %s', async (_name, item, message) => {
    const card = withSuggestions(await issue(app));
    const refused = await feedback(app, [item(card)]);
    expect(refused.status).toBe(400);
    expect(refused.body.resourceType).toBe('OperationOutcome');
    expect(JSON.stringify(refused.body)).toContain(message);
  });

  it('400 for feedback on a card of the other service', async () => {
    const [card] = await issue(app, patientView);
    const refused = await feedback(app, [
      { card: card?.uuid, outcome: 'overridden', outcomeTimestamp: at(1) },
    ]);
    expect(refused.status).toBe(400);
    expect(JSON.stringify(refused.body)).toContain(
      'was issued by pvp-risk-patient-view, not by pvp-risk-order-sign',
    );
  });

  it('400 for a body without a feedback list, and 404 for an unknown service', async () => {
    expect((await app.post(`${orderSign}/feedback`, { items: [] })).status).toBe(400);
    expect((await app.post(`${orderSign}/feedback`, { feedback: [] })).status).toBe(400);
    expect((await app.post('/cds-services/nope/feedback', { feedback: [{}] })).status).toBe(404);
  });

  it('keeps cards and feedback across a restart', async () => {
    const place = await backend.place();
    const first = await openTestStore(place, { now: () => testDate });
    const before = await startApp({}, { store: first });
    const card = withSuggestions(await issue(before));
    await before.close();
    await first.close();

    const second = await openTestStore(place, { now: () => testDate });
    const after = await startApp({}, { store: second });
    try {
      const stored = await feedback(after, [
        { card: card.uuid, outcome: 'overridden', outcomeTimestamp: at(4) },
      ]);
      expect(stored.body).toEqual({ received: 1, stored: 1, alreadyStored: 0 });
      const kept = await second.db.query('SELECT 1 FROM issued_card WHERE card_uuid = $1', [card.uuid]);
      expect(kept).toHaveLength(1);
    } finally {
      await after.close();
      await second.close();
    }
  });

  it('answers hooks while the database is down, counts the loss, and tells feedback for those cards why', async () => {
    lines.length = 0;
    const lostBefore = store.ledger.lostCount;
    const down = outage;
    down.cut();
    try {
      const cards = await issue(app);
      expect(cards.length).toBeGreaterThan(0);
      await store.ledger.settled();
      expect(store.ledger.lostCount).toBe(lostBefore + cards.length);
      expect(lines.some((l) => l.includes('issued cards could not be recorded'))).toBe(true);
      const unavailable = await feedback(app, [
        { card: cards[0]?.uuid, outcome: 'overridden', outcomeTimestamp: at(1) },
      ]);
      expect(unavailable.status).toBe(503);
      down.restore();
      const conflict = await feedback(app, [
        { card: cards[0]?.uuid, outcome: 'overridden', outcomeTimestamp: at(1) },
      ]);
      expect(conflict.status).toBe(409);
      expect(JSON.stringify(conflict.body)).toContain(
        `card ${cards[0]?.uuid} was issued while the ledger could not record it`,
      );
      expect(JSON.stringify(lines)).not.toContain(patientId);
    } finally {
      down.restore();
    }
  });

  it('records the other answers written with ones the database refuses, and loses only those', async () => {
    lines.length = 0;
    const lostBefore = store.ledger.lostCount;
    const answer = (hookInstance: string) => {
      const cards: Card[] = [0, 1].map(() => ({
        uuid: crypto.randomUUID(),
        summary: 'a card',
        indicator: 'info',
        source: { label: 'pvp-cds' },
      }));
      // Past the request's validation, as a value that reaches the ledger some other way would be.
      store.ledger.record({
        service: 'pvp-risk-patient-view',
        hookInstance,
        locale: 'en',
        issuedAt: testDate,
        patient: { patientId },
        cards,
        modelVersions: {},
      });
      return cards.map((card) => card.uuid);
    };
    // Nine answers written together; the third and the eighth carry a NUL the database refuses.
    const answers = [...Array(9).keys()].map((i) =>
      answer(i === 2 || i === 7 ? `d1577c69\u0000${i}` : crypto.randomUUID()),
    );
    const refused = [...(answers[2] ?? []), ...(answers[7] ?? [])];
    const kept = answers.flat().filter((uuid) => !refused.includes(uuid));
    await store.ledger.settled();
    const recorded = await store.db.query<{ card_uuid: string }>(
      'SELECT card_uuid::text FROM issued_card WHERE card_uuid = ANY($1::uuid[])',
      [answers.flat()],
    );
    expect(recorded.map((row) => row.card_uuid).sort()).toEqual(kept.sort());
    expect(store.ledger.lostCount).toBe(lostBefore + 4);
    expect(refused.every((uuid) => store.ledger.wasLost(uuid))).toBe(true);
    expect(kept.some((uuid) => store.ledger.wasLost(uuid))).toBe(false);
    const report = lines
      .map((line) => JSON.parse(line) as { msg: string; cards?: number; why?: string })
      .filter((line) => line.msg === 'issued cards could not be recorded');
    expect(report).toEqual([
      expect.objectContaining({ cards: 2, why: expect.stringMatching(/ 22[0-9A-Z]{3}$/) }),
      expect.objectContaining({ cards: 2, why: expect.stringMatching(/ 22[0-9A-Z]{3}$/) }),
    ]);
    expect(JSON.stringify(lines)).not.toContain(patientId);
  });

  it('while losses go on, logs one line with the count, not one per answer', async () => {
    lines.length = 0;
    const lostBefore = store.ledger.lostCount;
    outage.cut();
    try {
      for (let i = 0; i < 5; i++) {
        await issue(app);
        // Each answer's cards are written, and lost, on their own.
        await new Promise((resolve) => setTimeout(resolve, 60));
      }
      const report = () =>
        lines
          .map((line) => JSON.parse(line) as { msg: string; cards?: number })
          .filter((line) => line.msg === 'issued cards could not be recorded');
      const lost = store.ledger.lostCount - lostBefore;
      expect(report()).toHaveLength(1);
      expect(report()[0]?.cards).toBeLessThan(lost);
      // Closing (settled) says what was lost since the line.
      await store.ledger.settled();
      expect(report()).toHaveLength(2);
      expect(report().reduce((sum, line) => sum + (line.cards ?? 0), 0)).toBe(lost);
    } finally {
      outage.restore();
    }
  });
});
