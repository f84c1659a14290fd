/**
 * A risk card's assessment as the ledger recorded it, for the picture of that risk: no patient key is
 * read, and a card past the retention period is not found even before retention has deleted it.
 */
import type { AssessmentExtension } from '../cards/card-frame.ts';
import type { RiskKind } from '../clinical/model.ts';
import type { Database } from './database.ts';
import { uuidPattern } from './feedback.ts';

export interface RecordedAssessment {
  kind: RiskKind;
  model: string;
  modelVersion: string | null;
  tier: string;
  points: number;
  locale: string;
  issuedAt: Date;
  factors: AssessmentExtension['factors'];
  notAssessed: string[];
}

interface Row {
  kind: RiskKind;
  model: string;
  model_version: string | null;
  tier: string;
  points: number;
  locale: string;
  issued_at: Date;
  assessment: Pick<AssessmentExtension, 'factors' | 'notAssessed'>;
}

export async function recordedAssessment(
  db: Database,
  cardUuid: string,
  options: { now: Date; retentionDays: number },
): Promise<RecordedAssessment | undefined> {
  if (!uuidPattern.test(cardUuid)) return undefined;
  const cutoff = new Date(options.now.getTime() - options.retentionDays * 86_400_000);
  const [row] = await db.query<Row>(
    `SELECT kind, model, model_version, tier, points, locale, issued_at, assessment
       FROM issued_card
      WHERE card_uuid = $1::uuid AND assessment IS NOT NULL AND model IS NOT NULL AND tier IS NOT NULL
        AND points IS NOT NULL AND issued_at >= $2`,
    [cardUuid, cutoff],
  );
  if (!row) return undefined;
  return {
    kind: row.kind,
    model: row.model,
    modelVersion: row.model_version,
    tier: row.tier,
    points: row.points,
    locale: row.locale,
    issuedAt: new Date(row.issued_at),
    factors: row.assessment.factors,
    notAssessed: row.assessment.notAssessed,
  };
}
