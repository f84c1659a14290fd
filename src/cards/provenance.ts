/**
 * What a risk card says about its data, in the card's language: what was recognised from free text, what
 * did not count and why, which prefetch keys could not be read, and how many records named another
 * patient. Every label comes from the wording file; nothing internal (a key, a FHIR code) is shown raw
 * unless the wording has no entry for it.
 */
import type { IgnoredData, PatientFacts, TextMatch } from '../clinical/patient-facts.ts';
import type { CardContext } from './card-frame.ts';
import { fill, type Wording, word } from './wording.ts';

/** Distinct entries with their counts, e.g. `result: T-score: implausible value (2)`. */
function tally(entries: string[], wording: Wording): string {
  const counts = new Map<string, number>();
  for (const entry of entries) counts.set(entry, (counts.get(entry) ?? 0) + 1);
  return [...counts]
    .map(([entry, n]) => (n > 1 ? `${entry}${fill(wording.values.aside, { value: n })}` : entry))
    .join(wording.values.listSeparator);
}

function conceptLabel(concept: TextMatch['concept'], wording: Wording): string {
  switch (concept.kind) {
    case 'drug':
      return word(wording.drugs, concept.drug);
    case 'finding':
      return word(wording.ignored.topics, concept.finding);
    case 'augmentation':
      return word(wording.textConcepts, concept.augmentation);
    default:
      return word(wording.textConcepts, concept.kind);
  }
}

function ignoredLabel(ignored: IgnoredData, wording: Wording): string {
  const { reasons, topics, statuses } = wording.ignored;
  const status = ignored.status === undefined ? '' : word(statuses, ignored.status);
  const reason = fill(word(reasons, ignored.reason), { status });
  const topic = ignored.topic === undefined ? undefined : word(topics, ignored.topic);
  return `${word(wording.records, ignored.resourceType)}${wording.values.listIntro}${topic ? `${topic}${wording.values.listIntro}` : ''}${reason}`;
}

/** The data lines of a risk card: empty strings for what does not apply. */
export function provenanceLines(
  provenance: Pick<PatientFacts, 'ignored' | 'textMatches'>,
  context: CardContext,
): string[] {
  const { wording } = context;
  const matches = provenance.textMatches.map(
    (m) =>
      `${conceptLabel(m.concept, wording)}${fill(wording.values.aside, { value: word(wording.records, m.resourceType) })}`,
  );
  const ignored = provenance.ignored.map((i) => ignoredLabel(i, wording));
  const unreadable = context.unreadable.map((key) => word(wording.prefetchKeys, key));
  return [
    unreadable.length > 0
      ? fill(wording.detail.unreadable, { list: unreadable.join(wording.values.listSeparator) })
      : '',
    context.foreignRecords > 0 ? fill(wording.detail.foreign, { count: context.foreignRecords }) : '',
    context.misfiledRecords > 0 ? fill(wording.detail.misfiled, { count: context.misfiledRecords }) : '',
    matches.length > 0 ? fill(wording.detail.textMatches, { list: tally(matches, wording) }) : '',
    ignored.length > 0
      ? fill(wording.detail.ignoredData, { count: ignored.length, list: tally(ignored, wording) })
      : '',
  ];
}
