import { promises as fsp } from 'node:fs';
import * as path from 'node:path';
import { encodeWavPcm16 } from '../audio';
import { GenrepError, fileError } from '../errors';
import { writeFileAtomic } from '../io/atomicWrite';
import { ensureDir, errnoCode, fsError } from '../io/fsErrors';
import { MACHINE_MODELS, machineModel } from './machines';
import { FAULT_MODES, type FaultMode, type LocalisedFault, planLocalisedFault } from './localised';
import { DCASE2023_SIZES, type PlannedClip, clipKey, planMachine } from './plan';
import { renderClip } from './render';

/** Bump when the physics or the naming change, so a folder from an older generator is never silently mixed in. */
export const SYNTH_VERSION = 1;
export const SYNTH_MANIFEST = 'genrep-synth.json';

export interface SynthOptions {
  /** Output folder: created if missing; must be empty or an earlier run with the same settings (then resumed). */
  out: string;
  seed?: number;
  /** Machine types to generate (default: all). */
  machines?: string[];
  trainSource?: number;
  trainTarget?: number;
  testPerGroup?: number;
  /** Clip length in seconds (default 10). */
  durationSec?: number;
  /** Default 16000. */
  sampleRate?: number;
  /** Fault size multiplier (default 1; 0.5 = subtler faults, 2 = stronger). */
  severity?: number;
  /**
   * 'machine' (default): each machine's own faults. 'localised': anomalous clips carry one intermittent event
   * (knock, rub, burst) in a known time span and band instead, recorded in `<machine>/localised_faults.json`.
   */
  faults?: FaultMode;
  onProgress?: (progress: SynthProgress) => void;
  signal?: AbortSignal;
}

export interface SynthProgress {
  machine: string;
  /** Files handled so far over all machines, and the total. */
  done: number;
  total: number;
  /** Files rendered and written; files already present from an interrupted earlier run. */
  written: number;
  kept: number;
}

export interface SynthResult {
  machines: string[];
  /** Audio files in the dataset. */
  files: number;
  written: number;
  kept: number;
}

/** The settings a folder was generated with; a resumed run must match them exactly. */
interface SynthSettings {
  generator: 'genrep-synth';
  version: number;
  seed: number;
  machines: string[];
  trainSource: number;
  trainTarget: number;
  testPerGroup: number;
  durationSec: number;
  sampleRate: number;
  severity: number;
  /** Present only for 'localised', so a default folder's manifest is unchanged. */
  faults?: 'localised';
}

/** `<machine>/localised_faults.json`: the ground truth of a `--faults localised` dataset. */
export const LOCALISED_FAULTS_FILE = 'localised_faults.json';

export interface LocalisedFaultRecord extends LocalisedFault {
  /** Relative to the dataset root, as in attributes_00.csv: `<machine>/test/<file>.wav`. */
  file: string;
}

/**
 * Writes a synthetic DCASE 2023-layout dataset: `<out>/<machine>/{train,test}/section_00_…wav` (16-bit mono PCM)
 * and `<out>/<machine>/attributes_00.csv`. Every file is written through a temporary file and renamed, and every
 * file's samples depend only on (seed, machine, split, domain, label, index), so an interrupted run is resumed by
 * running it again: files already in place are kept, the rest are generated. The settings are recorded in
 * genrep-synth.json, and a folder generated with other settings is refused rather than mixed.
 */
