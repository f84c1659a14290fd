/**
 * Clinicians' feedback on issued cards (CDS Hooks 2.0 feedback). Every item is checked against the
 * ledger, the batch is stored all or nothing, and an item sent again (or twice at once) is stored once:
 * its row key is a digest of what it says.
 */
import { createHash } from 'node:crypto';
import { overrideReasonSystem } from '../cards/card-frame.ts';
import { type FeedbackItem, feedbackItemSchema } from '../cds-hooks/schemas.ts';
import type { Database } from './database.ts';
import type { CardLedger } from './ledger.ts';

export interface FeedbackProblem {
  /** FHIRPath-like location in the request body: `feedback[2].acceptedSuggestions[0].id`. */
  expression: string;
  message: string;
}

export type FeedbackResult =
  | { kind: 'stored'; received: number; stored: number; alreadyStored: number }
  | { kind: 'invalid'; problems: FeedbackProblem[] }
  /** Cards this process issued but could not record: their feedback cannot be counted. */
  | { kind: 'unrecorded'; cards: string[] };

export const uuidPattern = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Clocks of EHR and service may differ this much. */
const clockSkewMs = 5 * 60_000;

interface IssuedCard {
  card_uuid: string;
  service: string;
  override_reasons: string[];
  issued_at: Date;
  suggestions: string[];
}

async function issuedCards(db: Database, uuids: string[]): Promise<Map<string, IssuedCard>> {
  if (uuids.length === 0) return new Map();
  const rows = await db.query<IssuedCard>(
    `SELECT c.card_uuid::text AS card_uuid, c.service, c.override_reasons, c.issued_at,
            coalesce(array_agg(s.suggestion_uuid::text) FILTER (WHERE s.suggestion_uuid IS NOT NULL), '{}') AS suggestions
       FROM issued_card c LEFT JOIN issued_suggestion s ON s.card_uuid = c.card_uuid
      WHERE c.card_uuid = ANY($1::uuid[])
      GROUP BY c.card_uuid`,
    [uuids],
  );
  return new Map(rows.map((row) => [row.card_uuid, row]));
}

function parseItems(items: unknown[]): {
  parsed: Array<FeedbackItem | undefined>;
  problems: FeedbackProblem[];
} {
  const problems: FeedbackProblem[] = [];
  const parsed = items.map((item, index) => {
    const result = feedbackItemSchema.safeParse(item);
    if (result.success) {
      if (!uuidPattern.test(result.data.card)) {
        problems.push({ expression: `feedback[${index}].card`, message: 'must be the uuid of a card' });
        return undefined;
      }
      return result.data;
    }
    for (const issue of result.error.issues) {
      const path = issue.path.map((p) => (typeof p === 'number' ? `[${p}]` : `.${String(p)}`)).join('');
      problems.push({ expression: `feedback[${index}]${path}`, message: issue.message });
    }
    return undefined;
  });
  return { parsed, problems };
}

