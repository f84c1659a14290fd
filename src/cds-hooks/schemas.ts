/**
 * CDS Hooks 2.0 wire format as zod schemas; the inferred types are the protocol's TypeScript types.
 * Requests are parsed leniently (unknown fields pass through: real clients send more than the spec);
 * responses are checked strictly in tests, including the rule that empty optional fields are omitted.
 */
import { z } from 'zod';

const fhirResource = z.looseObject({ resourceType: z.string().min(1) });

export const fhirAuthorizationSchema = z.looseObject({
  access_token: z.string().min(1),
  token_type: z
    .string()
    .refine((t) => t.toLowerCase() === 'bearer', { message: 'token_type must be Bearer' }),
  expires_in: z.number().optional(),
  scope: z.string().optional(),
  subject: z.string().optional(),
  patient: z.string().optional(),
});

/** A FHIR resource id: [A-Za-z0-9\-\.]{1,64}. Rejecting others keeps ids safe to put into query URLs. */
const fhirId = z.string().regex(/^[A-Za-z0-9\-.]{1,64}$/, { message: 'must be a FHIR id' });

/** "Practitioner/123", "PractitionerRole/abc", "Patient/1", "RelatedPerson/x". */
const userReference = z
  .string()
  .regex(/^(Practitioner|PractitionerRole|Patient|RelatedPerson)\/[A-Za-z0-9\-.]{1,64}$/, {
    message: 'must be a reference such as Practitioner/123',
  });

const baseContext = z.looseObject({
  userId: userReference,
  patientId: fhirId,
  encounterId: fhirId.optional(),
});

export const patientViewContextSchema = baseContext;

/**
 * The sandbox sends draftOrders without Bundle.type, and its draft MedicationRequest may lack intent:
 * only the shape we read is required.
 */
export const draftOrdersSchema = z.looseObject({
  resourceType: z.literal('Bundle'),
  entry: z.array(z.looseObject({ resource: fhirResource.optional() })).default([]),
});

export const orderSignContextSchema = baseContext.extend({ draftOrders: draftOrdersSchema });

/** order-select: `selections` names the orders just selected (`MedicationRequest/123`) among the drafts. */
export const orderSelectContextSchema = orderSignContextSchema.extend({
  selections: z.array(z.string().min(1)).optional(),
});

export const hookRequestSchema = z
  .looseObject({
    hook: z.string().min(1),
    // A UUID by the specification; any identifier is taken, but not one the ledger cannot store (a
    // control character such as NUL, half of a surrogate pair) nor one the length of a document.
    hookInstance: z
      .string()
      .min(1)
      .max(256)
      .regex(/^[^\p{Cc}\p{Cs}]+$/u, {
        message: 'must be an identifier (a UUID), without control characters or lone surrogates',
      }),
    fhirServer: z.url({ protocol: /^https?$/ }).optional(),
    fhirAuthorization: fhirAuthorizationSchema.optional(),
    context: z.looseObject({}),
    prefetch: z.record(z.string(), z.unknown()).optional(),
  })
  .refine((r) => r.fhirAuthorization === undefined || r.fhirServer !== undefined, {
    message: 'fhirServer is required when fhirAuthorization is present',
    path: ['fhirServer'],
  });

export type HookRequest = z.infer<typeof hookRequestSchema>;
export type PatientViewContext = z.infer<typeof patientViewContextSchema>;
export type OrderSignContext = z.infer<typeof orderSignContextSchema>;
export type OrderSelectContext = z.infer<typeof orderSelectContextSchema>;

/** Strings and arrays in a response must not be empty: the spec omits optional fields with no value. */
const text = z.string().min(1);

export const codingSchema = z.strictObject({
  system: text.optional(),
  code: text,
  display: text.optional(),
});

export const actionSchema = z
  .strictObject({
    type: z.enum(['create', 'update', 'delete']),
    description: text,
    resource: fhirResource.optional(),
    resourceId: z.array(text).min(1).optional(),
  })
  .refine((a) => (a.type === 'delete' ? a.resourceId !== undefined : a.resource !== undefined), {
    message: 'create/update need resource; delete needs resourceId',
  });

