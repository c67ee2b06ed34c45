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

/** A DCASE name as the layout rules read it: 2023 names also carry their split, domain and attributes. */
type DcaseName =
  | { kind: 'eval'; section: string }
  | {
      kind: 'labelled';
      section: string;
      split?: Split;
      domain?: Domain;
      label: Label;
      attributes?: Record<string, string>;
    };

/**
 * A DCASE layout: one file directly in train/ or test/, named as `parse` reads it, `train` and `test` being the
 * name patterns each folder expects (shown when a file does not fit).
 */
function dcaseRule(
  layout: string,
  expected: { train: string; test: string },
  parse: (name: string) => DcaseName | undefined,
): LayoutRule {
  return (split, parts) => {
    const pattern = expected[split];
    const [name] = parts;
    if (parts.length !== 1 || name === undefined)
      return {
        kind: 'unrecognised',
        reason: `in a subfolder of ${split}/; the ${layout} layout expects ${split}/${pattern}`,
      };
    const named = parse(name);
    if (named === undefined)
      return { kind: 'unrecognised', reason: `name does not fit the ${layout} layout (${split}/${pattern})` };
    if (named.kind === 'eval') {
      if (split === 'train')
        return { kind: 'unrecognised', reason: `an unlabelled eval test name in train/ (expected ${expected.train})` };
      return { kind: 'eval', section: named.section };
    }
    // Only DCASE 2023 names say their split.
    if (named.split !== undefined && named.split !== split)
      return { kind: 'unrecognised', reason: `name says ${named.split} but the file is in ${split}/` };
    if (split === 'train' && named.label !== 'normal')
      return { kind: 'unrecognised', reason: 'training clips must be normal' };
    return {
      kind: 'clip',
      section: named.section,
      domain: named.domain,
      label: named.label,
      attributes: named.attributes ?? {},
    };
  };
}

/** DCASE 2021–2025 Task 2: `<type>/{train,test}/section_XX_…` (2023 is the year the reference uses). */
export const dcase2023Rule: LayoutRule = dcaseRule(
  'dcase2023',
  {
    train: 'section_XX_{source,target}_train_normal_NNNN[_<attributes>].wav',
    test: 'section_XX_{source,target}_test_{normal,anomaly}_NNNN[_<attributes>].wav or section_XX_NNNN.wav',
  },
  parseDcase2023Name,
);

/** DCASE 2020 Task 2: `<type>/train/normal_id_XX_NNNNNNNN.wav`, `<type>/test/{normal,anomaly}_id_XX_…` or eval `id_XX_…`. */
export const dcase2020Rule: LayoutRule = dcaseRule(
  'dcase2020',
  { train: 'normal_id_XX_NNNNNNNN.wav', test: '{normal,anomaly}_id_XX_NNNNNNNN.wav or id_XX_NNNNNNNN.wav' },
  parseDcase2020Name,
);

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
