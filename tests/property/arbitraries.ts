/**
 * fast-check generators for hostile CDS Hooks traffic: a valid request (from the fixtures) with one
 * part replaced by something a broken or malicious client sends: another JSON type, a huge or odd
 * string, deep nesting, prototype keys, Bundles an XML-to-JSON converter writes, odd draft orders.
 */
import fc from 'fast-check';

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/** Every path into a JSON value, down to `maxDepth` (arrays: their first three items). */
export function pathsOf(
  value: Json,
  maxDepth = 6,
  prefix: Array<string | number> = [],
): Array<Array<string | number>> {
  const paths: Array<Array<string | number>> = [prefix];
  if (prefix.length >= maxDepth || value === null || typeof value !== 'object') return paths;
  const children: Array<[string | number, Json]> = Array.isArray(value)
    ? value.slice(0, 3).map((item, i) => [i, item])
    : Object.entries(value);
  for (const [key, child] of children) paths.push(...pathsOf(child, maxDepth, [...prefix, key]));
  return paths;
}

/** A copy of `value` with the value at `path` replaced (or, for an object, a key added). */
export function replaceAt(value: Json, path: Array<string | number>, replacement: Json): Json {
  if (path.length === 0) return replacement;
  const [head, ...rest] = path as [string | number, ...Array<string | number>];
  if (Array.isArray(value)) {
    const copy = [...value];
    copy[Number(head)] = replaceAt(copy[Number(head)] ?? null, rest, replacement);
    return copy;
  }
  const copy: { [key: string]: Json } = { ...(value as { [key: string]: Json }) };
  Object.defineProperty(copy, String(head), {
    value: replaceAt(copy[String(head)] ?? null, rest, replacement),
    enumerable: true,
    writable: true,
    configurable: true,
  });
  return copy;
}

const DEEP = /"deep:(\d+):(array|object)"/g;

/**
 * Deep nesting stays a short marker in the generated value (so that fast-check can print a
 * counterexample) and becomes `depth` levels of arrays or objects when the body is written.
 */
export function bodyText(value: Json): string {
  return JSON.stringify(value).replace(DEEP, (_, depth: string, kind: string) => {
    const [open, close] = kind === 'array' ? ['[', ']'] : ['{"a":', '}'];
    return `${open.repeat(Number(depth))}"bottom"${close.repeat(Number(depth))}`;
  });
}

/** Keys that reach the prototype of a naive merge: as own properties, the way JSON.parse makes them. */
const prototypeKeys = fc.constantFrom('__proto__', 'constructor', 'prototype', 'hasOwnProperty', 'toString');
const prototypeObject = fc
  .tuple(prototypeKeys, fc.jsonValue({ maxDepth: 2 }))
  .map(([key, value]) => JSON.parse(`{${JSON.stringify(key)}: ${JSON.stringify(value)}}`) as Json);

const oddStrings = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 50 }),
  fc.string({ unit: 'grapheme', maxLength: 50 }),
  fc.constantFrom(
    '',
    ' ',
    '\u0000',
    '\ud800',
    '\u202e\u202d',
    '𝌆'.repeat(30),
    '%ZZ',
    '../../etc/passwd',
    'Patient/x',
  ),
  fc.nat({ max: 200_000 }).map((n) => 'x'.repeat(n)),
);

const oddBundles: fc.Arbitrary<Json> = fc.oneof(
  fc.constantFrom<Json>(
    {
      resourceType: 'Bundle',
      type: 'searchset',
      entry: { resource: { resourceType: 'Condition' } },
    },
    { resourceType: 'Bundle', type: 'searchset', link: null, entry: [] },
    { resourceType: 'Bundle', type: 'searchset', link: [null], entry: [] },
    { resourceType: 'Bundle', type: 'searchset', link: { relation: 'next', url: 'x' } },
    {
      resourceType: 'Bundle',
      link: [{ relation: 'next', url: 'https://attacker.example/steal' }],
    },
    {
      resourceType: 'Bundle',
      entry: [null, 1, 'x', [], { resource: null }, { resource: 'Patient' }],
    },
    { resourceType: 'Bundle', entry: [{ resource: { resourceType: 'Observation', subject: 7 } }] },
    { resourceType: 'Bundle', entry: null },
    { resourceType: 'Bundle' },
    { type: 'searchset', entry: [] },
    { resourceType: 42 },
    { resourceType: '' },
    { resourceType: 'OperationOutcome', issue: 'none' },
  ),
  fc
    .array(fc.jsonValue({ maxDepth: 3 }), { maxLength: 5 })
    .map((entry) => ({ resourceType: 'Bundle', type: 'searchset', entry }) as Json),
);

const oddDraftOrders: fc.Arbitrary<Json> = fc.oneof(
  fc.constantFrom<Json>(
    { resourceType: 'Bundle' },
    {
      resourceType: 'Bundle',
      entry: [{}, { resource: null }, { resource: { resourceType: 'ServiceRequest' } }],
    },
    {
      resourceType: 'Bundle',
      entry: [
        {
          resource: {
            resourceType: 'MedicationRequest',
            subject: { reference: 'Patient/someone-else' },
            status: 'draft',
          },
        },
      ],
    },
    {
      resourceType: 'Bundle',
      entry: [{ resource: { resourceType: 'ServiceRequest', status: 42, code: 'PVP' } }],
    },
    { resourceType: 'Patient' },
  ),
  fc.nat({ max: 3000 }).map((n) => ({
    resourceType: 'Bundle',
    entry: Array.from({ length: n }, () => ({
      resource: { resourceType: 'ServiceRequest', status: 'draft' },
    })),
  })),
);

/** A value a client should not send where a valid one belongs. */
export const hostileValue: fc.Arbitrary<Json> = fc.oneof(
  fc.constantFrom<Json>(null, true, false, 0, -1, 1e308, [], {}),
  fc.jsonValue({ maxDepth: 3 }) as fc.Arbitrary<Json>,
  oddStrings,
  fc
    .tuple(fc.integer({ min: 1000, max: 5000 }), fc.constantFrom('array', 'object'))
    .map(([depth, kind]) => `deep:${depth}:${kind}`),
  prototypeObject,
  oddBundles,
  oddDraftOrders,
);

export const oddHeaderValue = fc.oneof(
  fc.string({ maxLength: 40 }).map((s) => s.replace(/[^\x20-\x7e]/g, '')),
  fc.constantFrom('*', 'zh-CN;q=abc', 'en;q=0,zh;q=0', ',,,', 'x'.repeat(4000), 'zh-Hant-TW-u-nu-hanidec'),
);