export const suggestionSchema = z.strictObject({
  label: text,
  uuid: z.uuid(),
  isRecommended: z.boolean().optional(),
  actions: z.array(actionSchema).min(1).optional(),
});

export const linkSchema = z
  .strictObject({
    label: text,
    url: z.url(),
    type: z.enum(['absolute', 'smart']),
    appContext: text.optional(),
  })
  .refine((l) => l.type === 'smart' || l.appContext === undefined, {
    message: 'appContext is for smart links',
  });

export const cardSchema = z
  .strictObject({
    uuid: z.uuid(),
    summary: text.max(139),
    detail: text.optional(),
    indicator: z.enum(['info', 'warning', 'critical']),
    source: z.strictObject({
      label: text,
      url: z.url().optional(),
      icon: z.url().optional(),
      topic: codingSchema.optional(),
    }),
    suggestions: z.array(suggestionSchema).min(1).optional(),
    selectionBehavior: z.enum(['at-most-one', 'any']).optional(),
    overrideReasons: z
      .array(codingSchema.required({ display: true }))
      .min(1)
      .optional(),
    links: z.array(linkSchema).min(1).optional(),
    extension: z.record(z.string(), z.unknown()).optional(),
  })
  .refine((c) => (c.suggestions === undefined) === (c.selectionBehavior === undefined), {
    message: 'selectionBehavior is required exactly when there are suggestions',
  });

export type Card = z.infer<typeof cardSchema>;
export type Suggestion = z.infer<typeof suggestionSchema>;
export type Coding = z.infer<typeof codingSchema>;
export type Link = z.infer<typeof linkSchema>;

export const hookResponseSchema = z.strictObject({ cards: z.array(cardSchema) });

export const serviceDefinitionSchema = z.strictObject({
  hook: text,
  id: z.string().regex(/^[a-z0-9-]+$/),
  title: text.optional(),
  description: text,
  prefetch: z.record(z.string(), text).optional(),
  usageRequirements: text.optional(),
});

export type ServiceDefinition = z.infer<typeof serviceDefinitionSchema>;

export const discoveryResponseSchema = z.strictObject({ services: z.array(serviceDefinitionSchema) });

/** RFC 3339 date-time with a zone (Z or ±hh:mm), and a real instant. */
const rfc3339 = z
  .string()
  .regex(/^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d{1,9})?([Zz]|[+-]\d{2}:\d{2})$/, {
    message: 'must be an RFC 3339 date-time with a time zone, such as 2026-12-01T09:30:00Z',
  })
  .refine((t) => !Number.isNaN(Date.parse(t.replace(' ', 'T'))), { message: 'is not a real date and time' });

const feedbackCoding = z.looseObject({
  system: z.string().min(1).optional(),
  code: z.string().min(1).optional(),
  display: z.string().optional(),
});

/** One feedback item (CDS Hooks 2.0 feedback): what the clinician did with one card. */
export const feedbackItemSchema = z.looseObject({
  card: z.string().min(1),
  outcome: z.enum(['accepted', 'overridden']),
  acceptedSuggestions: z
    .array(z.looseObject({ id: z.string().min(1) }))
    .min(1)
    .optional(),
  overrideReason: z
    .looseObject({
      reason: feedbackCoding.optional(),
      // Stored as text, which cannot hold a NUL character.
      userComment: z
        .string()
        .max(2000)
        .refine((comment) => !comment.includes('\u0000'), { message: 'must not contain a NUL character' })
        .optional(),
    })
    .optional(),
  outcomeTimestamp: rfc3339,
});

export type FeedbackItem = z.infer<typeof feedbackItemSchema>;

/** The items are parsed one by one, so that each problem can name its item. */
export const feedbackRequestSchema = z.looseObject({ feedback: z.array(z.unknown()).min(1).max(100) });
