import { mkdirSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { encodeWavPcm16 } from '../../worker/src/audio';

/**
 * A small DCASE 2023-layout dataset for runner tests: a hum whose pitch depends on the domain, plus noise; anomalies
 * add a click train. Deterministic, 1 s clips, so a run over it takes seconds.
 */
export interface TinyDatasetOptions {
  machines?: string[];
  trainSource?: number;
  trainTarget?: number;
  testPerGroup?: number;
  seconds?: number;
}

export function writeTinyDataset(root: string, o: TinyDatasetOptions = {}): void {
  const machines = o.machines ?? ['fan', 'pump'];
  const sr = 16000;
  const n = Math.round((o.seconds ?? 1) * sr);
  let seed = 12345;
  const rand = (): number => {
    seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
    return seed / 4294967296;
  };
  const clip = (base: number, anomaly: boolean): Float32Array => {
    const x = new Float32Array(n);
    const f = base * (1 + 0.02 * (rand() - 0.5));
    for (let t = 0; t < n; t++) {
      x[t] =
        0.2 * Math.sin((2 * Math.PI * f * t) / sr) + 0.1 * Math.sin((4 * Math.PI * f * t) / sr) + 0.05 * (rand() - 0.5);
      if (anomaly && t % 800 < 20) x[t]! += 0.4 * (rand() - 0.5);
    }
    return x;
  };
  machines.forEach((m, mi) => {
    const train = path.join(root, m, 'train');
    const test = path.join(root, m, 'test');
    mkdirSync(train, { recursive: true });
    mkdirSync(test, { recursive: true });
    const base = { source: 200 + 50 * mi, target: 320 + 50 * mi };
    const id = (i: number): string => String(i).padStart(4, '0');
    for (let i = 0; i < (o.trainSource ?? 30); i++)
      writeFileSync(
        path.join(train, `section_00_source_train_normal_${id(i)}_spd_${base.source}.wav`),
        encodeWavPcm16(clip(base.source, false), sr),
      );
    for (let i = 0; i < (o.trainTarget ?? 5); i++)
      writeFileSync(
        path.join(train, `section_00_target_train_normal_${id(i)}_spd_${base.target}.wav`),
        encodeWavPcm16(clip(base.target, false), sr),
      );
    for (const domain of ['source', 'target'] as const) {
      for (const label of ['normal', 'anomaly'] as const) {
        for (let i = 0; i < (o.testPerGroup ?? 6); i++) {
          writeFileSync(
            path.join(test, `section_00_${domain}_test_${label}_${id(i)}_spd_${base[domain]}.wav`),
            encodeWavPcm16(clip(base[domain], label === 'anomaly'), sr),
          );
        }
      }
    }
  });
}
