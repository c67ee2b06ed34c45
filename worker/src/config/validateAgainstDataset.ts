import { existsSync } from 'node:fs';
import * as path from 'node:path';
import { discoverDataset, type Dataset, type DiscoverOptions, type MachineSet } from '../datasets';
import { GenrepError } from '../errors';
import { knownModels } from '../models/manifest';
import type { ConfigFix } from '../protocol/workerProtocol';
import type { EmbedderConfig, RunConfig } from '../protocol/runConfig';
import { closestName } from '../util/closestName';

/**
 * The checks a schema cannot make: the config against the dataset as discovered (machine types that exist, K_s and
 * K_n against the banks each machine type will have, low-shot k), the embedder (a known name, layers within its
 * depth) and the paths the run needs. The editor shows them while typing (`genrep/validateConfig`) and `genrep run`
 * refuses a config with an error among them before it extracts a single feature (experiments/stages/discover.ts),
 * so the two say the same thing in the same words. Each finding names a JSON pointer; callers turn it into a range
 * (the editor) or `file:line:column` (the run).
 */
export interface ConfigFinding {
  pointer: string;
  /** Underline the key rather than the value (an unknown key, a value the user left out). */
  atKey?: boolean;
  severity: 'error' | 'warning';
  source: 'file' | 'dataset' | 'model';
  code: string;
  /** Without the pointer; callers prefix it. */
  message: string;
  fix?: ConfigFix;
}

export interface SemanticCheckOptions {
  /** The config file; a config without dataset.root discovers its own folder. */
  file: string;
  /** Whether the user wrote the value at a pointer (else the schema's default fills it in, and the words say so). */
  written: (pointer: string) => boolean;
  /** Discovery, replaceable so the editor can reuse a recent walk of the same folder while the user types. */
  discover?: (options: DiscoverOptions) => Promise<Dataset>;
}

/**
 * Every finding for a config whose schema already passed (defaults filled in, paths resolved, as loadRunConfig
 * returns it). Paths first; the dataset is discovered only when its root exists.
 */
export async function validateAgainstDataset(config: RunConfig, o: SemanticCheckOptions): Promise<ConfigFinding[]> {
  const findings = [...pathFindings(config), ...embedderFindings(config)];
  const root = config.dataset.root ?? path.dirname(path.resolve(o.file));
  if (!existsSync(root)) return findings;
  const discovered = await discoverForChecks(config, root, o.discover ?? discoverDataset);
  if ('finding' in discovered) return [...findings, discovered.finding];
  return [...findings, ...datasetFindings(config, discovered.dataset, o.written)];
}

/** The findings that are errors, as one GenrepError naming each at `file:line:column` (the run's refusal). */
export function refuseFindings(
  findings: readonly ConfigFinding[],
  file: string,
  locate: (pointer: string, atKey?: boolean) => string,
): void {
  const errors = findings.filter((f) => f.severity === 'error');
  const [first] = errors;
  if (!first) return;
  const lines = errors.map((f) => `${locate(f.pointer, f.atKey)}: ${f.pointer || '/'}: ${f.message}`);
  // A missing file stays NOT_FOUND, as the loader of that file would have said (the editor offers its next steps).
  const code = errors.every((f) => f.code === 'missing-path') ? 'NOT_FOUND' : 'BAD_INPUT';
  throw new GenrepError(
    errors.length === 1 ? (lines[0] ?? '') : `${file}: ${errors.length} problems:\n  ${lines.join('\n  ')}`,
    code,
    { file, field: first.pointer || '/' },
  );
}

// ─── Paths ────────────────────────────────────────────────────────────────────────────────────────────────────────

/** A string embedder that names a file rather than a known model (loadConfig resolved it against the config). */
function looksLikePath(name: string): boolean {
  return name.includes('/') || name.includes('\\') || /\.(pt|pth|ckpt|onnx|encoder\.json)$/i.test(name);
}

