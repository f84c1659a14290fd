/**
 * The issued-card ledger: every card answered is recorded (uuids, service, kind, model and version,
 * tier, points, factor ids, locale, time, hook instance), never a patient identifier. Recording happens
 * after the answer has gone and never fails it: answers of the last few milliseconds are written
 * together, and a card whose record could not be written is counted, logged, and remembered for a
 * while so that its feedback is told why it cannot be counted. An answer waits as its rows' JSON text,
 * not as its cards: the cards' objects die with the answer, and the heap's young generation does not
 * copy them while they wait (bench/README.md, "Garbage collection").
 */
import { createHmac } from 'node:crypto';
import { type AssessmentExtension, extensionKey } from '../cards/card-frame.ts';
import type { Card, Suggestion } from '../cds-hooks/schemas.ts';
import type { Logger } from '../observability/logger.ts';
import type { Database } from './database.ts';

export interface IssuedCards {
  service: string;
  hookInstance: string;
  locale: string;
  issuedAt: Date;
  /** The patient in context, turned into `patient_key` with the HMAC secret when there is one. */
  patient: { fhirServer?: string | undefined; patientId: string };
  cards: Card[];
  /** Model id → version, for the risk cards. */
  modelVersions: Readonly<Record<string, string>>;
}

interface CodedOrder {
  resourceType?: string;
  code?: { coding?: Array<{ system?: string; code?: string; display?: string }> };
  medicationCodeableConcept?: { coding?: Array<{ system?: string; code?: string; display?: string }> };
}

/** A suggestion's stable identity across cards and locales: its first order's type and code. */
export function suggestionKey(suggestion: Suggestion): { key: string; label: string } {
  const resource = suggestion.actions?.[0]?.resource as CodedOrder | undefined;
  const coding = (resource?.medicationCodeableConcept ?? resource?.code)?.coding?.[0];
  if (resource?.resourceType && coding?.code) {
    return {
      key: `${resource.resourceType}:${coding.system ?? ''}|${coding.code}`,
      label: coding.display ?? coding.code,
    };
  }
  return { key: `suggestion:${suggestion.label}`, label: suggestion.label };
}

/** Bounds what the ledger holds in memory while the database is slow or down. */
const maxQueuedCards = 5000;
const maxRemembered = 10_000;
/** Records wait this long to be written together: one statement per table for many hook calls. */
const flushDelayMs = 25;
/** Answers per transaction: 1000 drains about 4550 answers/s into the embedded database, 200 about 3240. */
const maxBatch = 1000;
/** While cards keep being lost, one log line per this interval says how many, not one per answer. */
const lossLogIntervalMs = 10_000;

interface CardRow {
  card_uuid: string;
  service: string;
  kind: string;
  indicator: string;
  model: string | null;
  model_version: string | null;
  tier: string | null;
  points: number | null;
  factors: string[];
  assessment: Pick<AssessmentExtension, 'factors' | 'notAssessed'> | null;
  override_reasons: string[];
  locale: string;
  hook_instance: string;
  patient_key: string | null;
  issued_at: string;
}

interface SuggestionRow {
  suggestion_uuid: string;
  card_uuid: string;
  key: string;
  label: string;
}

/** A hook answer waiting to be written: its cards' uuids, and its rows as JSON text. */
interface Pending {
  service: string;
  cardUuids: string[];
  /** The rows' objects, comma-separated: a JSON array's text without its brackets. */
  cards: string;
  /** The same for the suggestions' rows; empty when the cards suggest nothing. */
  suggestions: string;
}

const insertCards = `
  INSERT INTO issued_card (card_uuid, service, kind, indicator, model, model_version, tier, points, factors,
    assessment, override_reasons, locale, hook_instance, patient_key, issued_at)
  SELECT r.card_uuid, r.service, r.kind, r.indicator, r.model, r.model_version, r.tier, r.points,
         ARRAY(SELECT jsonb_array_elements_text(r.factors)), r.assessment,
         ARRAY(SELECT jsonb_array_elements_text(r.override_reasons)),
         r.locale, r.hook_instance, r.patient_key, r.issued_at
    FROM jsonb_to_recordset($1::jsonb) AS r(card_uuid uuid, service text, kind text, indicator text,
      model text, model_version text, tier text, points integer, factors jsonb, assessment jsonb,
      override_reasons jsonb, locale text, hook_instance text, patient_key text, issued_at timestamptz)`;

