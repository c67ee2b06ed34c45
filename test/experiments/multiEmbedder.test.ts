import { readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseRunConfig } from '../../worker/src/config/loadConfig';
import { readResults } from '../../worker/src/experiments/readResults';
import { runExperiment } from '../../worker/src/experiments/run';
import type { ExperimentOutcome } from '../../worker/src/experiments/runContext';
import { GraphBuilder, int, ints } from '../../worker/src/onnx/graphBuilder';
import { TensorDataType } from '../../worker/src/onnx/proto';
import { layerSweepSpec } from '../../worker/src/protocol/chartSpecs';
import type { RunResults } from '../../worker/src/protocol/results';
import { validateConfigWithDataset } from '../../worker/src/server/configDiagnostics';
import { resolveSettings } from '../../worker/src/settings';
import { tempDir } from '../helpers/cli';
import { genrepRejection } from '../helpers/errors';
import { writeTinyDataset } from '../helpers/tinyDataset';

/**
 * A run config whose `embedder` is a list: every embedder is extracted and scored, the first one's layers are
 * selected and reported, the others add their layer sweeps (results.json `embedders`, each variant's `perEmbedder`).
 */
const tmp = tempDir('genrep-multi-');
let onnxFile: string;

beforeAll(() => {
  writeTinyDataset(tmp.file('data'));
  // A user ONNX encoder, [B, samples] → [B, 1]: the waveform's mean, blind to the anomalies' clicks, so that its
  // sweep differs from fbank-stats' (built as test/embedders/onnxEncoder.test.ts builds its models).
  const g = new GraphBuilder('mean');
  const x = g.input('audio', TensorDataType.FLOAT, ['batch', 'samples']);
  g.op('ReduceMean', [x], { axes: ints([1]), keepdims: int(1) }, { outputs: ['embedding'] });
  g.output('embedding', TensorDataType.FLOAT, ['batch', 1]);
  onnxFile = tmp.file('mean.onnx');
  writeFileSync(onnxFile, g.encode({ opsets: [{ domain: '', version: 17 }], producerVersion: 'test' }));
});
afterAll(() => tmp.cleanup());

const onnx = (): Record<string, unknown> => ({ kind: 'onnx', path: onnxFile, input: 'waveform', output: 'embedding' });

/** Runs a config named `name` with its own output and cache folders, so that every run extracts the same clips. */
async function run(name: string, embedder: unknown): Promise<ExperimentOutcome> {
  const file = tmp.file(`${name}.genrep.json`);
  const text = JSON.stringify({
    name: 'same',
    dataset: { root: 'data' },
    embedder,
    mixup: { K_s: 10, lambda: 0.9 },
    ablation: true,
    cacheDir: `cache-${name}`,
    output: `out-${name}`,
  });
  writeFileSync(file, text);
  const loaded = parseRunConfig(text, file);
  return runExperiment(loaded, resolveSettings({ runConfig: loaded.config, env: process.env }));
}

const read = (outcome: ExperimentOutcome, file: string): string =>
  readFileSync(path.join(outcome.outputDir, file), 'utf8');

/** results.json without what differs between two runs of the same experiment: times and the config's own words. */
function comparable(outcome: ExperimentOutcome): unknown {
  const r = JSON.parse(read(outcome, 'results.json')) as Partial<RunResults>;
  delete r.startedAt;
  delete r.finishedAt;
  delete r.timings;
  delete r.configFile;
  delete r.config;
  return r;
}

/** report.html without the line of the finishing time and durations. */
const reportBody = (outcome: ExperimentOutcome): string =>
  read(outcome, 'report.html').replace(/<p class="meta">\d{4}-[^]*?<\/p>/, '');

