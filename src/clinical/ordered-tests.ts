/**
 * Tests already ordered (an active or on-hold ServiceRequest, or a ServiceRequest being signed), so that
 * cards do not suggest them again: a DXA scan and a PHQ-9.
 */
import { affirms } from './clinical-text.ts';
import {
  codings,
  conceptTexts,
  eachResource,
  ignore,
  type JsonObject,
  type Ledger,
  recordTextMatch,
  text,
} from './fhir-reading.ts';
import type { TextMatch } from './patient-facts.ts';
import { anyCodingInValueSet, type ValueSet } from './terminology/code-systems.ts';
import { DXA_ORDER, PHQ9_ORDER } from './terminology/procedure-codes.ts';
import { DXA_TEXT, PHQ9_TEXT } from './terminology/text-patterns.ts';

const OPEN_ORDER_STATUSES = ['active', 'on-hold'];

function orders(
  resource: JsonObject,
  valueSet: ValueSet,
  pattern: RegExp,
  concept: TextMatch['concept'],
  ledger: Ledger,
): boolean {
  if (anyCodingInValueSet(codings(resource.code), valueSet)) return true;
  if (!affirms(conceptTexts(resource.code), pattern)) return false;
  recordTextMatch(ledger, 'ServiceRequest', concept);
  return true;
}

export function readOrderedTests(
  serviceRequests: unknown,
  draftOrders: readonly JsonObject[],
  ledger: Ledger,
): { dxaOrdered: boolean; phq9Ordered: boolean } {
  const open: JsonObject[] = [];
  eachResource(serviceRequests, 'ServiceRequest', ledger, (resource) => {
    const status = text(resource.status);
    if (status === 'entered-in-error') return ignore(ledger, 'ServiceRequest', 'status', { status });
    if (status && OPEN_ORDER_STATUSES.includes(status)) open.push(resource);
  });
  open.push(...draftOrders.filter((resource) => resource.resourceType === 'ServiceRequest'));
  return {
    dxaOrdered: open.some((order) => orders(order, DXA_ORDER, DXA_TEXT, { kind: 'dxa-order' }, ledger)),
    phq9Ordered: open.some((order) => orders(order, PHQ9_ORDER, PHQ9_TEXT, { kind: 'phq9-order' }, ledger)),
  };
}
