import { describe, expect, it } from 'vitest';
import { parseRunConfig } from '../../worker/src/config/loadConfig';
import type { Clip, MachineSet } from '../../worker/src/datasets';
import { sampleTraining } from '../../worker/src/experiments/lowShot';

const clip = (i: number): Clip => ({
  path: `/d/fan/train/${i}.wav`,
  name: `${i}.wav`,
  machineType: 'fan',
  section: '00',
  split: 'train',
  domain: undefined,
  label: 'normal',
  attributes: {},
});
const fan: MachineSet = {
  machineType: 'fan',
  train: Array.from({ length: 50 }, (_, i) => clip(i)),
  test: [],
  sections: ['00'],
};
const loaded = parseRunConfig(
  '{\n "dataset": {"root": "/d"},\n "lowShot": {"k": 60, "seeds": [1]}\n}',
  'low.genrep.json',
);

describe('low-shot sampling', () => {
  it('draws k distinct clips in dataset order, the same for the same seed and different for another', () => {
    const a = sampleTraining(fan, { k: 10 }, 1, loaded);
    expect(a).toHaveLength(10);
    expect(new Set(a.map((c) => c.path)).size).toBe(10);
    expect(a.map((c) => Number(c.name.split('.')[0]))).toEqual(
      [...a.map((c) => Number(c.name.split('.')[0]))].sort((x, y) => x - y),
    );
    expect(sampleTraining(fan, { k: 10 }, 1, loaded)).toEqual(a);
    expect(sampleTraining(fan, { k: 10 }, 2, loaded)).not.toEqual(a);
  });

  it('takes floor(fraction · n) clips', () => {
    expect(sampleTraining(fan, { fraction: 0.5 }, 1, loaded)).toHaveLength(25);
  });

  it('names the config position when k exceeds the training clips', () => {
    expect(() => sampleTraining(fan, { k: 60 }, 1, loaded)).toThrow(
      /low\.genrep\.json:3:\d+: \/lowShot\/k: k = 60 but fan has only 50 training clips/,
    );
  });
});
