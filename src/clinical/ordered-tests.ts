/**
 * Tests already ordered (an active or on-hold ServiceRequest, or a ServiceRequest being signed), so that
 * cards do not suggest them again: a DXA scan and a PHQ-9.
 */
import {
  codingInValueSet,
  DXA_ORDER,
  DXA_TEXT,
  PHQ9_ORDER,
  PHQ9_TEXT,
  type ValueSet,
} from '../fhir/terminology.ts';
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

const OPEN_ORDER_STATUSES = ['active', 'on-hold'];
const NOT_AN_ORDER_STATUSES = ['entered-in-error', 'revoked'];

function orders(
  resource: JsonObject,
  valueSet: ValueSet,
  pattern: RegExp,
  concept: string,
  ledger: Ledger,
): boolean {
  if (codings(resource.code).some((coding) => codingInValueSet(coding, valueSet))) return true;
  if (!affirms(conceptTexts(resource.code), pattern)) return false;
  recordTextMatch(ledger, 'ServiceRequest', concept);
  return true;
}

export function readOrderedTests(
  serviceRequests: unknown,
  draftOrders: unknown,
  ledger: Ledger,
): { dxaOrdered: boolean; phq9Ordered: boolean } {
  const open: JsonObject[] = [];
  eachResource(serviceRequests, 'ServiceRequest', ledger, (resource) => {
    const status = text(resource.status);
    if (status === 'entered-in-error') return ignore(ledger, 'ServiceRequest', `status ${status}`);
    if (status && OPEN_ORDER_STATUSES.includes(status)) open.push(resource);
  });
  eachResource(
    draftOrders,
    'ServiceRequest',
    ledger,
    (resource) => {
      const status = text(resource.status);
      if (!status || !NOT_AN_ORDER_STATUSES.includes(status)) open.push(resource);
    },
    'skip',
  );
  return {
    dxaOrdered: open.some((order) => orders(order, DXA_ORDER, DXA_TEXT, 'order:dxa', ledger)),
    phq9Ordered: open.some((order) => orders(order, PHQ9_ORDER, PHQ9_TEXT, 'order:phq9', ledger)),
  };
}
