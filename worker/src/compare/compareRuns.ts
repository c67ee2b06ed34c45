import { GenrepError } from '../errors';
import { readResults } from '../experiments/readResults';
import { compareRunNames } from '../protocol/chartSpecs';
import type {
  ChangedClip,
  CompareFile,
  CompareMachine,
  ComparePair,
  CompareResult,
  CompareRun,
  CompareVariant,
  ConfigDifference,
  MetricDeltas,
} from '../protocol/compare';
import type { FileScore, MachineResult, Metrics, RunResults, VariantResult } from '../protocol/results';

/** Reads two or more results.json and compares the first with each other one. */
export async function compareResultFiles(files: readonly string[]): Promise<CompareResult> {
  if (files.length < 2) {
    throw new GenrepError(`compare: expected two or more results.json files, got ${files.length}`, 'BAD_INPUT', {
      field: 'files',
      expected: 'two or more results.json files',
    });
  }
  const runs = await Promise.all(files.map(async (file) => ({ file, results: await readResults(file) })));
  return compareRuns(runs);
}

/** The comparison of runs already read: runs[0] (A) against each other run (B). */
export function compareRuns(runs: readonly { file: string; results: RunResults }[]): CompareResult {
  const [first, ...others] = runs;
  if (!first || others.length === 0) {
    throw new GenrepError('compare: expected two or more runs', 'BAD_INPUT', { field: 'files' });
  }
  const labels = compareRunNames({ runs: runs.map(({ file, results }) => ({ file, name: results.name })) });
  return {
    runs: runs.map(({ file, results }, i) => runOf(file, results, labels[i] ?? results.name)),
    pairs: others.map((other, i) => comparePair(first.results, other.results, 0, i + 1)),
  };
}

function runOf(file: string, r: RunResults, label: string): CompareRun {
  return { file, name: r.name, label, finishedAt: r.finishedAt, embedders: embedderIds(r) };
}

function embedderIds(r: RunResults): string[] {
  return r.embedders && r.embedders.length > 0 ? r.embedders.map((e) => e.id) : [r.embedder.id];
}

export function comparePair(a: RunResults, b: RunResults, ia: number, ib: number): ComparePair {
  const [mainA] = a.variants;
  const [mainB] = b.variants;
  if (!mainA || !mainB) throw new GenrepError(`${mainA ? b.name : a.name}: results without a variant`, 'INTERNAL');
  // The main variants are what each run reports, whatever their ids (runs differing in dn have different ids);
  // besides, variants of the same id pair up (an ablation cell of one run may be the other's main variant).
  const variants: CompareVariant[] = [compareVariant(mainA, mainB)];
  const idsB = new Map(b.variants.map((v) => [v.id, v]));
  const matchedA = new Set<VariantResult>([mainA]);
  const matchedB = new Set<VariantResult>([mainB]);
  for (const va of a.variants) {
    const vb = idsB.get(va.id);
    if (!vb || (va === mainA && vb === mainB)) continue;
    variants.push(compareVariant(va, vb));
    matchedA.add(va);
    matchedB.add(vb);
  }
  const variantsOnlyA = a.variants.flatMap((v) => (matchedA.has(v) ? [] : [v.id]));
  const variantsOnlyB = b.variants.flatMap((v) => (matchedB.has(v) ? [] : [v.id]));
  return { a: ia, b: ib, variants, variantsOnlyA, variantsOnlyB, configDiff: configDifferences(a, b, mainA, mainB) };
}

export function compareVariant(va: VariantResult, vb: VariantResult): CompareVariant {
  const byType = new Map(vb.machines.map((m) => [m.machineType, m]));
  const machines: CompareMachine[] = [];
  const machinesOnlyA: string[] = [];
  for (const ma of va.machines) {
    const mb = byType.get(ma.machineType);
    if (mb) machines.push(compareMachine(ma, mb));
    else machinesOnlyA.push(ma.machineType);
  }
  const typesA = new Set(va.machines.map((m) => m.machineType));
  const machinesOnlyB = vb.machines.flatMap((m) => (typesA.has(m.machineType) ? [] : [m.machineType]));
  return {
    idA: va.id,
    idB: vb.id,
    summaryStyleA: va.summaryStyle,
    summaryStyleB: vb.summaryStyle,
    machines,
    machinesOnlyA,
    machinesOnlyB,
    overall: { a: va.overall, b: vb.overall, delta: metricDeltas(va.overall, vb.overall) },
    changed: machines.flatMap(changedClips),
  };
}

/** B − A for each metric; null where either side lacks it. */
export function metricDeltas(a: Metrics | null, b: Metrics | null): MetricDeltas {
  const delta = (k: keyof Metrics): number | null => {
    const x = a?.[k];
    const y = b?.[k];
    return typeof x === 'number' && typeof y === 'number' ? y - x : null;
  };
  return {
    auc: delta('auc'),
    pauc: delta('pauc'),
    auc_source: delta('auc_source'),
    auc_target: delta('auc_target'),
    official: delta('official'),
  };
}

