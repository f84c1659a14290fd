/**
 * The issued-card ledger: every card answered is recorded (uuids, service, kind, model and version,
 * tier, points, factor ids, locale, time, hook instance), never a patient identifier. Recording happens
 * after the answer has gone and never fails it: a card whose record could not be written is counted,
 * logged, and remembered for a while so that its feedback is told why it cannot be counted.
 */
import { createHmac } from 'node:crypto';
import { type AssessmentExtension, extensionKey } from '../cards/card-frame.ts';
import type { Card, Suggestion } from '../cds-hooks/schemas.ts';
import type { Logger } from '../observability/logger.ts';
import type { Database, Queryable } from './database.ts';

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
const maxPending = 500;
const maxRemembered = 10_000;

export class CardLedger {
  readonly #db: Database;
  readonly #logger: Logger;
  readonly #secret: string | undefined;
  readonly #pending = new Set<Promise<void>>();
  /** Uuids of cards issued by this process whose record was lost, oldest first. */
  readonly #lost = new Set<string>();
  #lostCount = 0;

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
    await Promise.allSettled([...this.#pending]);
  }

  /** Starts recording; returns at once. Failures are counted and logged, never thrown. */
  record(issued: IssuedCards): void {
    if (issued.cards.length === 0) return;
    if (this.#pending.size >= maxPending) {
      this.#lose(issued, 'too many records waiting for the database');
      return;
    }
    const write = this.#db
      .transaction((tx) => this.#write(tx, issued))
      .catch((error: unknown) => this.#lose(issued, error instanceof Error ? error.name : 'error'))
      .finally(() => this.#pending.delete(write));
    this.#pending.add(write);
  }

  #patientKey(patient: IssuedCards['patient']): string | null {
    if (!this.#secret) return null;
    return createHmac('sha256', this.#secret)
      .update(`${patient.fhirServer ?? ''}\n${patient.patientId}`)
      .digest('base64url');
  }

  async #write(tx: Queryable, issued: IssuedCards): Promise<void> {
    const patientKey = this.#patientKey(issued.patient);
    for (const card of issued.cards) {
      const assessment = card.extension?.[extensionKey] as AssessmentExtension | undefined;
      await tx.query(
        `INSERT INTO issued_card (card_uuid, service, kind, indicator, model, model_version, tier, points,
           factors, override_reasons, locale, hook_instance, patient_key, issued_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)`,
        [
          card.uuid,
          issued.service,
          assessment?.kind ?? 'unknown',
          card.indicator,
          assessment?.model ?? null,
          assessment?.model ? (issued.modelVersions[assessment.model] ?? null) : null,
          assessment?.tier ?? null,
          assessment?.points ?? null,
          assessment?.factors.map((f) => f.id) ?? [],
          card.overrideReasons?.map((r) => r.code) ?? [],
          issued.locale,
          issued.hookInstance,
          patientKey,
          issued.issuedAt,
        ],
      );
      for (const suggestion of card.suggestions ?? []) {
        const { key, label } = suggestionKey(suggestion);
        await tx.query(
          'INSERT INTO issued_suggestion (suggestion_uuid, card_uuid, key, label) VALUES ($1, $2, $3, $4)',
          [suggestion.uuid, card.uuid, key, label],
        );
      }
    }
  }

  #lose(issued: IssuedCards, why: string): void {
    this.#lostCount += issued.cards.length;
    for (const card of issued.cards) {
      this.#lost.add(card.uuid);
      if (this.#lost.size > maxRemembered) this.#lost.delete(this.#lost.values().next().value as string);
    }
    this.#logger.error(
      { cdsService: issued.service, cards: issued.cards.length, why, lostSinceStart: this.#lostCount },
      'issued cards could not be recorded',
    );
  }
}
