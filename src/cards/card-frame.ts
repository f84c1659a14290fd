/**
 * What every card of ours shares: a uuid, the source, override reasons on warnings, and the
 * machine-readable assessment extension.
 */
import { randomUUID } from 'node:crypto';
import type { Card, Suggestion } from '../cds-hooks/schemas.ts';
import type { Assessment } from '../clinical/model.ts';
import type { Wording } from './wording.ts';

export type CardKind =
  | 'residual-pain-risk'
  | 'refracture-risk'
  | 'treatment-gap'
  | 'missing-dxa'
  | 'denosumab-gap'
  | 'glucocorticoid-order';

export const extensionKey = 'pvp-cds.assessment';

export interface AssessmentExtension {
  kind: CardKind;
  model?: string;
  points?: number;
  tier?: string;
  factors: Array<{ id: string; points: number }>;
  notAssessed: string[];
}

/** Where the rendered cards point to and whom their draft orders are for. */
export interface CardContext {
  wording: Wording;
  patientId: string;
  userId: string;
  encounterId?: string;
  /** Absolute URL of the description of a model, or of the service when no model applies. */
  modelUrl(modelId?: string): string;
  /** Optional prefetch keys that could not be read: the score may understate the risk. */
  unreadable: string[];
}

const overrideReasonSystem = 'urn:pvp-cds:override-reason';

function overrideReasons(wording: Wording): NonNullable<Card['overrideReasons']> {
  return Object.entries(wording.overrideReasons).map(([code, display]) => ({
    system: overrideReasonSystem,
    code,
    display,
  }));
}

export function assessmentExtension(kind: CardKind, assessment?: Assessment): AssessmentExtension {
  if (!assessment) return { kind, factors: [], notAssessed: [] };
  return {
    kind,
    model: assessment.model,
    points: assessment.points,
    tier: assessment.tier,
    factors: assessment.factors.map((f) => ({ id: f.id, points: f.points })),
    notAssessed: assessment.notAssessed,
  };
}

export interface CardContent {
  kind: CardKind;
  summary: string;
  detail: string;
  indicator: Card['indicator'];
  suggestions: Suggestion[];
  assessment?: Assessment;
}

const maxSummary = 139;

function clip(summary: string): string {
  const chars = [...summary];
  return chars.length <= maxSummary ? summary : `${chars.slice(0, maxSummary - 1).join('')}…`;
}

export function frameCard(content: CardContent, context: CardContext): Card {
  return {
    uuid: randomUUID(),
    summary: clip(content.summary),
    detail: content.detail,
    indicator: content.indicator,
    source: { label: context.wording.sourceLabel, url: context.modelUrl(content.assessment?.model) },
    ...(content.suggestions.length > 0
      ? { suggestions: content.suggestions, selectionBehavior: 'at-most-one' as const }
      : {}),
    ...(content.indicator === 'info' ? {} : { overrideReasons: overrideReasons(context.wording) }),
    extension: { [extensionKey]: assessmentExtension(content.kind, content.assessment) },
  };
}