/** What is wrong with one well-formed item, given the card it names. */
function checkItem(
  item: FeedbackItem,
  at: string,
  card: IssuedCard,
  service: string,
  now: Date,
): FeedbackProblem[] {
  const problems: FeedbackProblem[] = [];
  const problem = (field: string, message: string) => problems.push({ expression: `${at}${field}`, message });
  if (card.service !== service) problem('.card', `was issued by ${card.service}, not by ${service}`);
  if (item.outcome === 'accepted') {
    if (!item.acceptedSuggestions)
      problem('', 'acceptedSuggestions is required when the outcome is accepted');
    if (item.overrideReason) problem('.overrideReason', 'is only for the outcome overridden');
    const offered = new Set(card.suggestions.map((s) => s.toLowerCase()));
    item.acceptedSuggestions?.forEach((s, i) => {
      if (!offered.has(s.id.toLowerCase()))
        problem(`.acceptedSuggestions[${i}].id`, 'is not a suggestion of this card');
    });
  } else {
    if (item.acceptedSuggestions) problem('.acceptedSuggestions', 'is only for the outcome accepted');
    const reason = item.overrideReason?.reason;
    if (reason?.code !== undefined) {
      if (reason.system !== undefined && reason.system !== overrideReasonSystem)
        problem(
          '.overrideReason.reason.system',
          `must be ${overrideReasonSystem}, the system of this card's reasons`,
        );
      else if (card.override_reasons.length === 0)
        problem('.overrideReason.reason', 'this card offered no override reasons');
      else if (!card.override_reasons.includes(reason.code))
        problem(
          '.overrideReason.reason.code',
          `is not one of this card's override reasons (${card.override_reasons.join(', ')})`,
        );
    }
  }
  const outcomeAt = Date.parse(item.outcomeTimestamp.replace(' ', 'T'));
  if (outcomeAt > now.getTime() + clockSkewMs) problem('.outcomeTimestamp', 'is in the future');
  if (outcomeAt < card.issued_at.getTime() - clockSkewMs)
    problem('.outcomeTimestamp', 'is before the card was issued');
  return problems;
}

/** The item as the clinician meant it: the same item sent twice has the same digest. */
function digest(item: FeedbackItem): string {
  const canonical = [
    item.card.toLowerCase(),
    item.outcome,
    (item.acceptedSuggestions ?? []).map((s) => s.id.toLowerCase()).sort(),
    item.overrideReason?.reason?.code ?? null,
    item.overrideReason?.userComment ?? null,
    new Date(item.outcomeTimestamp.replace(' ', 'T')).toISOString(),
  ];
  return createHash('sha256').update(JSON.stringify(canonical)).digest('base64url');
}

export async function recordFeedback(
  db: Database,
  ledger: CardLedger,
  request: { service: string; items: unknown[]; receivedAt: Date },
): Promise<FeedbackResult> {
  const { parsed, problems } = parseItems(request.items);
  const wanted = [...new Set(parsed.flatMap((item) => (item ? [item.card.toLowerCase()] : [])))];
  let cards = await issuedCards(db, wanted);
  if (wanted.some((uuid) => !cards.has(uuid))) {
    // A card answered a moment ago may still be on its way into the ledger.
    await ledger.settled();
    cards = await issuedCards(db, wanted);
  }
  const unrecorded = new Set<string>();
  parsed.forEach((item, index) => {
    if (!item) return;
    const uuid = item.card.toLowerCase();
    const card = cards.get(uuid);
    if (card)
      problems.push(...checkItem(item, `feedback[${index}]`, card, request.service, request.receivedAt));
    else if (ledger.wasLost(uuid)) unrecorded.add(item.card);
    else
      problems.push({
        expression: `feedback[${index}].card`,
        message: `no card ${item.card} was issued by this service`,
      });
  });
  if (problems.length > 0) return { kind: 'invalid', problems };
  if (unrecorded.size > 0) return { kind: 'unrecorded', cards: [...unrecorded] };

  const items = parsed as FeedbackItem[];
  const stored = await db.transaction(async (tx) => {
    let inserted = 0;
    for (const item of items) {
      const rows = await tx.query(
        `INSERT INTO card_feedback (digest, card_uuid, outcome, accepted_suggestions, override_reason,
           user_comment, outcome_at, received_at)
         VALUES ($1, $2, $3, $4::uuid[], $5, $6, $7, $8)
         ON CONFLICT (digest) DO NOTHING RETURNING digest`,
        [
          digest(item),
          item.card,
          item.outcome,
          (item.acceptedSuggestions ?? []).map((s) => s.id),
          item.overrideReason?.reason?.code ?? null,
          item.overrideReason?.userComment ?? null,
          new Date(item.outcomeTimestamp.replace(' ', 'T')),
          request.receivedAt,
        ],
      );
      inserted += rows.length;
    }
    return inserted;
  });
  return { kind: 'stored', received: items.length, stored, alreadyStored: items.length - stored };
}