describe('a run with several embedders', () => {
  let single: ExperimentOutcome;
  let listed: ExperimentOutcome;
  let onnxOnly: ExperimentOutcome;
  let both: ExperimentOutcome;
  beforeAll(async () => {
    single = await run('single', 'fbank-stats');
    listed = await run('listed', ['fbank-stats']);
    onnxOnly = await run('onnx', onnx());
    both = await run('both', ['fbank-stats', onnx()]);
  }, 60_000);

  it('writes the same results.json, submission files and report for `x` and `[x]`', () => {
    expect(comparable(listed)).toEqual(comparable(single));
    expect(read(listed, 'results.json')).not.toMatch(/perEmbedder|"embedders"/);
    expect(listed.results.config.embedder).toEqual(['fbank-stats']);
    expect(single.results.outputs).toEqual(listed.results.outputs);
    for (const file of single.results.outputs.filter((f) => f.endsWith('.csv')))
      expect(read(listed, file)).toBe(read(single, file));
    expect(reportBody(listed)).toBe(reportBody(single));
    expect(reportBody(single)).toContain('<svg');
  });

  it("reports the first embedder's layers and writes every embedder's sweep", async () => {
    const r = await readResults(both.resultsFile);
    const fbank = single.results;
    const user = onnxOnly.results;
    expect(r.embedder).toEqual(fbank.embedder);
    expect(r.embedders?.map((e) => [e.id, e.dim])).toEqual([
      [fbank.embedder.id, 256],
      [user.embedder.id, 1],
    ]);
    expect(r.variants.map((v) => v.id)).toEqual(fbank.variants.map((v) => v.id));
    r.variants.forEach((v, i) => {
      // The reported results are the first embedder's, as its own run has them ...
      const { perEmbedder, ...reported } = v;
      expect(reported).toEqual(fbank.variants[i]);
      // ... and each sweep is what that embedder's own run reports as its perLayer.
      expect(perEmbedder).toEqual([
        { embedder: fbank.embedder.id, perLayer: fbank.variants[i]!.perLayer },
        { embedder: user.embedder.id, perLayer: user.variants[i]!.perLayer },
      ]);
    });
    // The two encoders do not score alike, so a mix-up of the sweeps would show.
    expect(r.variants[0]!.perEmbedder![1]!.perLayer[0]!.metrics!.auc).not.toBe(
      r.variants[0]!.perLayer[0]!.metrics!.auc,
    );
    for (const file of fbank.outputs.filter((f) => f.endsWith('.csv')))
      expect(read(both, file)).toBe(read(single, file));
    expect(r.cache).toEqual({ hits: 0, extracted: fbank.cache.extracted + user.cache.extracted });
    expect(read(both, 'report.html')).toContain(
      `embedders compared in the layer sweep: <code>${fbank.embedder.id}</code>, <code>${user.embedder.id}</code>`,
    );
  });

  it('draws one line per embedder and metric with a legend, and the one-embedder chart as before', () => {
    // report.html renders the spec headless: its legend names both embedders and the metrics.
    const figure = /<h2>Layer sweep<\/h2><figure>([^]*?)<\/figure>/.exec(read(both, 'report.html'))?.[1] ?? '';
    for (const label of [...both.results.embedders!.map((e) => e.id), 'embedder', 'AUC', 'pAUC', 'official'])
      expect(figure).toContain(`>${label}</text>`);
    // One line per embedder and metric.
    expect(figure.match(/aria-roledescription="line mark"/g)).toHaveLength(6);
    const main = both.results.variants[0]!;
    const spec = layerSweepSpec(main) as {
      data: { values: Record<string, unknown>[] };
      encoding: Record<string, unknown>;
    };
    const ids = both.results.embedders!.map((e) => e.id);
    expect(spec.encoding['color']).toMatchObject({ field: 'embedder', type: 'nominal', title: 'embedder', sort: ids });
    expect(spec.encoding['strokeDash']).toMatchObject({ field: 'metric', title: 'metric' });
    const pct = (x: number | null | undefined): number => 100 * (x ?? NaN);
    const metrics = (i: number) => main.perEmbedder![i]!.perLayer[0]!.metrics!;
    expect(spec.data.values).toEqual(
      [0, 1].flatMap((i) => [
        { embedder: ids[i], layer: 1, metric: 'AUC', value: pct(metrics(i).auc) },
        { embedder: ids[i], layer: 1, metric: 'pAUC', value: pct(metrics(i).pauc) },
        { embedder: ids[i], layer: 1, metric: 'official', value: pct(metrics(i).official) },
      ]),
    );
    // One embedder: the spec the chart always had (colour by metric, no embedder field).
    const one = single.results.variants[0]!;
    const m = one.perLayer[0]!.metrics!;
    expect(layerSweepSpec(one)).toEqual({
      $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
      title: `Layer sweep — ${one.id}`,
      width: 520,
      height: 220,
      data: {
        values: [
          { layer: 1, metric: 'AUC', value: 100 * m.auc },
          { layer: 1, metric: 'pAUC', value: 100 * m.pauc },
          { layer: 1, metric: 'official', value: pct(m.official) },
        ],
      },
      mark: { type: 'line', point: true },
      encoding: {
        x: { field: 'layer', type: 'ordinal', title: 'layer', axis: { labelAngle: 0 } },
        y: {
          field: 'value',
          type: 'quantitative',
          title: 'harmonic mean over machine types (%)',
          scale: { zero: false },
          axis: { labelOverlap: true },
        },
        color: { field: 'metric', type: 'nominal', title: null },
      },
    });
  });

  it('refuses an embedder listed twice, at its own pointer', async () => {
    const err = await genrepRejection(run('twice', ['fbank-stats', { kind: 'fbank-stats' }]));
    expect(err.message).toMatch(
      /twice\.genrep\.json:\d+:\d+: \/embedder\/1: embedder fbank-stats\S* is already listed at \/embedder\/0/,
    );
  });
});

