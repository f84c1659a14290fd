/**
 * Governance analytics from the ledger: per service, card kind, tier and model version, how the cards
 * issued in a window fared, and per week. A card counts once: accepted if any feedback accepted it,
 * else overridden if any overrode it, else without feedback.
 */
import type {
  AnalyticsReport,
  CardGroup,
  OutcomeCounts,
  OverrideReasonCount,
  SuggestionCount,
  WeekCounts,
} from './analytics-report.ts';
import type { Database } from './database.ts';

export interface AnalyticsWindow {
  /** Dates (YYYY-MM-DD) of the clinic's calendar, both included. */
  from: string;
  to: string;
  timeZone: string;
}

const dayMs = 86_400_000;

/** The cards of the window with their outcome, as a CTE the queries below share. */
const windowCards = `
  WITH cards AS (
    SELECT c.card_uuid, c.service, c.kind, coalesce(c.tier, '') AS tier, coalesce(c.model, '') AS model,
           coalesce(c.model_version, '') AS model_version,
           to_char(date_trunc('week', c.issued_at AT TIME ZONE $3), 'YYYY-MM-DD') AS week,
           CASE WHEN bool_or(f.outcome = 'accepted') THEN 'accepted'
                WHEN bool_or(f.outcome = 'overridden') THEN 'overridden' END AS outcome
      FROM issued_card c LEFT JOIN card_feedback f ON f.card_uuid = c.card_uuid
     WHERE (c.issued_at AT TIME ZONE $3)::date BETWEEN $1::date AND $2::date
       AND c.issued_at >= $4 AND c.issued_at < $5
     GROUP BY c.card_uuid
  )`;

interface GroupKey {
  service: string;
  kind: string;
  tier: string;
  model: string;
  model_version: string;
}

interface CountRow extends GroupKey {
  week: string;
  issued: number;
  accepted: number;
  overridden: number;
}

const keyOf = (row: GroupKey) =>
  JSON.stringify([row.service, row.kind, row.tier, row.model, row.model_version]);

function counts(row: { issued: number; accepted: number; overridden: number }): OutcomeCounts {
  return {
    issued: row.issued,
    accepted: row.accepted,
    overridden: row.overridden,
    noFeedback: row.issued - row.accepted - row.overridden,
  };
}

function add(into: OutcomeCounts, more: OutcomeCounts): void {
  into.issued += more.issued;
  into.accepted += more.accepted;
  into.overridden += more.overridden;
  into.noFeedback += more.noFeedback;
}

export async function cardAnalytics(db: Database, window: AnalyticsWindow): Promise<AnalyticsReport> {
  // The UTC bounds, a day wider than any time zone, let the index on issued_at narrow the scan.
  const params = [
    window.from,
    window.to,
    window.timeZone,
    new Date(Date.parse(window.from) - dayMs),
    new Date(Date.parse(window.to) + 2 * dayMs),
  ];
  const weekly = await db.query<CountRow>(
    `${windowCards}
     SELECT service, kind, tier, model, model_version, week, count(*)::int AS issued,
            (count(*) FILTER (WHERE outcome = 'accepted'))::int AS accepted,
            (count(*) FILTER (WHERE outcome = 'overridden'))::int AS overridden
       FROM cards GROUP BY service, kind, tier, model, model_version, week
       ORDER BY service, kind, tier, model_version, week`,
    params,
  );
  const reasons = await db.query<GroupKey & { code: string | null; count: number }>(
    `${windowCards}
     SELECT k.service, k.kind, k.tier, k.model, k.model_version, r.code, count(DISTINCT k.card_uuid)::int AS count
       FROM cards k
       JOIN LATERAL (SELECT DISTINCT f.override_reason AS code FROM card_feedback f
                      WHERE f.card_uuid = k.card_uuid AND f.outcome = 'overridden') r ON true
      WHERE k.outcome = 'overridden'
      GROUP BY k.service, k.kind, k.tier, k.model, k.model_version, r.code
      ORDER BY count DESC, r.code`,
    params,
  );
  const suggestions = await db.query<
    GroupKey & { key: string; label: string; offered: number; accepted: number }
  >(
    `${windowCards}
     SELECT k.service, k.kind, k.tier, k.model, k.model_version, s.key, min(s.label) AS label,
            count(*)::int AS offered,
            (count(*) FILTER (WHERE EXISTS (
               SELECT 1 FROM card_feedback f
                WHERE f.card_uuid = k.card_uuid AND f.outcome = 'accepted'
                  AND s.suggestion_uuid = ANY(f.accepted_suggestions))))::int AS accepted
       FROM cards k JOIN issued_suggestion s ON s.card_uuid = k.card_uuid
      GROUP BY k.service, k.kind, k.tier, k.model, k.model_version, s.key
      ORDER BY offered DESC, s.key`,
    params,
  );

  const groups = new Map<string, CardGroup>();
  for (const row of weekly) {
    const key = keyOf(row);
    let group = groups.get(key);
    if (!group) {
      group = {
        service: row.service,
        kind: row.kind,
        ...(row.tier ? { tier: row.tier } : {}),
        ...(row.model ? { model: row.model } : {}),
        ...(row.model_version ? { modelVersion: row.model_version } : {}),
        issued: 0,
        accepted: 0,
        overridden: 0,
        noFeedback: 0,
        overrideReasons: [],
        suggestions: [],
        weeks: [],
      };
      groups.set(key, group);
    }
    const week: WeekCounts = { week: row.week, ...counts(row) };
    group.weeks.push(week);
    add(group, week);
  }
  for (const row of reasons) {
    const reason: OverrideReasonCount = { ...(row.code ? { code: row.code } : {}), count: row.count };
    groups.get(keyOf(row))?.overrideReasons.push(reason);
  }
  for (const row of suggestions) {
    const suggestion: SuggestionCount = {
      key: row.key,
      label: row.label,
      offered: row.offered,
      accepted: row.accepted,
    };
    groups.get(keyOf(row))?.suggestions.push(suggestion);
  }
  const totals: OutcomeCounts = { issued: 0, accepted: 0, overridden: 0, noFeedback: 0 };
  for (const group of groups.values()) add(totals, group);
  return {
    from: window.from,
    to: window.to,
    timeZone: window.timeZone,
    totals,
    groups: [...groups.values()],
  };
}
