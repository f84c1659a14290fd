/**
 * What the governance analytics report: per service, card kind, tier and model version, how the cards
 * issued in a time window fared, in total and per week. Counts only: no patient, no clinician, no
 * free-text comment ever appears here.
 */

/** A card's outcome: accepted if any feedback accepted it, else overridden if any overrode it. */
export interface OutcomeCounts {
  issued: number;
  accepted: number;
  overridden: number;
  noFeedback: number;
}

export interface OverrideReasonCount {
  /** The coded reason (`urn:pvp-cds:override-reason` code); absent for overrides without a reason. */
  code?: string;
  /** Cards overridden with this reason. */
  count: number;
}

export interface SuggestionCount {
  /** Stable across cards and locales: `ResourceType:system|code` of the suggestion's first order. */
  key: string;
  /** The order's coded display (English, from the terminology), for the table. */
  label: string;
  offered: number;
  accepted: number;
}

export interface WeekCounts extends OutcomeCounts {
  /** Monday of the week (YYYY-MM-DD) in the clinic's time zone. */
  week: string;
}

export interface CardGroup extends OutcomeCounts {
  service: string;
  kind: string;
  /** Risk cards only. */
  tier?: string;
  model?: string;
  modelVersion?: string;
  overrideReasons: OverrideReasonCount[];
  suggestions: SuggestionCount[];
  weeks: WeekCounts[];
}

export interface AnalyticsReport {
  /** The window: dates (YYYY-MM-DD) of the clinic's calendar, both included. */
  from: string;
  to: string;
  timeZone: string;
  totals: OutcomeCounts;
  /** Ordered by service, kind, tier, model version. */
  groups: CardGroup[];
}
