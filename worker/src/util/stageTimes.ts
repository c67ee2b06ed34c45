/**
 * Where extraction's time goes, stage by stage, for `genrep run --profile` and `npm run bench:run`: seconds and
 * clips summed over a run. One accumulator is handed down with the work (ExtractOptions → EmbedOptions), so two
 * runs in one worker never mix their figures; a `performance.now()` pair per clip and stage costs nothing next to
 * the stages themselves.
 */
export type ExtractionStage =
  /** Pass 1: reading every clip, its sha256 and the cache lookup of each layer. */
  | 'lookup'
  /** Pass 2, per clip to extract: reading the file again, decoding and resampling it. */
  | 'read'
  | 'decode'
  /** The model's input from the waveform (BEATs: the Kaldi fbank; other encoders: their front-end). */
  | 'frontEnd'
  /** The ONNX Runtime run(s). */
  | 'encoder'
  /** Everything embed() does besides the two above (batching, copying outputs). */
  | 'embedOther'
  /** Writing each clip's features to the cache (temp file + rename per layer). */
  | 'cacheWrite';

export const EXTRACTION_STAGES: readonly ExtractionStage[] = [
  'lookup',
  'read',
  'decode',
  'frontEnd',
  'encoder',
  'embedOther',
  'cacheWrite',
];

export interface StageTotal {
  seconds: number;
  clips: number;
}

export class StageTimes {
  private readonly totals = new Map<ExtractionStage, StageTotal>();

  add(stage: ExtractionStage, milliseconds: number, clips: number): void {
    const total = this.totals.get(stage) ?? { seconds: 0, clips: 0 };
    total.seconds += milliseconds / 1000;
    total.clips += clips;
    this.totals.set(stage, total);
  }

  /** Every stage that ran, in pipeline order. */
  snapshot(): Partial<Record<ExtractionStage, StageTotal>> {
    const out: Partial<Record<ExtractionStage, StageTotal>> = {};
    for (const stage of EXTRACTION_STAGES) {
      const total = this.totals.get(stage);
      if (total) out[stage] = { ...total };
    }
    return out;
  }
}