function pathFindings(config: RunConfig): ConfigFinding[] {
  const out: ConfigFinding[] = [];
  const missing = (
    pointer: string,
    value: string | undefined,
    what: string,
    severity: 'error' | 'warning',
    folder: boolean,
  ): void => {
    if (value === undefined || value === '' || existsSync(value)) return;
    out.push({
      pointer,
      severity,
      source: 'file',
      code: 'missing-path',
      message: `${what} not found: ${value}`,
      ...(folder ? { fix: { title: `Create folder ${value}`, createFolder: value } } : {}),
    });
  };
  const ds = config.dataset;
  // The run cannot discover clips under a root that is not there, nor label eval clips without the ground truth.
  missing('/dataset/root', ds.root, 'dataset root', 'error', true);
  missing('/dataset/groundTruthDir', ds.groundTruthDir, 'ground-truth folder', 'error', true);
  // Named checkpoints are looked up here; a download creates it, so a missing one only warns.
  missing('/modelDir', config.modelDir, 'model folder', 'warning', true);
  for (const { e, at } of embedderEntries(config)) {
    if (typeof e === 'string' && looksLikePath(e)) missing(at, e, 'embedder file', 'error', false);
    else if (typeof e === 'object' && e.kind === 'onnx') missing(`${at}/path`, e.path, 'ONNX model', 'error', false);
    else if (typeof e === 'object' && e.kind === 'encoder')
      missing(`${at}/descriptor`, e.descriptor, 'encoder descriptor', 'error', false);
    else if (typeof e === 'object' && e.kind === 'beats' && looksLikePath(e.checkpoint))
      missing(`${at}/checkpoint`, e.checkpoint, 'checkpoint', 'error', false);
  }
  return out;
}

// ─── The embedder: its name and depth ─────────────────────────────────────────────────────────────────────────────

/** The built-in encoders a string embedder may name besides the manifest's checkpoints. */
export const BUILT_IN_ENCODERS = ['fbank-stats'] as const;

interface Depth {
  /** How the embedder is called in messages. */
  name: string;
  layers: number;
}

/**
 * The embedder's number of layers where it is known without loading weights: fbank-stats and a user ONNX encoder have
 * one; a manifest checkpoint (by name, or a path ending in its file name) has its cfg's encoder_layers. Any other .pt
 * or converted .onnx is undefined: only opening it would tell, and the run checks it then.
 */
export function embedderDepth(embedder: EmbedderConfig): Depth | undefined {
  if (embedder === 'fbank-stats' || (typeof embedder === 'object' && embedder.kind === 'fbank-stats'))
    return { name: 'fbank-stats', layers: 1 };
  if (typeof embedder === 'object' && embedder.kind === 'onnx') return { name: 'a user ONNX encoder', layers: 1 };
  // An encoder's depth is its outputs' layer count, known once its model is opened.
  if (typeof embedder === 'object' && embedder.kind === 'encoder') return undefined;
  const name = typeof embedder === 'string' ? embedder : embedder.checkpoint;
  const entry = knownModels().get(name) ?? [...knownModels().values()].find((m) => path.basename(name) === m.file);
  const layers = entry?.cfg['encoder_layers'];
  return entry && typeof layers === 'number' ? { name: entry.name, layers } : undefined;
}

/** The config's embedders with the JSON pointer of each: `/embedder`, or `/embedder/N` in a list. */
function embedderEntries(config: RunConfig): { e: EmbedderConfig; at: string }[] {
  const list = config.embedder;
  return Array.isArray(list) ? list.map((e, i) => ({ e, at: `/embedder/${i}` })) : [{ e: list, at: '/embedder' }];
}

/**
 * Each embedder's name; the first one's depth against `layers` and `layerSelection` (its layers are the ones selected
 * and reported). Any other one is scored at the listed layers it has, so it needs at least one of them.
 */
function embedderFindings(config: RunConfig): ConfigFinding[] {
  const entries = embedderEntries(config);
  const out: ConfigFinding[] = [];
  const seen = new Map<string, string>();
  entries.forEach(({ e, at }, i) => {
    const key = JSON.stringify(e);
    const twin = seen.get(key);
    if (twin !== undefined) {
      out.push({
        pointer: at,
        severity: 'error',
        source: 'model',
        code: 'duplicate-embedder',
        message: `this embedder is already listed at ${twin}; each one of the list is scored once`,
      });
      return;
    }
    seen.set(key, at);
    const named = embedderNameFindings(e, at);
    out.push(...named);
    if (named.length > 0) return;
    if (i === 0) {
      out.push(...layerFindings(config, e));
      return;
    }
    const depth = embedderDepth(e);
    if (depth && config.layers !== 'all' && !config.layers.some((l) => l >= 1 && l <= depth.layers)) {
      out.push({
        pointer: at,
        severity: 'error',
        source: 'model',
        code: 'layer-out-of-range',
        message: `none of the layers (${config.layers.join(', ')}) exists in ${depth.name}, which has layers 1..${depth.layers}`,
      });
    }
  });
  return out;
}

function embedderNameFindings(e: EmbedderConfig, at: string): ConfigFinding[] {
  const name = typeof e === 'string' ? e : e.kind === 'beats' ? e.checkpoint : undefined;
  const pointer = typeof e === 'string' ? at : `${at}/checkpoint`;
  if (name !== undefined && !looksLikePath(name) && name !== 'fbank-stats' && !knownModels().has(name)) {
    const names = [...(typeof e === 'string' ? BUILT_IN_ENCODERS : []), ...knownModels().keys()];
    const guess = closestName(name, names);
    return [
      {
        pointer,
        severity: 'error',
        source: 'model',
        code: 'unknown-embedder',
        message: `unknown embedder '${name}'${guess ? `; did you mean '${guess}'?` : ''} (known: ${names.join(', ')}, or a .pt / .onnx path)`,
        ...(guess ? { fix: { title: `Change to '${guess}'`, pointer, value: guess } } : {}),
      },
    ];
  }
  return [];
}

