import { describe, expect, it } from 'vitest';
import { levelsInBodySites, parseVertebralLevels, SPINE } from '../../src/clinical/vertebral-levels.ts';

describe('parseVertebralLevels', () => {
  it.each([
    ['L3', ['L3']],
    ['T12 vertebra', ['T12']],
    ['L3椎体', ['L3']],
    ['Th12', ['T12']],
    ['l4 fracture', ['L4']],
    ['C7', ['C7']],
    ['S1', ['S1']],
    ['compression fracture of L3.', ['L3']],
  ])('reads the Latin level in %j', (text, levels) => {
    expect(parseVertebralLevels(text)).toEqual(levels);
  });

  it.each([
    ['L1-L2', ['L1', 'L2']],
    ['L1–L2', ['L1', 'L2']],
    ['L1—L3', ['L1', 'L2', 'L3']],
    ['L1-2', ['L1', 'L2']],
    ['L2-L4 PVP', ['L2', 'L3', 'L4']],
    ['T12-L1', ['T12', 'L1']],
    ['T11 to L1', ['T11', 'T12', 'L1']],
    ['L3-L1', ['L1', 'L2', 'L3']],
  ])('expands the range %j', (text, levels) => {
    expect(parseVertebralLevels(text)).toEqual(levels);
  });

  it('lists levels separated by commas or "and" without filling the gap', () => {
    expect(parseVertebralLevels('T11, L1')).toEqual(['T11', 'L1']);
    expect(parseVertebralLevels('T12 and L2 vertebrae')).toEqual(['T12', 'L2']);
  });

  it.each([
    ['第3腰椎', ['L3']],
    ['第1腰椎压缩性骨折', ['L1']],
    ['第十二胸椎', ['T12']],
    ['第十一胸椎、第1腰椎', ['T11', 'L1']],
    ['第1、2腰椎', ['L1', 'L2']],
    ['第1-3腰椎', ['L1', 'L2', 'L3']],
    ['腰3', ['L3']],
    ['胸12', ['T12']],
    ['腰三椎体', ['L3']],
    ['腰1-3', ['L1', 'L2', 'L3']],
    ['腰1、2椎体骨折', ['L1', 'L2']],
    ['胸12-腰1', ['T12', 'L1']],
    ['颈7', ['C7']],
  ])('reads the Chinese level in %j', (text, levels) => {
    expect(parseVertebralLevels(text)).toEqual(levels);
  });

  it.each([
    ['lumbar vertebra 3', ['L3']],
    ['thoracic 12', ['T12']],
    ['third lumbar vertebra', ['L3']],
    ['Structure of twelfth thoracic vertebra', ['T12']],
    ['1st lumbar vertebra', ['L1']],
  ])('reads the English words in %j', (text, levels) => {
    expect(parseVertebralLevels(text)).toEqual(levels);
  });

  it('returns each level once, top to bottom', () => {
    expect(parseVertebralLevels('L2 then T12, again L2 and 第2腰椎')).toEqual(['T12', 'L2']);
  });

  it.each([
    'T-score -2.5',
    'T2 hyperintense signal',
    'T1WI low signal',
    'T2-weighted image',
    'S2',
    'L6',
    'T13',
    'C8',
    'HL1 gene',
    'back pain for 3 days',
    '腰痛3天',
    '',
  ])('finds no level in %j', (text) => {
    expect(parseVertebralLevels(text)).toEqual([]);
  });

  it('keeps MRI sequences out but the level they describe in', () => {
    expect(parseVertebralLevels('T2 hyperintensity of the L1 vertebral body')).toEqual(['L1']);
  });

  it('reads an over-long range as its two ends only', () => {
    expect(parseVertebralLevels('C1-S1')).toEqual(['C1', 'S1']);
  });

  it('tolerates what is not text', () => {
    expect(parseVertebralLevels(undefined as unknown as string)).toEqual([]);
    expect(parseVertebralLevels(42 as unknown as string)).toEqual([]);
  });

  it('knows 25 levels from C1 to S1', () => {
    expect(SPINE).toHaveLength(25);
    expect(SPINE[0]).toBe('C1');
    expect(SPINE.at(-1)).toBe('S1');
  });
});

describe('levelsInBodySites', () => {
  it('reads displays, text and codes that look like a level', () => {
    const bodySites = [
      { coding: [{ display: 'Structure of third lumbar vertebra' }] },
      { coding: [{ system: 'urn:local:levels', code: 'T12' }] },
      { text: '腰1' },
    ];
    expect(levelsInBodySites(bodySites)).toEqual(['T12', 'L1', 'L3']);
  });

  it('does not read a numeric code as a level', () => {
    expect(levelsInBodySites([{ coding: [{ system: 'http://snomed.info/sct', code: '12345' }] }])).toEqual(
      [],
    );
  });

  it('tolerates garbage', () => {
    expect(levelsInBodySites(null)).toEqual([]);
    expect(levelsInBodySites([null, 3, { coding: 'x' }, { text: 7 }])).toEqual([]);
  });
});