export async function synthesizeDataset(options: SynthOptions): Promise<SynthResult> {
  const settings = resolveSettings(options);
  const out = path.resolve(options.out);
  await prepareFolder(out, settings);

  const plans = settings.machines.map((name) => ({
    name,
    clips: planMachine(machineModel(name)!, settings.seed, settings, settings.severity),
  }));
  const total = plans.reduce((n, p) => n + p.clips.length, 0);
  const samples = Math.round(settings.durationSec * settings.sampleRate);
  const expectedBytes = 44 + 2 * samples;
  let done = 0;
  let written = 0;
  let kept = 0;
  for (const plan of plans) {
    const model = machineModel(plan.name)!;
    await writeFileAtomic(path.join(out, plan.name, 'attributes_00.csv'), attributesCsv(plan.name, plan.clips));
    const events = new Map<PlannedClip, LocalisedFault>();
    if (settings.faults === 'localised') {
      for (const clip of plan.clips) {
        if (clip.anomaly === undefined) continue;
        const key = clipKey(settings.seed, plan.name, clip.split, clip.domain, clip.label, clip.index);
        events.set(
          clip,
          planLocalisedFault(key, clip.index, settings.durationSec, settings.sampleRate, clip.anomaly.severity),
        );
      }
      const records: LocalisedFaultRecord[] = [...events].map(([clip, event]) => ({
        file: `${plan.name}/${clip.split}/${clip.name}`,
        ...event,
      }));
      await writeFileAtomic(
        path.join(out, plan.name, LOCALISED_FAULTS_FILE),
        `${JSON.stringify({ machine: plan.name, faults: records }, null, 2)}\n`,
      );
    }
    for (const clip of plan.clips) {
      if (options.signal?.aborted) throw new GenrepError('synthesis cancelled; run it again to resume', 'CANCELLED');
      const file = path.join(out, plan.name, clip.split, clip.name);
      if ((await fileSize(file)) === expectedBytes) {
        kept++;
      } else {
        const event = events.get(clip);
        const waveform = renderClip({
          model,
          condition: clip.condition,
          // A localised event replaces the machine's own fault: the clip is normal apart from the event.
          anomaly: event ? undefined : clip.anomaly,
          event,
          key: clipKey(settings.seed, plan.name, clip.split, clip.domain, clip.label, clip.index),
          durationSec: settings.durationSec,
          sampleRate: settings.sampleRate,
        });
        await writeFileAtomic(file, encodeWavPcm16(waveform, settings.sampleRate));
        written++;
      }
      done++;
      options.onProgress?.({ machine: plan.name, done, total, written, kept });
    }
  }
  await writeFileAtomic(
    path.join(out, SYNTH_MANIFEST),
    `${JSON.stringify({ ...settings, complete: true, files: total }, null, 2)}\n`,
  );
  return { machines: settings.machines, files: total, written, kept };
}

function resolveSettings(options: SynthOptions): SynthSettings {
  const machines = options.machines ?? MACHINE_MODELS.map((m) => m.name);
  const unknown = machines.filter((m) => machineModel(m) === undefined);
  if (unknown.length > 0 || machines.length === 0) {
    throw new GenrepError(
      `unknown machine type ${unknown.map((u) => `"${u}"`).join(', ') || '(none given)'}; known: ${MACHINE_MODELS.map((m) => m.name).join(', ')}`,
      'BAD_INPUT',
      { field: 'machines' },
    );
  }
  const seed = options.seed ?? 0;
  integer('seed', seed, 0, 0xffffffff);
  const trainSource = options.trainSource ?? DCASE2023_SIZES.trainSource;
  const trainTarget = options.trainTarget ?? DCASE2023_SIZES.trainTarget;
  const testPerGroup = options.testPerGroup ?? DCASE2023_SIZES.testPerGroup;
  integer('trainSource', trainSource, 1, 9999);
  integer('trainTarget', trainTarget, 0, 9999);
  integer('testPerGroup', testPerGroup, 0, 9999);
  const durationSec = options.durationSec ?? 10;
  if (!(durationSec >= 0.1 && durationSec <= 60))
    throw new GenrepError(`durationSec must be between 0.1 and 60 s, got ${durationSec}`, 'BAD_INPUT', {
      field: 'durationSec',
    });
  const sampleRate = options.sampleRate ?? 16000;
  integer('sampleRate', sampleRate, 8000, 96000);
  const severity = options.severity ?? 1;
  if (!(severity >= 0 && severity <= 10))
    throw new GenrepError(`severity must be between 0 and 10, got ${severity}`, 'BAD_INPUT', { field: 'severity' });
  const faults = options.faults ?? 'machine';
  if (!FAULT_MODES.includes(faults))
    throw new GenrepError(`faults must be one of ${FAULT_MODES.join(', ')}, got "${String(faults)}"`, 'BAD_INPUT', {
      field: 'faults',
    });
  return {
    generator: 'genrep-synth',
    version: SYNTH_VERSION,
    seed,
    machines: [...new Set(machines)],
    trainSource,
    trainTarget,
    testPerGroup,
    durationSec,
    sampleRate,
    severity,
    ...(faults === 'localised' ? { faults } : {}),
  };
}

