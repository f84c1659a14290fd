/**
 * pvp-risk-order-select: the pre-procedure advice of order-sign as soon as an order is selected, before
 * it is signed (vertebroplasty/kyphoplasty, spine MRI or CT, a systemic glucocorticoid course). EHRs fire
 * it on every change of the order form, so it is a pure function of the request, and it says nothing for
 * orders that are not ours, nor for a selection that names no draft (a form not filled in yet).
 */
import type { Resource } from 'fhir/r4';
import type { Wordings } from '../cards/wording.ts';
import { type OrderSelectContext, orderSelectContextSchema } from '../cds-hooks/schemas.ts';
import { type BaseContext, type CdsService, defineService } from '../cds-hooks/service.ts';
import type { Models } from '../clinical/model-files.ts';
import { draftResources, orderCards } from './order-sign.ts';
import {
  prefetchResourceTypes,
  prefetchTemplates,
  requiredPrefetch,
  usageRequirements,
} from './patient-data.ts';

/** The selected drafts; without `selections` (which the hook requires), every draft counts as selected. */
function selected(context: OrderSelectContext): Resource[] {
  const drafts = draftResources(context.draftOrders);
  if (!context.selections) return drafts;
  const wanted = new Set(context.selections);
  return drafts.filter((d) => d.id !== undefined && wanted.has(`${d.resourceType}/${d.id}`));
}

export function orderSelectService(models: Models, wordings: Wordings): CdsService<BaseContext> {
  return defineService<OrderSelectContext>({
    definition: {
      hook: 'order-select',
      id: 'pvp-risk-order-select',
      title:
        'Vertebroplasty/kyphoplasty, spine imaging or glucocorticoid order selected: advice before signing',
      description:
        'When a vertebroplasty or kyphoplasty, a spine MRI or CT for a patient with a vertebral fracture, or a systemic glucocorticoid course is selected: the same residual back pain and re-fracture risk, pre-procedure advice and warnings as at signing, so they can be acted on before the order is signed. Nothing for other orders.',
      prefetch: prefetchTemplates,
      usageRequirements,
    },
    requiredPrefetch,
    prefetchResourceTypes,
    contextSchema: orderSelectContextSchema,
    handle: (input) => orderCards(models, wordings, input, selected(input.context)),
  });
}
