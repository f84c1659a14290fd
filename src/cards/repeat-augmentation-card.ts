/**
 * Augmentation again at a cemented vertebra (CLINICAL.md 1.1; the case report, seed 003): before
 * re-augmenting, rule out infection and tumour, assess the old cement on CT, plan a bilateral approach
 * with enough cement, and restart anti-osteoporosis treatment. Its suggestions can be taken together.
 */
import type { Card } from '../cds-hooks/schemas.ts';
import type { RepeatAugmentation } from '../clinical/patient-facts.ts';
import { type CardContext, frameCard } from './card-frame.ts';
import { infectionWorkUpSuggestion, spineCtSuggestion } from './suggested-orders.ts';
import { fill } from './wording.ts';

export function repeatAugmentationCard(repeat: RepeatAugmentation, context: CardContext): Card {
  const { wording } = context;
  const texts = wording.cards['repeat-augmentation'];
  const levels = repeat.levels.join(wording.values.listSeparator);
  const when = repeat.augmentedOn ? fill(texts.when, { date: repeat.augmentedOn }) : '';
  const situation = fill(repeat.reason === 'ordered-again' ? texts.orderedAgain : texts.newFracture, {
    levels,
    when,
  });
  const region = repeat.levels.some((level) => level.startsWith('L') || level.startsWith('S'))
    ? 'lumbar'
    : 'thoracic';
  return frameCard(
    {
      kind: 'repeat-augmentation',
      summary: fill(texts.summary, { levels }),
      detail: [situation, texts.advice.map((line) => `- ${line}`).join('\n'), `_${texts.source}_`].join(
        '\n\n',
      ),
      indicator: 'warning',
      source: { guideline: 'case-report-003' },
      suggestions: [infectionWorkUpSuggestion(context), spineCtSuggestion(region, context)],
      selectionBehavior: 'any',
    },
    context,
  );
}