function compareMachine(ma: MachineResult, mb: MachineResult): CompareMachine {
  const { files, unmatchedA, unmatchedB } = matchFiles(ma.files, mb.files);
  return {
    machineType: ma.machineType,
    chosenLayerA: ma.chosenLayer,
    chosenLayerB: mb.chosenLayer,
    metricsA: ma.metrics,
    metricsB: mb.metrics,
    delta: metricDeltas(ma.metrics, mb.metrics),
    thresholdA: ma.threshold,
    thresholdB: mb.threshold,
    rocA: ma.roc?.all ?? null,
    rocB: mb.roc?.all ?? null,
    files,
    unmatchedA,
    unmatchedB,
  };
}

/**
 * Pairs clips by path; a clip whose path is not in the other run (the dataset moved, or another copy of it) pairs by
 * file name when that name is unique in both runs, since a duplicated name could pair two different clips.
 */
export function matchFiles(
  filesA: readonly FileScore[],
  filesB: readonly FileScore[],
): { files: CompareFile[]; unmatchedA: number; unmatchedB: number } {
  const byPath = new Map(filesB.map((f) => [f.path, f]));
  const uniqueNames = (files: readonly FileScore[]): Map<string, FileScore> => {
    const seen = new Map<string, FileScore | null>();
    for (const f of files) seen.set(f.name, seen.has(f.name) ? null : f);
    return new Map([...seen].flatMap(([k, v]) => (v ? [[k, v] as const] : [])));
  };
  const namesA = uniqueNames(filesA);
  const namesB = uniqueNames(filesB);
  const used = new Set<FileScore>();
  const files: CompareFile[] = [];
  for (const fa of filesA) {
    let fb = byPath.get(fa.path);
    if (!fb && namesA.get(fa.name) === fa) fb = namesB.get(fa.name);
    if (!fb || used.has(fb)) continue;
    used.add(fb);
    files.push({
      name: fa.name,
      path: fa.path,
      section: fa.section,
      domain: fa.domain ?? fb.domain,
      label: fa.label ?? fb.label,
      scoreA: fa.score,
      scoreB: fb.score,
      decisionA: fa.decision,
      decisionB: fb.decision,
    });
  }
  return { files, unmatchedA: filesA.length - files.length, unmatchedB: filesB.length - files.length };
}

function changedClips(m: CompareMachine): ChangedClip[] {
  return m.files
    .filter((f) => f.decisionA !== f.decisionB)
    .map((f) => {
      const truth = f.label === null ? null : f.label === 'anomaly' ? 1 : 0;
      return {
        machineType: m.machineType,
        name: f.name,
        path: f.path,
        label: f.label,
        scoreA: f.scoreA,
        scoreB: f.scoreB,
        decisionA: f.decisionA,
        decisionB: f.decisionB,
        effect: truth === null ? null : f.decisionB === truth ? 'fixed' : 'broken',
      };
    });
}

/** Config fields that name where a run is rather than what it computes. */
const IGNORED_CONFIG_FIELDS = new Set(['/$schema', '/name', '/output', '/cacheDir', '/modelDir', '/threads']);

/**
 * What could explain a difference in results: every config field that differs (a structural diff by JSON pointer:
 * embedder, layers, K_n, mixup, dn, pooling, layerSelection, dataset, …), the embedder ids the runs resolved, and the
 * main variants' chosen layer of each machine type both scored.
 */
export function configDifferences(
  a: RunResults,
  b: RunResults,
  mainA: VariantResult,
  mainB: VariantResult,
): ConfigDifference[] {
  const out: ConfigDifference[] = [];
  const fa = flatten(a.config);
  const fb = flatten(b.config);
  for (const key of [...new Set([...fa.keys(), ...fb.keys()])].sort()) {
    if (IGNORED_CONFIG_FIELDS.has(key) || [...IGNORED_CONFIG_FIELDS].some((p) => key.startsWith(`${p}/`))) continue;
    const x = fa.get(key) ?? null;
    const y = fb.get(key) ?? null;
    if (x !== y) out.push({ path: key, a: x, b: y });
  }
  const ea = JSON.stringify(embedderIds(a));
  const eb = JSON.stringify(embedderIds(b));
  if (ea !== eb) out.push({ path: 'embedders', a: ea, b: eb });
  const layersB = new Map(mainB.machines.map((m) => [m.machineType, m.chosenLayer]));
  for (const m of mainA.machines) {
    const lb = layersB.get(m.machineType);
    if (lb !== undefined && lb !== m.chosenLayer)
      out.push({ path: `chosenLayer/${m.machineType}`, a: String(m.chosenLayer), b: String(lb) });
  }
  return out;
}

/**
 * Leaves of a JSON value by JSON pointer, as JSON text. Arrays of scalars (layers, dn lists) are one leaf, so
 * `[3, 6]` against `[3, 6, 9]` reads as one change rather than an element appearing.
 */
function flatten(value: unknown, pointer = '', out = new Map<string, string>()): Map<string, string> {
  if (value === undefined) return out;
  const isObject = typeof value === 'object' && value !== null;
  const scalarArray = Array.isArray(value) && value.every((x) => typeof x !== 'object' || x === null);
  if (!isObject || scalarArray) {
    out.set(pointer, JSON.stringify(value));
    return out;
  }
  const entries = Array.isArray(value) ? value.map((v, i) => [String(i), v] as const) : Object.entries(value);
  if (entries.length === 0) out.set(pointer, JSON.stringify(value));
  for (const [k, v] of entries) flatten(v, `${pointer}/${k.replace(/~/g, '~0').replace(/\//g, '~1')}`, out);
  return out;
}
