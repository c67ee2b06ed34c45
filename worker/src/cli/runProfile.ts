import { availableParallelism } from 'node:os';
import type { RunResults } from '../protocol/results';
import type { Settings } from '../settings';
import { writeFileAtomic } from '../io/atomicWrite';
import type { ExtractionStage, StageTimes } from '../util/stageTimes';

/**
 * `genrep run --profile <file>`: where one run's time and memory went, as JSON (docs/performance.md). Extraction is
 * broken into its stages (util/stageTimes.ts); scoring and writing come from results.json's timings. Clips/s of a
 * stage is the clips it handled over its seconds; for scoring and writing, every clip of the run over theirs.
 */
export interface RunProfile {
  genrepProfile: 1;
  config: string;
  /** The cores the run was allowed (`--threads`, the config's `threads`, else every core). */
  threads: number;
  clips: { fromCache: number; extracted: number; leftToOthers?: number };
  extraction: Partial<Record<ExtractionStage, { seconds: number; clips: number; clipsPerSec: number | null }>>;
  /** results.json's timings; absent for a shard, which stops after extracting. */
  run?: RunResults['timings'];
  /** process.resourceUsage().maxRSS: the whole process's high-water mark, ONNX Runtime's memory included. */
  peakRssBytes: number;
  cpuSeconds: { user: number; system: number };
}

export interface ProfileSource {
  config: string;
  settings: Settings;
  stageTimes: StageTimes;
  clips: RunProfile['clips'];
  results?: RunResults;
}

export function runProfile(source: ProfileSource): RunProfile {
  const extraction: RunProfile['extraction'] = {};
  for (const [stage, total] of Object.entries(source.stageTimes.snapshot())) {
    extraction[stage as ExtractionStage] = {
      seconds: round(total.seconds),
      clips: total.clips,
      clipsPerSec: total.seconds > 0 ? round(total.clips / total.seconds) : null,
    };
  }
  const usage = process.resourceUsage();
  return {
    genrepProfile: 1,
    config: source.config,
    threads: source.settings.threads ?? availableParallelism(),
    clips: source.clips,
    extraction,
    ...(source.results ? { run: source.results.timings } : {}),
    peakRssBytes: usage.maxRSS * 1024,
    cpuSeconds: { user: round(usage.userCPUTime / 1e6), system: round(usage.systemCPUTime / 1e6) },
  };
}

export async function writeRunProfile(file: string, profile: RunProfile): Promise<void> {
  await writeFileAtomic(file, `${JSON.stringify(profile, null, 2)}\n`);
}

function round(x: number): number {
  return Math.round(x * 1e4) / 1e4;
}
