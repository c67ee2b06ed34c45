import { parseAttributeTokens, parseDcase2020Name, parseDcase2023Name } from './fileNames';
import type { Domain, Label, Split } from './types';

/** What one file's place and name say about it under one layout. */
export type Classified =
  | {
      kind: 'clip';
      section: string;
      domain: Domain | undefined;
      label: Label | undefined;
      attributes: Record<string, string>;
    }
  /** An eval test file: its label comes from the ground truth. */
  | { kind: 'eval'; section: string }
  | { kind: 'unrecognised'; reason: string };

export type LayoutRule = (split: Split, parts: string[], scoringOnly: boolean) => Classified;

const DCASE2023_TRAIN = 'section_XX_{source,target}_train_normal_NNNN[_<attributes>].wav';
const DCASE2023_TEST =
  'section_XX_{source,target}_test_{normal,anomaly}_NNNN[_<attributes>].wav or section_XX_NNNN.wav';

/** DCASE 2021–2025 Task 2: `<type>/{train,test}/section_XX_…` (2023 is the year the reference uses). */
export const dcase2023Rule: LayoutRule = (split, parts) => {
  const expected = split === 'train' ? DCASE2023_TRAIN : DCASE2023_TEST;
  const [name] = parts;
  if (parts.length !== 1 || name === undefined)
    return {
      kind: 'unrecognised',
      reason: `in a subfolder of ${split}/; the dcase2023 layout expects ${split}/${expected}`,
    };
  const named = parseDcase2023Name(name);
  if (named === undefined)
    return { kind: 'unrecognised', reason: `name does not fit the dcase2023 layout (${split}/${expected})` };
  if (named.kind === 'eval') {
    if (split === 'train')
      return { kind: 'unrecognised', reason: `an unlabelled eval test name in train/ (expected ${DCASE2023_TRAIN})` };
    return { kind: 'eval', section: named.section };
  }
  if (named.split !== split)
    return { kind: 'unrecognised', reason: `name says ${named.split} but the file is in ${split}/` };
  if (split === 'train' && named.label !== 'normal')
    return { kind: 'unrecognised', reason: 'training clips must be normal' };
  return {
    kind: 'clip',
    section: named.section,
    domain: named.domain,
    label: named.label,
    attributes: named.attributes,
  };
};

/** DCASE 2020 Task 2: `<type>/train/normal_id_XX_NNNNNNNN.wav`, `<type>/test/{normal,anomaly}_id_XX_…` or eval `id_XX_…`. */
export const dcase2020Rule: LayoutRule = (split, parts) => {
  const expected =
    split === 'train' ? 'normal_id_XX_NNNNNNNN.wav' : '{normal,anomaly}_id_XX_NNNNNNNN.wav or id_XX_NNNNNNNN.wav';
  const [name] = parts;
  if (parts.length !== 1 || name === undefined)
    return {
      kind: 'unrecognised',
      reason: `in a subfolder of ${split}/; the dcase2020 layout expects ${split}/${expected}`,
    };
  const named = parseDcase2020Name(name);
  if (named === undefined)
    return { kind: 'unrecognised', reason: `name does not fit the dcase2020 layout (${split}/${expected})` };
  if (named.kind === 'eval') {
    if (split === 'train')
      return {
        kind: 'unrecognised',
        reason: 'an unlabelled eval test name in train/ (expected normal_id_XX_NNNNNNNN.wav)',
      };
    return { kind: 'eval', section: named.section };
  }
  if (split === 'train' && named.label !== 'normal')
    return { kind: 'unrecognised', reason: 'training clips must be normal' };
  return { kind: 'clip', section: named.section, domain: undefined, label: named.label, attributes: {} };
};

const DOMAINS = new Set(['source', 'target']);
const LABELS = new Set(['normal', 'anomaly']);

/**
 * Generic: `<type>/train/[source/|target/][normal/]*.wav` and `<type>/test/{normal,anomaly}/*.wav`, optionally with
 * a `source/` or `target/` level above or below the label folder. One section, "00". Names are free, so no
 * attributes are read from them (attributes_XX.csv still is).
 */
export const genericRule: LayoutRule = (split, parts, scoringOnly) => {
  const folders = parts.slice(0, -1);
  let domain: Domain | undefined;
  let label: Label | undefined;
  for (const folder of folders) {
    const lower = folder.toLowerCase();
    if (DOMAINS.has(lower) && domain === undefined) domain = lower as Domain;
    else if (LABELS.has(lower) && label === undefined) label = lower as Label;
    else
      return {
        kind: 'unrecognised',
        reason: `folder "${folder}" is not source/, target/, normal/ or anomaly/ (generic layout)`,
      };
  }
  if (split === 'train') {
    if (label === 'anomaly')
      return { kind: 'unrecognised', reason: 'training clips must be normal (train/anomaly/ is not used)' };
    return { kind: 'clip', section: '00', domain, label: 'normal', attributes: {} };
  }
  if (label === undefined && !scoringOnly) {
    return {
      kind: 'unrecognised',
      reason:
        'test clips must be in test/normal/ or test/anomaly/ (optionally under source/ or target/) unless the run is scoring-only',
    };
  }
  return { kind: 'clip', section: '00', domain, label, attributes: {} };
};

export const LAYOUT_RULES = { dcase2023: dcase2023Rule, dcase2020: dcase2020Rule, generic: genericRule } as const;
export type WalkedLayout = keyof typeof LAYOUT_RULES;

/** Attributes from a DCASE-style name, for explicit file lists. */
export function attributesFromName(name: string): Record<string, string> {
  const named = parseDcase2023Name(name);
  return named?.kind === 'labelled' ? named.attributes : parseAttributeTokens(undefined);
}