/** The first (reported) embedder's depth against the scored layers and a fixed layer selection. */
function layerFindings(config: RunConfig, e: EmbedderConfig): ConfigFinding[] {
  const depth = embedderDepth(e);
  if (!depth) return [];
  const out: ConfigFinding[] = [];
  const layers = config.layers === 'all' ? Array.from({ length: depth.layers }, (_, i) => i + 1) : config.layers;
  if (config.layers !== 'all') {
    config.layers.forEach((layer, i) => {
      if (layer >= 1 && layer <= depth.layers) return;
      out.push({
        pointer: `/layers/${i}`,
        severity: 'error',
        source: 'model',
        code: 'layer-out-of-range',
        message: `layer ${layer} does not exist: ${depth.name} has layers 1..${depth.layers}`,
        ...(depth.layers === 1 ? { fix: { title: 'Use layer 1', pointer: `/layers/${i}`, value: 1 } } : {}),
      });
    });
  }
  const selection = config.layerSelection;
  if (typeof selection === 'object' && selection.mode === 'fixed' && selection.layer !== undefined) {
    const scored = layers.filter((l) => l >= 1 && l <= depth.layers);
    if (!scored.includes(selection.layer)) {
      const [only] = scored;
      out.push({
        pointer: '/layerSelection/layer',
        severity: 'error',
        source: 'model',
        code: 'layer-out-of-range',
        message: `layer ${selection.layer} is not among the scored layers (${scored.join(', ')}) of ${depth.name}`,
        ...(scored.length === 1 && only !== undefined
          ? { fix: { title: `Use layer ${only}`, pointer: '/layerSelection/layer', value: only } }
          : {}),
      });
    }
  }
  return out;
}

// ─── The dataset as discovered ────────────────────────────────────────────────────────────────────────────────────

/**
 * Discovery without the config's machineTypes / sections filters, so that a misspelt machine type gets a "did you
 * mean" instead of discovery's own refusal; should the unfiltered walk fail (a folder the filter would have left
 * out), the config's own filters are tried, and their failure is the finding.
 */
async function discoverForChecks(
  config: RunConfig,
  root: string,
  discover: (options: DiscoverOptions) => Promise<Dataset>,
): Promise<{ dataset: Dataset } | { finding: ConfigFinding }> {
  const ds = config.dataset;
  const base: DiscoverOptions = {
    root,
    layout: ds.layout,
    ...(ds.groundTruthDir ? { groundTruthDir: ds.groundTruthDir } : {}),
    ...(ds.files ? { files: ds.files } : {}),
    skipUnrecognised: ds.skipUnrecognised,
  };
  try {
    return { dataset: await discover(base) };
  } catch {
    try {
      return {
        dataset: await discover({
          ...base,
          ...(ds.machineTypes ? { machineTypes: ds.machineTypes } : {}),
          ...(ds.sections ? { sections: ds.sections } : {}),
        }),
      };
    } catch (err) {
      const field = err instanceof GenrepError ? err.data.field : undefined;
      const pointer = field && field.startsWith('/') ? field : field ? `/dataset/${field}` : '/dataset/root';
      return {
        finding: {
          pointer,
          severity: 'error',
          source: 'dataset',
          code: 'dataset-unreadable',
          message: err instanceof Error ? err.message : String(err),
        },
      };
    }
  }
}

function datasetFindings(config: RunConfig, dataset: Dataset, written: (pointer: string) => boolean): ConfigFinding[] {
  const out: ConfigFinding[] = [];
  const found = dataset.machines.map((m) => m.machineType);
  const wanted = config.dataset.machineTypes;
  wanted?.forEach((type, i) => {
    if (found.includes(type)) return;
    const pointer = `/dataset/machineTypes/${i}`;
    const guess = closestName(
      type,
      found.filter((t) => !wanted.includes(t)),
    );
    out.push({
      pointer,
      severity: 'error',
      source: 'dataset',
      code: 'unknown-machine-type',
      message: `no machine type '${type}' in ${dataset.root}${guess ? `; did you mean '${guess}'?` : ''} (found: ${found.join(', ') || 'none'})`,
      ...(guess ? { fix: { title: `Change to '${guess}'`, pointer, value: guess } } : {}),
    });
  });
  const sections = config.dataset.sections;
  const selected = dataset.machines
    .filter((m) => !wanted || wanted.includes(m.machineType))
    .map((m) => (sections ? withSections(m, sections) : m));
  sections?.forEach((section, i) => {
    if (selected.some((m) => m.sections.includes(section))) return;
    out.push({
      pointer: `/dataset/sections/${i}`,
      severity: 'error',
      source: 'dataset',
      code: 'unknown-section',
      message: `no section '${section}' in the selected machine types (${[...new Set(selected.flatMap((m) => m.sections))].join(', ') || 'none'})`,
    });
  });
  out.push(...bankFindings(config, selected, written));
  return out;
}

