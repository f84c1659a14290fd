/**
 * The streaming entry counter agrees with JSON.parse on the number of entries of any Bundle, however
 * the body is cut into chunks, whatever strings, escapes and nested `entry` keys the resources hold.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { EntryCounter } from '../../src/fhir/entry-counter.ts';

const tricky = fc.oneof(
  fc.string(),
  fc.string({ unit: 'grapheme' }),
  fc.constantFrom('entry', '"entry":[{', '\\', '\\"', '{[', ']}', '\u2028', '𝌆'),
);
const json = fc.letrec((tie) => ({
  value: fc.oneof(
    { depthSize: 'small' },
    tricky,
    fc.integer(),
    fc.constant(null),
    fc.array(tie('value'), { maxLength: 4 }),
    fc.dictionary(fc.oneof(tricky, fc.constant('entry')), tie('value'), { maxKeys: 4 }),
  ),
})).value;
const bundle = fc.record({
  resourceType: fc.constant('Bundle'),
  before: json,
  entry: fc.array(fc.record({ resource: json, search: fc.record({ mode: fc.constant('match') }) }), {
    maxLength: 30,
  }),
  after: json,
});

function count(bytes: Uint8Array, cuts: number[]): number {
  const counter = new EntryCounter();
  let start = 0;
  for (const cut of [...cuts.map((c) => c % (bytes.length + 1))].sort((a, b) => a - b)) {
    counter.push(bytes.subarray(start, cut));
    start = cut;
  }
  return counter.push(bytes.subarray(start));
}

describe('EntryCounter', () => {
  it('counts exactly the top-level entries, in any chunking', () => {
    fc.assert(
      fc.property(bundle, fc.array(fc.nat(), { maxLength: 8 }), (b, cuts) => {
        const bytes = new TextEncoder().encode(JSON.stringify(b));
        expect(count(bytes, cuts)).toBe(b.entry.length);
      }),
      { numRuns: 500 },
    );
  });

  it('does not count entries of a nested Bundle, nor an entry key that is not top-level', () => {
    const nested = {
      resourceType: 'Bundle',
      meta: { entry: [{}, {}] },
      entry: [{ resource: { entry: [{}] } }],
    };
    expect(count(new TextEncoder().encode(JSON.stringify(nested)), [])).toBe(1);
    expect(count(new TextEncoder().encode('[{"entry":[{}]}]'), [])).toBe(0);
  });
});