function integer(field: string, value: number, min: number, max: number): void {
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new GenrepError(`${field} must be an integer from ${min} to ${max}, got ${value}`, 'BAD_INPUT', {
      field,
      expected: `${min}..${max}`,
    });
  }
}

/** Creates the folder, or checks that it is empty or was started with exactly these settings. */
async function prepareFolder(out: string, settings: SynthSettings): Promise<void> {
  await ensureDir(out);
  const manifestPath = path.join(out, SYNTH_MANIFEST);
  const previous = await readManifest(manifestPath);
  if (previous === undefined) {
    const entries = (await fsp.readdir(out)).filter((e) => !e.startsWith('.'));
    if (entries.length > 0) {
      throw fileError(out, `is not empty and holds no ${SYNTH_MANIFEST}; choose an empty or new folder`, 'BAD_INPUT', {
        field: 'out',
      });
    }
  } else {
    await removeStaleTemporaries(out);
    const differences = (Object.keys(settings) as (keyof SynthSettings)[])
      .filter((k) => JSON.stringify(previous[k]) !== JSON.stringify(settings[k]))
      .map((k) => `${k} ${JSON.stringify(previous[k])} → ${JSON.stringify(settings[k])}`);
    if (differences.length > 0) {
      throw fileError(
        out,
        `was generated with other settings (${differences.join(', ')}); choose another folder`,
        'BAD_INPUT',
        { field: 'out' },
      );
    }
  }
  await writeFileAtomic(manifestPath, `${JSON.stringify({ ...settings, complete: false }, null, 2)}\n`);
}

/** The manifest a previous run left in the folder, as JSON; undefined when there is none. */
async function readManifest(file: string): Promise<Record<string, unknown> | undefined> {
  let text: string;
  try {
    text = await fsp.readFile(file, 'utf8');
  } catch (err) {
    if (errnoCode(err) === 'ENOENT') return undefined;
    throw fsError(err, file);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    throw fileError(file, `unreadable: ${err instanceof Error ? err.message : String(err)}`, 'CORRUPT');
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw fileError(file, 'unreadable: not a JSON object', 'CORRUPT');
  }
  return parsed as Record<string, unknown>;
}

/** Temporary files a killed run left behind (writeFileAtomic names them `.<file>.<pid>.<random>.tmp`). */
async function removeStaleTemporaries(out: string): Promise<void> {
  const entries = await fsp.readdir(out, { recursive: true, withFileTypes: true });
  for (const entry of entries) {
    if (entry.isFile() && /^\..+\.tmp$/.test(entry.name))
      await fsp.rm(path.join(entry.parentPath, entry.name), { force: true });
  }
}

async function fileSize(file: string): Promise<number | undefined> {
  try {
    return (await fsp.stat(file)).size;
  } catch {
    return undefined;
  }
}

/** attributes_00.csv as DCASE 2023 writes it: `file_name,d1p,d1v,d2p,d2v,…`, one row per clip. */
function attributesCsv(machine: string, clips: PlannedClip[]): string {
  const pairs = Math.max(...clips.map((c) => c.condition.attributes.length));
  const header = ['file_name'];
  for (let k = 1; k <= pairs; k++) header.push(`d${k}p`, `d${k}v`);
  const rows = clips.map((c) => {
    const cells = [`${machine}/${c.split}/${c.name}`];
    for (let k = 0; k < pairs; k++)
      cells.push(c.condition.attributes[k]?.[0] ?? '', c.condition.attributes[k]?.[1] ?? '');
    return cells.join(',');
  });
  return `${[header.join(','), ...rows].join('\n')}\n`;
}
