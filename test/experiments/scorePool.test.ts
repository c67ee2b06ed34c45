import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import * as path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { parseRunConfig } from '../../worker/src/config/loadConfig';
import type { Clip, MachineSet } from '../../worker/src/datasets';
import type { CellGrid } from '../../worker/src/experiments/cellGrid';
import type { CellResult, CellTask } from '../../worker/src/experiments/scoreMachineLayer';
import type * as PoolModule from '../../worker/src/experiments/scorePool';
import type { RunProgress } from '../../worker/src/experiments/runContext';
import type { RunFeatures } from '../../worker/src/experiments/stages/extract';
import * as inProcess from '../../worker/src/experiments/stages/scoreGrid';
import { variantsOf } from '../../worker/src/experiments/variants';
import type { Domain, Label } from '../../worker/src/protocol/vocabulary';

// The threaded pool needs the compiled thread script next to the compiled module: run `npx tsc -b` first (`npm test`
// builds before vitest). Imported from TypeScript sources, scoreGrid scores in-process: the reference here.
const DIST = path.resolve(__dirname, '..', '..', 'dist', 'worker', 'experiments');
const load = createRequire(__filename);
let threaded: typeof inProcess;
let pool: typeof PoolModule;

beforeAll(() => {
  for (const file of ['scoreThread.js', 'scorePool.js', 'stages/scoreGrid.js']) {
    const at = path.join(DIST, file);
    if (!existsSync(at)) throw new Error(`${at} is missing: build first (npx tsc -b)`);
  }
  threaded = load(path.join(DIST, 'stages', 'scoreGrid.js')) as typeof inProcess;
  pool = load(path.join(DIST, 'scorePool.js')) as typeof PoolModule;
});

const DIM = 6;

function clip(machineType: string, split: 'train' | 'test', i: number, domain: Domain | undefined, label: Label): Clip {
  const section = domain === undefined ? `0${i % 2}` : '00';
  const name = `${split}_${i}.wav`;
  const attributes = {};
  return { path: `/d/${machineType}/${split}/${name}`, machineType, section, split, domain, label, attributes, name };
}

/** DCASE 2023-style: `source` + `target` training clips with domains; 12 test clips, half anomalous. */
function domainMachine(machineType: string, source: number, target: number): MachineSet {
  const train = Array.from({ length: source + target }, (_, i) =>
    clip(machineType, 'train', i, i < source ? 'source' : 'target', 'normal'),
  );
  const test = Array.from({ length: 12 }, (_, i) =>
    clip(machineType, 'test', i, i % 3 === 0 ? 'target' : 'source', i % 2 === 0 ? 'anomaly' : 'normal'),
  );
  return { machineType, train, test, sections: ['00'] };
}

/** DCASE 2020-style: no domains, two sections (section banks under DN). */
function sectionMachine(machineType: string): MachineSet {
  const train = Array.from({ length: 16 }, (_, i) => clip(machineType, 'train', i, undefined, 'normal'));
  const test = Array.from({ length: 10 }, (_, i) =>
    clip(machineType, 'test', i, undefined, i % 2 === 0 ? 'anomaly' : 'normal'),
  );
  return { machineType, train, test, sections: ['00', '01'] };
}

/** Each clip's row at each layer from a hash of its path: the same features however often they are gathered. */
function features(machines: MachineSet[], layers: number[]): RunFeatures {
  const row = (c: Clip, layer: number, out: Float32Array, at: number): void => {
    let h = 2166136261 ^ layer;
    for (const ch of c.path) h = Math.imul(h ^ ch.charCodeAt(0), 16777619);
    const shift = c.label === 'anomaly' && c.split === 'test' ? 0.8 : 0;
    // at + d < (r + 1) · DIM <= out.length, as rows() allocates one row per clip.
    for (let d = 0; d < DIM; d++) {
      h = Math.imul(h ^ (h >>> 15), 2246822507) >>> 0;
      out[at + d] = h / 4294967296 + shift + (c.domain === 'target' ? 0.3 : 0);
    }
  };
  return {
    layers,
    dim: DIM,
    machines,
    rows: (clips, layer) => {
      const out = new Float32Array(clips.length * DIM);
      clips.forEach((c, r) => row(c, layer, out, r * DIM));
      return out;
    },
    hits: 0,
    extracted: 0,
    leftToOthers: 0,
    failed: [],
  };
}

const MACHINES = [domainMachine('fan', 24, 3), sectionMachine('valve'), domainMachine('pump', 20, 4)];
const LAYERS = [1, 2, 3];

function config(extra: string, K_s = 12): ReturnType<typeof parseRunConfig> {
  return parseRunConfig(
    `{\n "dataset": {"root": "/d"},\n "embedder": "fbank-stats",\n "K_n": 1,\n "mixup": {"K_s": ${K_s}, "lambda": 0.9},\n ${extra}\n}`,
    'pool.genrep.json',
  );
}

type Stage = Parameters<typeof inProcess.scoreGrid>[0];

function stage(loaded: ReturnType<typeof parseRunConfig>, threads: number, more: Partial<Stage> = {}): Stage {
  const variants = variantsOf(loaded.config, () => undefined);
  return {
    ...{ loaded, features: features(MACHINES, LAYERS), variants, threads },
    ...{ signal: undefined, progress: () => undefined, ...more },
  };
}