const insertSuggestions = `
  INSERT INTO issued_suggestion (suggestion_uuid, card_uuid, key, label)
  SELECT r.suggestion_uuid, r.card_uuid, r.key, r.label
    FROM jsonb_to_recordset($1::jsonb) AS r(suggestion_uuid uuid, card_uuid uuid, key text, label text)`;

/** The SQLSTATE of a database's error, if it has one. */
function sqlState(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null | undefined)?.code;
  return typeof code === 'string' ? code : undefined;
}

/** The database refused the statement for its values (SQLSTATE class 22, data exception, or 23, integrity). */
function refusedItsData(error: unknown): boolean {
  return /^2[23][0-9A-Z]{3}$/.test(sqlState(error) ?? '');
}

/** Why records were lost, for the log line: the error's name, and its SQLSTATE when it has one. */
function whyLost(error: unknown): string {
  const name = error instanceof Error ? error.name : 'error';
  const code = sqlState(error);
  return code ? `${name} ${code}` : name;
}

export class CardLedger {
  readonly #db: Database;
  readonly #logger: Logger;
  readonly #secret: string | undefined;
  /** Hook answers whose cards wait to be written. */
  #queue: Pending[] = [];
  #queuedCards = 0;
  #flushing: Promise<void> | undefined;
  #timer: NodeJS.Timeout | undefined;
  /** Uuids of cards issued by this process whose record was lost, oldest first. */
  readonly #lost = new Set<string>();
  #lostCount = 0;
  /** Lost cards not yet logged, and the timer of the next line while losses go on. */
  #unlogged = { cards: 0, services: new Set<string>(), why: new Set<string>() };
  #lossLog: NodeJS.Timeout | undefined;

  constructor(db: Database, logger: Logger, patientKeySecret: string | undefined) {
    this.#db = db;
    this.#logger = logger;
    this.#secret = patientKeySecret;
  }

  /** Cards whose record could not be written since the process started. */
  get lostCount(): number {
    return this.#lostCount;
  }

  /** Whether this process issued `cardUuid` but could not record it. */
  wasLost(cardUuid: string): boolean {
    return this.#lost.has(cardUuid);
  }