describe('the config checks of a list of embedders', () => {
  async function check(embedder: unknown, layers: unknown = 'all') {
    const text = JSON.stringify(
      { dataset: { root: 'data' }, embedder, layers, mixup: { K_s: 10, lambda: 0.9 } },
      null,
      2,
    );
    const found = (await validateConfigWithDataset(text, tmp.file('check.genrep.json'))).diagnostics;
    return found.map((d) => [d.pointer, d.message]);
  }

  it('checks each entry at its own pointer: names, paths, repeats; the first one against the layers', async () => {
    expect(await check(['fbank-stats', 'beats_ft3'])).toEqual([
      [
        '/embedder/1',
        expect.stringMatching(/^\/embedder\/1: unknown embedder 'beats_ft3'; did you mean 'beats_ft1'\?/) as string,
      ],
    ]);
    expect(await check(['fbank-stats', { kind: 'beats', checkpoint: 'beats_ft2' }, 'fbank-stats'])).toEqual([
      [
        '/embedder/2',
        '/embedder/2: this embedder is already listed at /embedder/0; each one of the list is scored once',
      ],
    ]);
    expect(await check(['fbank-stats', { kind: 'onnx', path: 'missing.onnx', input: 'fbank' }])).toEqual([
      ['/embedder/1/path', expect.stringMatching(/^\/embedder\/1\/path: ONNX model not found: /) as string],
    ]);
    // The first embedder's depth bounds the layers; another one is scored at the listed layers it has.
    expect(await check(['beats_ft1', 'fbank-stats'], [1, 4])).toEqual([]);
    expect(await check(['fbank-stats', 'beats_ft1'], [1, 4])).toEqual([
      ['/layers/1', '/layers/1: layer 4 does not exist: fbank-stats has layers 1..1'],
    ]);
    expect(await check(['beats_ft1', 'fbank-stats'], [4])).toEqual([
      ['/embedder/1', '/embedder/1: none of the layers (4) exists in fbank-stats, which has layers 1..1'],
    ]);
    expect(await check('beats_ft3')).toEqual([
      ['/embedder', expect.stringMatching(/^\/embedder: unknown embedder 'beats_ft3'/) as string],
    ]);
  });
});
