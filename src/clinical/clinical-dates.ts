/**
 * Dates of clinical events at day precision, on the clinic's calendar. "Today" is the date in the clinic's
 * time zone (CLINIC_TIME_ZONE), so ages and "last N months" windows turn over at the clinic's midnight,
 * not UTC's. A timestamp with a zone offset is an instant: it falls on the clinic's date for that instant
 * ("2026-04-22T18:00:00Z" is 23 April in Shanghai). A date, or a time without an offset, counts as written.
 */

const FHIR_DATE =
  /^(\d{4})(?:-(\d{2})(?:-(\d{2})(?:T\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:\d{2})?)?)?)?$/;

const INSTANT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:\d{2})$/;

const DAY_MS = 86_400_000;

function pad(n: number, width = 2): string {
  return String(n).padStart(width, '0');
}

const MONTH_DAYS = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

/** Days in a month (1–12) of the proleptic Gregorian calendar. */
function daysInMonth(year: number, month: number): number {
  const leap = (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
  return month === 2 && leap ? 29 : (MONTH_DAYS[month - 1] ?? 0);
}

/** A date a chart may hold: from 1800 on, a month of the year, a day that month has. */
function isCalendarDate(year: number, month: number, day: number): boolean {
  return year >= 1800 && month >= 1 && month <= 12 && day >= 1 && day <= daysInMonth(year, month);
}

/**
 * A FHIR date or dateTime (YYYY, YYYY-MM, YYYY-MM-DD, or a dateTime) as an ISO date, or undefined when
 * it is not one. A partial date stands for the first day of its period, or the last with `partial: 'end'`.
 */
export function parseClinicalDate(value: unknown, partial: 'start' | 'end' = 'start'): string | undefined {
  if (typeof value !== 'string') return undefined;
  const written = value.trim();
  // Nearly every date of a chart is a full date, YYYY-MM-DD: read by its characters, without the pattern.
  if (written.length === 10 && written[4] === '-' && written[7] === '-') {
    const year = digitsIn(written, 0, 4);
    return isCalendarDate(year, digitsIn(written, 5, 7), digitsIn(written, 8, 10)) ? written : undefined;
  }
  const match = FHIR_DATE.exec(written);
  if (!match) return undefined;
  const year = Number(match[1]);
  const month = match[2] === undefined ? (partial === 'start' ? 1 : 12) : Number(match[2]);
  const day =
    match[3] === undefined ? (partial === 'start' ? 1 : daysInMonth(year, month)) : Number(match[3]);
  if (!isCalendarDate(year, month, day)) return undefined;
  // A dateTime's date is written as its first ten characters; a partial date is completed.
  return match[3] === undefined ? `${pad(year, 4)}-${pad(month)}-${pad(day)}` : written.slice(0, 10);
}

/** The number the ASCII digits from `start` to `end` spell, or −1 when any is not a digit (or missing). */
function digitsIn(written: string, start: number, end: number): number {
  let n = 0;
  for (let i = start; i < end; i++) {
    const digit = written.charCodeAt(i) - 48;
    if (!(digit >= 0 && digit <= 9)) return -1;
    n = n * 10 + digit;
  }
  return n;
}

/** The clinic's calendar: today's date there, and the date there of any FHIR date or dateTime. */
export interface ClinicalDay {
  /** ISO date of today in the clinic's time zone. */
  readonly today: string;
  /** The clinic's date of a FHIR date or dateTime (a partial date: its first day, or last with 'end'). */
  dateOf(value: unknown, partial?: 'start' | 'end'): string | undefined;
}

/** Building a formatter costs more than using one: one per time zone, reused by every hook call. */
const formatters = new Map<string, Intl.DateTimeFormat>();

function formatterFor(timeZone: string): Intl.DateTimeFormat {
  let format = formatters.get(timeZone);
  if (!format) {
    format = new Intl.DateTimeFormat('en-CA', {
      timeZone,
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
    });
    formatters.set(timeZone, format);
  }
  return format;
}

/** The clinic's date of recent instants (today's, mostly), by zone and UTC second; bounded. */
const recentDates = new Map<string, string>();

export function clinicalDay(now: Date, timeZone: string): ClinicalDay {
  const format = formatterFor(timeZone);
  const dateThere = (instant: Date) => {
    // Every zone's offset is whole seconds: one UTC second has one date there, computed once.
    const key = `${timeZone} ${Math.floor(instant.getTime() / 1000)}`;
    const known = recentDates.get(key);
    if (known !== undefined) return known;
    const parts = Object.fromEntries(format.formatToParts(instant).map((p) => [p.type, p.value]));
    const date = `${parts.year}-${parts.month}-${parts.day}`;
    if (recentDates.size >= 1000) recentDates.clear();
    recentDates.set(key, date);
    return date;
  };
  const valid = now instanceof Date && !Number.isNaN(now.getTime()) ? now : new Date();
  return {
    today: dateThere(valid),
    dateOf(value, partial = 'start') {
      const written = parseClinicalDate(value, partial);
      if (written === undefined || typeof value !== 'string') return written;
      const trimmed = value.trim();
      // A date alone (ten characters) is no instant: the pattern is tried only on a longer dateTime.
      if (trimmed.length <= 10 || !INSTANT.test(trimmed)) return written;
      const instant = new Date(trimmed);
      return Number.isNaN(instant.getTime()) ? written : dateThere(instant);
    },
  };
}

/** An ISO date plus whole days (negative to go back). */
export function addDays(isoDate: string, days: number): string {
  return new Date((dayNumber(isoDate) + days) * DAY_MS).toISOString().slice(0, 10);
}

/** An ISO date plus whole calendar months; the day is clamped to the month's length (31 Jan + 1 = 28/29 Feb). */
export function addMonths(isoDate: string, months: number): string {
  const total = Number(isoDate.slice(0, 4)) * 12 + Number(isoDate.slice(5, 7)) - 1 + months;
  const year = Math.floor(total / 12);
  const month = (total % 12) + 1;
  const day = Math.min(Number(isoDate.slice(8, 10)), daysInMonth(year, month));
  return `${pad(year, 4)}-${pad(month)}-${pad(day)}`;
}

/** Days since 1970-01-01 of an ISO date. */
function dayNumber(isoDate: string): number {
  const year = digitsIn(isoDate, 0, 4);
  const month = digitsIn(isoDate, 5, 7);
  const day = digitsIn(isoDate, 8, 10);
  // Read by its digits, as every date of this module is written; anything else as Number reads it.
  if (year >= 0 && month >= 0 && day >= 0) return Date.UTC(year, month - 1, day) / DAY_MS;
  return (
    Date.UTC(Number(isoDate.slice(0, 4)), Number(isoDate.slice(5, 7)) - 1, Number(isoDate.slice(8, 10))) /
    DAY_MS
  );
}

/** Whole days from one ISO date to another (negative when `to` is earlier). */
export function daysBetween(from: string, to: string): number {
  return dayNumber(to) - dayNumber(from);
}

/** Whole calendar years from one ISO date to another. */
export function wholeYearsBetween(from: string, to: string): number {
  const years = Number(to.slice(0, 4)) - Number(from.slice(0, 4));
  return to.slice(5) < from.slice(5) ? years - 1 : years;
}

/** Whole calendar months from one ISO date to another. */
export function wholeMonthsBetween(from: string, to: string): number {
  const months =
    (Number(to.slice(0, 4)) - Number(from.slice(0, 4))) * 12 +
    Number(to.slice(5, 7)) -
    Number(from.slice(5, 7));
  return to.slice(8, 10) < from.slice(8, 10) ? months - 1 : months;
}

/** Whether an ISO date lies after `asOf` plus one day of tolerance (clock and zone differences). */
export function isInFuture(isoDate: string, asOf: string): boolean {
  if (asOf !== futureFrom.asOf) {
    futureFrom.asOf = asOf;
    futureFrom.limit = addDays(asOf, 1);
  }
  // ISO dates compare as strings; the day after `asOf` is computed once per `asOf` (once per hook call).
  return isoDate > futureFrom.limit;
}

const futureFrom = { asOf: '', limit: '' };

/** The later of two optional ISO dates. */
export function laterOf(a: string | undefined, b: string | undefined): string | undefined {
  if (a === undefined) return b;
  if (b === undefined) return a;
  return a >= b ? a : b;
}

/** Items sorted latest first; items without a date come last, in their original order. */
export function latestFirst<T>(items: readonly T[], dateOf: (item: T) => string | undefined): T[] {
  return [...items].sort((x, y) => {
    const a = dateOf(x);
    const b = dateOf(y);
    if (a === b) return 0;
    if (a === undefined) return 1;
    if (b === undefined) return -1;
    return a > b ? -1 : 1;
  });
}
