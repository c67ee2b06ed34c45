import { GenrepError } from '../errors';
import type { Domain, Label, Split } from './types';

/**
 * Parsers for the file names the DCASE Task 2 datasets use. Each returns undefined for a name it does not fit, so
 * the caller can say which rule a file failed instead of guessing.
 */

/** A name that states its section, domain, split and label (DCASE 2021–2025 train and dev test, renamed eval). */
export interface LabelledDcaseName {
  kind: 'labelled';
  section: string;
  domain: Domain;
  split: Split;
  label: Label;
  index: string;
  attributes: Record<string, string>;
}

/** An eval test name that hides everything but section and index: `section_00_0000.wav`. */
export interface EvalDcaseName {
  kind: 'eval';
  section: string;
  index: string;
}

const LABELLED_2023 = /^section_(\d+)_(source|target)_(train|test)_(normal|anomaly)_(\d+)(?:_(.+?))?(?:\.wav)?$/i;
const EVAL_2023 = /^section_(\d+)_(\d+)(?:\.wav)?$/i;
const LABELLED_2020 = /^(normal|anomaly)_id_(\d+)_(\d+)(?:\.wav)?$/i;
const EVAL_2020 = /^id_(\d+)_(\d+)(?:\.wav)?$/i;

/** DCASE 2023-style name (with or without the .wav extension). */
export function parseDcase2023Name(name: string): LabelledDcaseName | EvalDcaseName | undefined {
  const labelled = LABELLED_2023.exec(name);
  if (labelled) {
    // The groups are spelled (case aside) exactly as the types say: (source|target), (train|test), (normal|anomaly).
    return {
      kind: 'labelled',
      section: group(labelled, 1),
      domain: group(labelled, 2).toLowerCase() as Domain,
      split: group(labelled, 3).toLowerCase() as Split,
      label: group(labelled, 4).toLowerCase() as Label,
      index: group(labelled, 5),
      attributes: parseAttributeTokens(labelled[6]),
    };
  }
  const evalName = EVAL_2023.exec(name);
  if (evalName) return { kind: 'eval', section: group(evalName, 1), index: group(evalName, 2) };
  return undefined;
}

export interface LabelledDcase2020Name {
  kind: 'labelled';
  /** The machine ID, which plays the role of a section. */
  section: string;
  label: Label;
  index: string;
}

export interface EvalDcase2020Name {
  kind: 'eval';
  section: string;
  index: string;
}

/** DCASE 2020-style name: `normal_id_00_00000000.wav`, `anomaly_id_…`, or eval `id_00_00000000.wav`. */
export function parseDcase2020Name(name: string): LabelledDcase2020Name | EvalDcase2020Name | undefined {
  const labelled = LABELLED_2020.exec(name);
  if (labelled) {
    const label = group(labelled, 1).toLowerCase() as Label; // (normal|anomaly)
    return { kind: 'labelled', label, section: group(labelled, 2), index: group(labelled, 3) };
  }
  const evalName = EVAL_2020.exec(name);
  if (evalName) return { kind: 'eval', section: group(evalName, 1), index: group(evalName, 2) };
  return undefined;
}

/** A group that is not optional in its pattern, so every match has it. */
function group(match: RegExpExecArray, index: number): string {
  const text = match[index];
  if (text === undefined) throw new GenrepError(`file-name pattern: no group ${index} in '${match.input}'`, 'INTERNAL');
  return text;
}

/**
 * `car_A2_spd_28V_mic_1` → {car: 'A2', spd: '28V', mic: '1'}. Tokens pair up as key, value (GenRep reads the same
 * tokens from index 6 of the `_`-split stem). `noAttribute` (DCASE 2024/2025 types without attributes) gives {};
 * an unpaired last token becomes a key with an empty value so nothing in the name is lost.
 */
export function parseAttributeTokens(tail: string | undefined): Record<string, string> {
  const attributes: Record<string, string> = {};
  if (tail === undefined || tail === '') return attributes;
  const tokens = tail.split('_').filter((t) => t !== '' && t !== 'noAttribute');
  tokens.forEach((token, i) => {
    if (i % 2 === 0) attributes[token] = tokens[i + 1] ?? '';
  });
  return attributes;
}

/** The inverse of parseAttributeTokens, in insertion order; {} gives `noAttribute` as DCASE 2024 writes it. */
export function formatAttributeTokens(attributes: Record<string, string>): string {
  const parts: string[] = [];
  for (const [key, value] of Object.entries(attributes)) {
    parts.push(key);
    if (value !== '') parts.push(value);
  }
  return parts.length === 0 ? 'noAttribute' : parts.join('_');
}

export function isWavName(name: string): boolean {
  return /\.wav$/i.test(name) && !name.startsWith('.');
}

/** Code-unit order, as Python's sorted() orders names (localeCompare would put 'B' after 'a'). */
export function compareNames(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