function withSections(m: MachineSet, sections: readonly string[]): MachineSet {
  return {
    ...m,
    train: m.train.filter((c) => sections.includes(c.section)),
    test: m.test.filter((c) => sections.includes(c.section)),
    sections: m.sections.filter((s) => sections.includes(s)),
  };
}

interface Banks {
  machineType: string;
  /** Source training clips, where every training clip has a domain (DCASE 2023-style banks); else undefined. */
  source: number | undefined;
  /** The smallest bank the kNN searches (scoreMachineLayer.ts's rule). */
  smallest: number;
  train: number;
}

function banksOf(m: MachineSet): Banks {
  const hasDomains = m.train.every((c) => c.domain !== undefined);
  const source = m.train.filter((c) => c.domain === 'source').length;
  const target = m.train.filter((c) => c.domain === 'target').length;
  const nonEmpty = [source, target].filter((n) => n > 0);
  return {
    machineType: m.machineType,
    source: hasDomains ? source : undefined,
    smallest: hasDomains && nonEmpty.length > 0 ? Math.min(...nonEmpty) : m.train.length,
    train: m.train.length,
  };
}

/** The bank with the fewest `count` rows among machine types that have that count at all. */
function smallestBy(
  banks: readonly Banks[],
  count: (b: Banks) => number | undefined,
): { b: Banks; n: number } | undefined {
  let best: { b: Banks; n: number } | undefined;
  for (const b of banks) {
    const n = count(b);
    if (n !== undefined && (!best || n < best.n)) best = { b, n };
  }
  return best;
}

/**
 * K_s, K_n and low-shot k against the banks the run will build, with the same limits as scoreMachineLayer.ts and
 * lowShot.ts (which still guard the run from other callers). A low-shot sample's banks are smaller still, drawn at
 * run time, so only the whole training set is checked here.
 */
function bankFindings(
  config: RunConfig,
  machines: readonly MachineSet[],
  written: (p: string) => boolean,
): ConfigFinding[] {
  const out: ConfigFinding[] = [];
  const banks = machines.map(banksOf);
  const { K_s } = config.mixup;
  const fewestSources = smallestBy(banks, (b) => b.source);
  if (K_s > 0 && fewestSources && K_s > fewestSources.n) {
    const { b, n } = fewestSources;
    const set = written('/mixup/K_s');
    const others = banks.filter((x) => x !== b && x.source !== undefined && K_s > x.source);
    out.push({
      pointer: set ? '/mixup/K_s' : written('/mixup') ? '/mixup' : '',
      atKey: !set,
      severity: 'error',
      source: 'dataset',
      code: 'bank-too-small',
      message:
        `K_s = ${K_s}${set ? '' : ' (the default)'} is larger than the source bank of ${b.machineType} (${n} clips)` +
        `${others.length > 0 ? `, and of ${others.map((x) => `${x.machineType} (${x.source} clips)`).join(', ')}` : ''}` +
        `; use at most ${n}`,
      fix: { title: `Set K_s to ${n}`, pointer: '/mixup/K_s', value: n },
    });
  }
  const fewestRows = smallestBy(banks, (b) => b.smallest);
  if (fewestRows && config.K_n > fewestRows.n) {
    const { b, n } = fewestRows;
    out.push({
      pointer: '/K_n',
      severity: 'error',
      source: 'dataset',
      code: 'bank-too-small',
      message: `K_n = ${config.K_n} is larger than the smallest memory bank of ${b.machineType} (${n} clips); use at most ${n}`,
      fix: { title: `Set K_n to ${n}`, pointer: '/K_n', value: n },
    });
  }
  const k = config.lowShot?.k;
  const fewestTrain = smallestBy(banks, (b) => b.train);
  if (k !== undefined && fewestTrain && k > fewestTrain.n) {
    const { b, n } = fewestTrain;
    out.push({
      pointer: '/lowShot/k',
      severity: 'error',
      source: 'dataset',
      code: 'bank-too-small',
      message: `k = ${k} but ${b.machineType} has only ${n} training clips`,
      fix: { title: `Set k to ${n}`, pointer: '/lowShot/k', value: n },
    });
  }
  return out;
}
