/**
 * `npm run bench:explain`: does an explanation point at the fault? (issue 13, "Localisation, measured"; the rule is
 * docs/explain.md, "Localisation".)
 *
 * 1. `genrep synth --faults localised` writes a dataset whose anomalous clips each carry one knock, rub or burst in
 *    a recorded time span and band (<machine>/localised_faults.json).
 * 2. `genrep run` scores it with each embedder: the built-in fbank-stats, and the tiny BEATs checkpoint of the test
 *    fixtures (random weights: a check that the pipeline localises through a transformer, not a quality figure).
 * 3. Every anomalous clip the detector flags (decision = 1, the run's own threshold, which uses no test labels) is
 *    explained as the run scored it (`explainClipOfRun`: the run's banks, layer, DN, K_n, MemMixup), and the top
 *    time region and the top band are
 *    compared with the fault's span and band. Printed: the hit rates, and what a uniformly drawn region would give.
 *
 * Options: --machines a,b; --clips s,t,n (default 60,10,15); --seed N; --severity X; --dn none|inductive|transductive (default
 * none); --verbose (one line per flagged clip); --keep DIR.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import type * as ExplainModule from '../worker/src/explain/explainRun';
import type * as SettingsModule from '../worker/src/settings';
import type { RunResults } from '../worker/src/protocol/results';
import type * as SynthModule from '../worker/src/synth';
import type * as LocalisationModule from '../worker/src/synth/localisation';
import { builtWorker } from './builtWorker';

const { LOCALISED_FAULTS_FILE } = builtWorker<typeof SynthModule>('synth');
const { explainClipOfRun } = builtWorker<typeof ExplainModule>('explain/explainRun');
const { resolveSettings } = builtWorker<typeof SettingsModule>('settings');
const { localise, summariseLocalisation } = builtWorker<typeof LocalisationModule>('synth/localisation');

const args = process.argv.slice(2);
const flag = (name: string): string | undefined => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : undefined;
};
const machines = (flag('machines') ?? 'fan,pump,gearbox').split(',');
const clips = (flag('clips') ?? '60,10,15').split(',').map(Number);
const seed = Number(flag('seed') ?? 0);
const severity = Number(flag('severity') ?? 1);
const verbose = args.includes('--verbose');
const dn = flag('dn') ?? 'none';
const repo = path.join(__dirname, '..', '..');
const cli = path.join(repo, 'worker', 'bin', 'genrep.js');
const tinyBeats = path.join(repo, 'test', 'fixtures', 'golden-beats-tiny', 'checkpoint.pt');

const genrep = (argv: string[], env: NodeJS.ProcessEnv = {}): string =>
  execFileSync(process.execPath, [cli, ...argv], {
    encoding: 'utf8',
    env: { ...process.env, ...env },
    maxBuffer: 256 << 20,
  });

async function main(): Promise<void> {
  const work = flag('keep') ?? mkdtempSync(path.join(tmpdir(), 'genrep-explain-bench-'));
  try {
    await measure(work);
  } finally {
    if (flag('keep') === undefined) rmSync(work, { recursive: true, force: true });
  }
}

async function measure(work: string): Promise<void> {
  const settings = resolveSettings({ runConfig: { cacheDir: path.join(work, 'cache') }, env: process.env });
  const data = path.join(work, 'data');
  genrep([
    'synth',
    '--out',
    data,
    '--machines',
    machines.join(','),
    '--clips',
    clips.join(','),
    '--seed',
    String(seed),
    '--severity',
    String(severity),
    '--faults',
    'localised',
  ]);
  const faults = new Map<string, SynthModule.LocalisedFault>();
  for (const machine of machines) {
    const file = JSON.parse(readFileSync(path.join(data, machine, LOCALISED_FAULTS_FILE), 'utf8')) as {
      faults: (SynthModule.LocalisedFault & { file: string })[];
    };
    for (const f of file.faults) faults.set(path.basename(f.file), f);
  }
  console.log(
    `dataset: ${machines.join(', ')} · ${clips.join('/')} clips · seed ${seed} · severity ${severity} · ${faults.size} localised faults`,
  );
  console.log(
    'rule: time hit = the k consecutive steps with the largest Σ perTime (k = the span in steps) overlap [t0, t1]; ' +
      'band hit = the band with the largest perBand overlaps [f0, f1] (in region: the largest column sum over the top time region); chance = the same rule on a uniformly drawn region',
  );
  for (const [label, embedder] of [
    ['fbank-stats', 'fbank-stats'],
    ['tiny BEATs (random weights)', tinyBeats],
  ] as const) {
    const tag = label.split(' ')[0]!;
    const out = path.join(work, `run-${tag}`);
    const config = path.join(work, `${tag}.genrep.json`);
    writeFileSync(
      config,
      JSON.stringify({
        name: 'explain-bench',
        dataset: { root: data, layout: 'dcase2023' },
        embedder,
        K_n: 1,
        mixup: { K_s: clips[0], lambda: 0.9 },
        dn,
        layerSelection: 'fixed',
        output: out,
      }),
    );
    const started = Date.now();
    genrep(['run', config, '--quiet'], { GENREP_CACHE_DIR: path.join(work, 'cache') });
    const resultsFile = path.join(out, 'results.json');
    const results = JSON.parse(readFileSync(resultsFile, 'utf8')) as RunResults;
    const variant = results.variants[0]!;
    const anomalies = variant.machines.reduce((n, m) => n + m.files.filter((f) => f.label === 'anomaly').length, 0);
    const outcomes: LocalisationModule.LocalisationOutcome[] = [];
    for (const m of variant.machines) {
      for (const f of m.files.filter((c) => c.label === 'anomaly' && c.decision === 1)) {
        const fault = faults.get(path.basename(f.name));
        if (fault === undefined) throw new Error(`${f.name}: no localised fault recorded`);
        const explained = await explainClipOfRun({ resultsFile, clip: f.path, settings });
        // The run's own banks, so the explained score is the score the run flagged.
        if (Math.abs(explained.score - f.score) > 1e-3 * Math.abs(f.score))
          throw new Error(`${f.name}: explained score ${explained.score} differs from the run's ${f.score}`);
        const o = localise(explained, fault);
        outcomes.push(o);
        if (verbose)
          console.log(
            `  ${f.name} ${fault.kind} [${fault.t0}, ${fault.t1}] s [${fault.f0}, ${fault.f1}] Hz × ${fault.severity.toFixed(2)} → ` +
              `[${o.timeRegion.map((t) => t.toFixed(2)).join(', ')}] s ${o.timeHit ? 'hit' : 'miss'}, ` +
              `[${o.band.map((h) => h.toFixed(0)).join(', ')}] Hz ${o.bandHit ? 'hit' : 'miss'}, in region ` +
              `[${o.regionBand.map((h) => h.toFixed(0)).join(', ')}] Hz ${o.regionBandHit ? 'hit' : 'miss'}`,
          );
      }
    }
    const s = summariseLocalisation(outcomes);
    const pct = (x: number): string => `${(100 * x).toFixed(1)} %`;
    const o = variant.overall;
    console.log(
      `${label}: detector AUC ${o ? pct(o.auc) : '–'} (source ${o?.auc_source !== null && o?.auc_source !== undefined ? pct(o.auc_source) : '–'}, target ${o?.auc_target !== null && o?.auc_target !== undefined ? pct(o.auc_target) : '–'}, harmonic means over machines, dn ${dn}) · ${s.clips} of ${anomalies} anomalous clips flagged · time ${pct(s.timeRate)} (chance ${pct(s.timeChance)}) · ` +
        `band ${pct(s.bandRate)}, in the top time region ${pct(s.regionBandRate)} (chance ${pct(s.bandChance)}) · ${((Date.now() - started) / 1000).toFixed(1)} s`,
    );
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
