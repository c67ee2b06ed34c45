import { GenrepError } from '../errors';
import type { RunResults } from '../protocol/results';
import type { StageTimes } from '../util/stageTimes';
import type { TopAnomalyExplainer } from './stages/explainTop';

/** What a run reports while it works, and how its stages are timed; shared by the run's stages and its callers. */

export interface RunProgress {
  stage: 'discover' | 'extract' | 'score' | 'write';
  done: number;
  total: number;
  message: string;
}

export interface RunContext {
  signal?: AbortSignal;
  onProgress?: (p: RunProgress) => void;
  log?: (line: string) => void;
  /** Explains report.html's top anomalies (explain/reportTop.ts explainTopAnomalies); without it the report has none. */
  explainTop?: TopAnomalyExplainer;
  /** `--from-cache`: score features other processes extracted; a clip missing from the cache stops the run, named. */
  fromCache?: boolean;
  /** Where extraction adds each stage's time (`genrep run --profile`). */
  stageTimes?: StageTimes;
}

/** What `genrep run` and `genrep/run` get back: the results and where they were written. */
export interface ExperimentOutcome {
  results: RunResults;
  outputDir: string;
  resultsFile: string;
  reportFile: string;
}

export type RunStage = RunProgress['stage'];

/** When the run started, and when each stage ended (results.json's `timings`). */
export class RunClock {
  readonly startedAt = new Date().toISOString();
  private readonly start = performance.now();
  private readonly ended = new Map<RunStage, number>();

  /** Records that `stage` ended now. */
  end(stage: RunStage): void {
    this.ended.set(stage, performance.now());
  }

  /** Milliseconds from the end of `from` (or the run's start) to the end of `to`. */
  since(from: RunStage | 'start', to: RunStage): number {
    return this.endOf(to) - (from === 'start' ? this.start : this.endOf(from));
  }

  private endOf(stage: RunStage): number {
    const t = this.ended.get(stage);
    if (t === undefined) throw new GenrepError(`RunClock: stage ${stage} has not ended`, 'INTERNAL');
    return t;
  }
}