const bits = (a: Float64Array | null): string | null =>
  a ? Buffer.from(a.buffer, a.byteOffset, a.byteLength).toString('hex') : null;

function cellBits(cell: CellResult): unknown {
  return {
    metrics: JSON.stringify(cell.metrics, (_k, v: unknown) => (typeof v === 'number' ? bits(Float64Array.of(v)) : v)),
    score: bits(cell.score),
    d_source: bits(cell.d_source),
    d_target: bits(cell.d_target),
    threshold: bits(Float64Array.of(cell.threshold)),
  };
}

function everyCell(grid: CellGrid): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const { machines, layers, variants, seeds } = grid.axes;
  for (const m of machines)
    for (const layer of layers)
      for (const variant of variants)
        for (const seed of seeds) {
          const key = { machineType: m.machineType, layer, variant, seed };
          out[JSON.stringify([m.machineType, layer, variant, seed])] = cellBits(grid.get(key));
        }
  return out;
}

async function expectSameGrid(loaded: ReturnType<typeof parseRunConfig>): Promise<number> {
  const reference = everyCell(await inProcess.scoreGrid(stage(loaded, 1)));
  let messages = 0;
  const progress = (p: RunProgress): void => {
    messages++;
    expect(p).toMatchObject({ stage: 'score', done: messages });
  };
  const onThreads = everyCell(await threaded.scoreGrid(stage(loaded, 3, { progress })));
  expect(onThreads).toEqual(reference);
  expect(messages).toBe(Object.keys(reference).length);
  expect(pool.scoreThreadsRunning()).toBe(0);
  return messages;
}

describe('scoring grid cells on threads (scorePool.ts)', () => {
  it('gives every cell bit for bit as in-process scoring: DN modes × MemMixup, domain and section banks', async () => {
    const loaded = config('"dn": ["transductive", "inductive"],\n "ablation": true');
    // 3 machine types × 3 layers × 5 variants (two DN modes and the ablation's three more).
    expect(await expectSameGrid(loaded)).toBe(45);
  });

  it('gives the same low-shot cells: the samples are drawn in the main thread', async () => {
    const loaded = config('"dn": "transductive",\n "lowShot": {"k": 14, "seeds": [1, 2, 3]}', 8);
    expect(await expectSameGrid(loaded)).toBe(27);
  });

  it('gives the same cells with HNSW search (hnswlib-node loads in a worker thread)', async () => {
    const loaded = config('"dn": "transductive",\n "index": "hnsw"');
    expect(await expectSameGrid(loaded)).toBe(9);
  });

  it('raises a config error in the main thread with the text of in-process scoring, naming the first bad cell', async () => {
    // fan's 24 source clips hold K_s = 22, pump's 20 do not: fan's cells are scored (on threads) before pump's check.
    const loaded = config('"dn": "transductive"', 22);
    const sequential = await inProcess.scoreGrid(stage(loaded, 1)).then(
      () => undefined,
      (err: unknown) => err as Error,
    );
    expect(sequential?.message).toMatch(
      /^pool\.genrep\.json:5:\d+: \/mixup\/K_s: K_s = 22 is larger than the source bank of pump \(20 clips\); use at most 20$/,
    );
    await expect(threaded.scoreGrid(stage(loaded, 2))).rejects.toMatchObject({
      message: sequential?.message,
      code: 'BAD_INPUT',
    });
    expect(pool.scoreThreadsRunning()).toBe(0);
  });

  it("reports a bug in a thread as an INTERNAL error with the thread's stack", async () => {
    const task: CellTask = {
      ...{
        machineType: 'fan',
        layer: 1,
        train: new Float32Array(8),
        trainDomains: undefined,
        trainSections: undefined,
      },
      ...{ test: new Float32Array(4), testClips: [{ label: 'normal', domain: undefined }], dim: 2 },
      ...{ dn: 'inductive', mixup: null, K_n: 1, index: 'exact' },
    };
    // Not a string list: buildBanks fails on it with a TypeError, the kind of failure no check anticipates.
    const broken = { ...task, trainSections: 5 as unknown as string[] };
    const jobs = [
      { key: 0, task: broken, transfer: [], name: 'fan layer 1 (broken)' },
      { key: 1, task, transfer: [], name: 'fan layer 1' },
    ];
    const options = { threads: 2, total: 2, signal: undefined, onDone: () => undefined };
    await expect(pool.scoreCells(jobs, options)).rejects.toMatchObject({
      code: 'INTERNAL',
      message: expect.stringMatching(
        /^scoring fan layer 1 \(broken\) failed in a scoring thread: .*not iterable/,
      ) as unknown,
      stack: expect.stringContaining('buildBanks') as unknown,
    });
    expect(pool.scoreThreadsRunning()).toBe(0);
  });

  it('stops dispatching when cancelled and leaves no thread running', async () => {
    const loaded = config('"dn": ["transductive", "inductive"],\n "ablation": true');
    const controller = new AbortController();
    let finished = 0;
    const progress = (): void => {
      finished++;
      controller.abort();
    };
    await expect(threaded.scoreGrid(stage(loaded, 2, { signal: controller.signal, progress }))).rejects.toMatchObject({
      code: 'CANCELLED',
    });
    // The first finished cell cancels; at most the other thread's cell finishes too.
    expect(finished).toBeLessThanOrEqual(2);
    expect(pool.scoreThreadsRunning()).toBe(0);
  });
});
