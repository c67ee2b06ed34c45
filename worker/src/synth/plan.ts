import { formatAttributeTokens } from '../datasets/fileNames';
import type { Split } from '../datasets/types';
import type { Domain, Label } from '../protocol/vocabulary';
import { at } from '../util/at';
import type { Anomaly, Condition, MachineModel } from './model';
import { Random } from './random';

export interface SynthSizes {
  /** Normal training clips per machine type, source domain (DCASE 2023: 990). */
  trainSource: number;
  /** Normal training clips per machine type, target domain (DCASE 2023: 10). */
  trainTarget: number;
  /** Test clips in each of the four groups source/target × normal/anomaly (DCASE 2023: 50). */
  testPerGroup: number;
}

/**
 * An anomalous clip's fault size relative to the nominal one: log-uniform over this range, so some faults are
 * barely there and some obvious, as in recordings of real faulty machines (a uniform narrow range would make
 * every fault either always or never detectable).
 */
export const SEVERITY_SPREAD: readonly [number, number] = [0.25, 2.5];

export const DCASE2023_SIZES: SynthSizes = { trainSource: 990, trainTarget: 10, testPerGroup: 50 };

/** One file to generate: where it goes, what it is, and the key its random stream is seeded from. */
export interface PlannedClip {
  machine: string;
  split: Split;
  domain: Domain;
  label: Label;
  index: number;
  condition: Condition;
  anomaly: Anomaly | undefined;
  /** DCASE 2023 file name: section_00_<domain>_<split>_<label>_<NNNN>_<attributes>.wav */
  name: string;
}

/**
 * Every clip of one machine type, in file-name order. Conditions cycle with the index, so each group spreads
 * evenly over its domain's operating conditions; fault kinds cycle with index ÷ (number of conditions), so every
 * kind meets every condition. A fault's size is `severity` × a log-uniform draw from SEVERITY_SPREAD, taken from the clip's own key.
 */
export function planMachine(model: MachineModel, seed: number, sizes: SynthSizes, severity: number): PlannedClip[] {
  const plan: PlannedClip[] = [];
  const groups: [Split, Domain, Label, number][] = [
    ['train', 'source', 'normal', sizes.trainSource],
    ['train', 'target', 'normal', sizes.trainTarget],
    ['test', 'source', 'anomaly', sizes.testPerGroup],
    ['test', 'source', 'normal', sizes.testPerGroup],
    ['test', 'target', 'anomaly', sizes.testPerGroup],
    ['test', 'target', 'normal', sizes.testPerGroup],
  ];
  for (const [split, domain, label, count] of groups) {
    const conditions = domain === 'source' ? model.source : model.target;
    for (let index = 0; index < count; index++) {
      const condition = at(conditions, index % conditions.length, `${model.name} ${domain} conditions`);
      let anomaly: Anomaly | undefined;
      if (label === 'anomaly') {
        const kind = at(
          model.anomalies,
          Math.floor(index / conditions.length) % model.anomalies.length,
          `${model.name} anomalies`,
        );
        const draw = new Random(`${clipKey(seed, model.name, split, domain, label, index)}/severity`);
        anomaly = {
          kind,
          severity: severity * SEVERITY_SPREAD[0] * (SEVERITY_SPREAD[1] / SEVERITY_SPREAD[0]) ** draw.uniform(),
        };
      }
      const attributes = formatAttributeTokens(Object.fromEntries(condition.attributes));
      const name = `section_00_${domain}_${split}_${label}_${String(index).padStart(4, '0')}_${attributes}.wav`;
      plan.push({ machine: model.name, split, domain, label, index, condition, anomaly, name });
    }
  }
  return plan;
}

/** The seed of one file's random stream: nothing else (not the order, not the other files) affects its samples. */
export function clipKey(
  seed: number,
  machine: string,
  split: Split,
  domain: Domain,
  label: Label,
  index: number,
): string {
  return `genrep-synth/${seed}/${machine}/${split}/${domain}/${label}/${index}`;
}