  /** Resolves when every record started so far has been written or given up. */
  async settled(): Promise<void> {
    while (this.#queue.length > 0 || this.#flushing) {
      if (!this.#flushing) this.#flush();
      await this.#flushing;
    }
    clearTimeout(this.#lossLog);
    this.#lossLog = undefined;
    if (this.#unlogged.cards > 0) this.#logLoss();
  }

  /** Queues the cards for recording; returns at once. Failures are counted and logged, never thrown. */
  record(issued: IssuedCards): void {
    if (issued.cards.length === 0) return;
    const cardUuids = issued.cards.map((card) => card.uuid);
    if (this.#queuedCards + cardUuids.length > maxQueuedCards) {
      this.#lose([{ service: issued.service, cardUuids }], 'too many records waiting for the database');
      return;
    }
    let rows: Pick<Pending, 'cards' | 'suggestions'>;
    try {
      rows = this.#rows(issued);
    } catch (error) {
      this.#lose([{ service: issued.service, cardUuids }], whyLost(error));
      return;
    }
    this.#queue.push({ service: issued.service, cardUuids, ...rows });
    this.#queuedCards += cardUuids.length;
    this.#timer ??= setTimeout(() => this.#flush(), flushDelayMs);
  }

  /** Writes what is queued, a batch at a time, one transaction per batch. */
  #flush(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    if (this.#flushing || this.#queue.length === 0) return;
    const batch = this.#queue.splice(0, maxBatch);
    this.#queuedCards -= batch.reduce((sum, pending) => sum + pending.cardUuids.length, 0);
    this.#flushing = this.#write(batch)
      .catch((error: unknown) =>
        refusedItsData(error) && batch.length > 1
          ? this.#writeApart(batch)
          : this.#lose(batch, whyLost(error)),
      )
      .finally(() => {
        this.#flushing = undefined;
        if (this.#queue.length > 0) this.#timer ??= setTimeout(() => this.#flush(), 0);
      });
  }

  #patientKey(patient: IssuedCards['patient']): string | null {
    if (!this.#secret) return null;
    return createHmac('sha256', this.#secret)
      .update(`${patient.fhirServer ?? ''}\n${patient.patientId}`)
      .digest('base64url');
  }

  /** The answer's rows, as the text of JSON arrays without their brackets. */
  #rows(issued: IssuedCards): Pick<Pending, 'cards' | 'suggestions'> {
    const patientKey = this.#patientKey(issued.patient);
    const issuedAt = issued.issuedAt.toISOString();
    const cards: CardRow[] = [];
    const suggestions: SuggestionRow[] = [];
    for (const card of issued.cards) {
      const assessment = card.extension?.[extensionKey] as AssessmentExtension | undefined;
      cards.push({
        card_uuid: card.uuid,
        service: issued.service,
        kind: assessment?.kind ?? 'unknown',
        indicator: card.indicator,
        model: assessment?.model ?? null,
        model_version: assessment?.model ? (issued.modelVersions[assessment.model] ?? null) : null,
        tier: assessment?.tier ?? null,
        points: assessment?.points ?? null,
        factors: assessment?.factors.map((f) => f.id) ?? [],
        assessment: assessment?.model
          ? { factors: assessment.factors, notAssessed: assessment.notAssessed }
          : null,
        override_reasons: card.overrideReasons?.map((r) => r.code ?? '') ?? [],
        locale: issued.locale,
        hook_instance: issued.hookInstance,
        patient_key: patientKey,
        issued_at: issuedAt,
      });
      for (const suggestion of card.suggestions ?? [])
        suggestions.push({
          suggestion_uuid: suggestion.uuid,
          card_uuid: card.uuid,
          ...suggestionKey(suggestion),
        });
    }
    return {
      cards: JSON.stringify(cards).slice(1, -1),
      suggestions: JSON.stringify(suggestions).slice(1, -1),
    };
  }

  async #write(batch: Pending[]): Promise<void> {
    const suggestions = batch.filter((pending) => pending.suggestions !== '');
    await this.#db.atomically([
      { sql: insertCards, params: [`[${batch.map((pending) => pending.cards).join(',')}]`] },
      ...(suggestions.length > 0
        ? [
            {
              sql: insertSuggestions,
              params: [`[${suggestions.map((pending) => pending.suggestions).join(',')}]`],
            },
          ]
        : []),
    ]);
  }

  /**
   * After the database refused a batch for a value in it (a hook instance with a NUL character, which
   * PostgreSQL's text cannot hold), its halves are written apart, and the halves of a half refused
   * again, down to single answers: the others' cards are recorded and only the answers at fault are
   * lost, in about twice log2(n) transactions for each of them rather than n.
   */
  async #writeApart(batch: Pending[]): Promise<void> {
    const half = Math.ceil(batch.length / 2);
    for (const part of [batch.slice(0, half), batch.slice(half)]) {
      if (part.length === 0) continue;
      try {
        await this.#write(part);
      } catch (error) {
        if (refusedItsData(error) && part.length > 1) await this.#writeApart(part);
        else this.#lose(part, whyLost(error));
      }
    }
  }

  #lose(batch: Array<Pick<Pending, 'service' | 'cardUuids'>>, why: string): void {
    const uuids = batch.flatMap((pending) => pending.cardUuids);
    this.#lostCount += uuids.length;
    for (const uuid of uuids) {
      this.#lost.add(uuid);
      if (this.#lost.size > maxRemembered) this.#lost.delete(this.#lost.values().next().value as string);
    }
    this.#unlogged.cards += uuids.length;
    for (const pending of batch) this.#unlogged.services.add(pending.service);
    this.#unlogged.why.add(why);
    if (this.#lossLog) return;
    this.#logLoss();
    const next = () => {
      if (this.#unlogged.cards === 0) {
        this.#lossLog = undefined;
        return;
      }
      this.#logLoss();
      this.#lossLog = setTimeout(next, lossLogIntervalMs).unref();
    };
    this.#lossLog = setTimeout(next, lossLogIntervalMs).unref();
  }

  /** The cards lost since the last line, then none. */
  #logLoss(): void {
    this.#logger.error(
      {
        cdsServices: [...this.#unlogged.services],
        cards: this.#unlogged.cards,
        why: [...this.#unlogged.why].join('; '),
        lostSinceStart: this.#lostCount,
      },
      'issued cards could not be recorded',
    );
    this.#unlogged = { cards: 0, services: new Set(), why: new Set() };
  }
}
