import type { LoadedConfig } from '../../config/loadConfig';
import type { Dataset } from '../../datasets';
import type { Embedder } from '../../embedders';
import type { ExplainResult } from '../../protocol/explain';
import type { RunResults } from '../../protocol/results';
import { throwIfCancelled } from '../extract';
import type { RunFeatures } from './extract';

/** The report's top anomalies: explanations per machine type, or the one-line reason there are none. */
export type TopAnomalies =
  { explanations: Map<string, ExplainResult[]>; reason?: undefined } | { explanations?: undefined; reason: string };

/** What explaining a run's top anomalies reads: everything the run already holds, nothing read again. */
export interface ExplainTopStage {
  loaded: LoadedConfig;
  dataset: Dataset;
  embedder: Embedder;
  features: RunFeatures;
  results: RunResults;
  signal: AbortSignal | undefined;
}

/**
 * The explainer report.html's top anomalies come from (explain/reportTop.ts explainTopAnomalies). The run's callers
 * pass it in (RunContext.explainTop) because the attribution builds on experiments/ (explaining a saved run opens
 * its embedder and cache), so experiments/ cannot import it back.
 */
export type TopAnomalyExplainer = (stage: ExplainTopStage) => Promise<Map<string, ExplainResult[]>>;

/**
 * Stage 5b: the report's top anomalies, when the caller gave an explainer. A failure to explain (an embedder or
 * pooling the attribution cannot split, a low-shot run) becomes the report's one-line reason, never the run's
 * failure; only a cancellation passes through. Without an explainer the report has no such section.
 */
export async function explainTop(
  stage: ExplainTopStage,
  explainer: TopAnomalyExplainer | undefined,
): Promise<TopAnomalies | undefined> {
  if (!explainer) return undefined;
  try {
    return { explanations: await explainer(stage) };
  } catch (err) {
    throwIfCancelled(stage.signal);
    return { reason: err instanceof Error ? err.message : String(err) };
  }
}
