import * as path from 'node:path';
import { readWav } from '../audio';
import type { Clip } from '../datasets';
import type { ExplainTopStage } from '../experiments/stages/explainTop';
import type { ExplainResult } from '../protocol/explain';
import { buildBanks, type Domain } from '../scoring';
import { attribute } from './attribute';
import { decomposeClip } from './explainClip';

/** How many of a machine type's highest-scoring test clips report.html explains. */
export const REPORT_TOP_ANOMALIES = 3;

/**
 * Why the main variant's top clips of each machine type scored as they did, for report.html: the run's own features
 * at the chosen layer build the banks once per machine type (as scoreCell does), and only the few explained clips
 * are decomposed (fbank-stats frames, BEATs tokens). Reads no results.json and extracts no pooled features; nothing
 * here changes results.json or the submission files. Throws where the attribution cannot explain the run (an
 * embedder or pooling it cannot split, a low-shot run); the run's stage turns that into the report's reason.
 */
export async function explainTopAnomalies({
  loaded,
  dataset,
  embedder,
  features,
  results,
  signal,
}: ExplainTopStage): Promise<Map<string, ExplainResult[]>> {
  const { config } = loaded;
  const [main] = results.variants;
  const out = new Map<string, ExplainResult[]>();
  if (!main) return out;
  if (main.seeds !== null && main.seeds.length > 0) {
    throw new Error("a low-shot run's banks are samples of the training clips; the attribution explains full runs");
  }
  if (config.pooling !== 'temporal') {
    throw new Error(`pooling '${config.pooling}' cannot be split over time and frequency (only 'temporal' can)`);
  }
  for (const m of main.machines) {
    signal?.throwIfAborted();
    const set = features.machines.find((s) => s.machineType === m.machineType);
    if (!set || m.files.length === 0) continue;
    const layer = m.chosenLayer;
    const top = [...m.files]
      .filter((f) => Number.isFinite(f.score))
      .sort((a, b) => b.score - a.score)
      .slice(0, REPORT_TOP_ANOMALIES);
    const rowOf = new Map(set.test.map((c, i) => [path.resolve(c.path), i]));
    const trainRows = features.rows(set.train, layer);
    const testRows = features.rows(set.test, layer);
    const { dim } = features;
    // As scoreCell builds them (experiments/scoreMachineLayer.ts), once for the machine type's explained clips.
    const domains = set.train.map((c) => c.domain);
    const hasDomains = domains.every((d): d is Domain => d !== undefined);
    const sectioned = !hasDomains && main.dn !== 'none';
    const banks = buildBanks({
      train: trainRows,
      dim,
      ...(hasDomains ? { trainDomains: domains } : {}),
      ...(sectioned ? { trainSections: set.train.map((c: Clip) => c.section) } : {}),
      kn: main.K_n,
      mixup: hasDomains && main.mixup && main.mixup.K_s > 0 ? { K_s: main.mixup.K_s, lambda: main.mixup.lambda } : null,
      index: config.index,
    });
    const rowNames = set.train.map((c) => path.relative(dataset.root, c.path).split(path.sep).join('/'));
    const explained: ExplainResult[] = [];
    for (const f of top) {
      const row = rowOf.get(path.resolve(f.path));
      const clip = row === undefined ? undefined : set.test[row];
      if (row === undefined || !clip) continue;
      const audio = await readWav(clip.path, {
        channel: config.channel,
        targetSampleRate: 16000,
        ...(embedder.clipSamples !== undefined ? { maxSamples: embedder.clipSamples } : {}),
      });
      const d = await decomposeClip(embedder, audio.samples, layer, config.pooling, signal);
      const a = await attribute(d, {
        banks,
        dn: main.dn,
        kn: main.K_n,
        // Transductive DN: the machine type's whole test set, as the run scored it.
        scored:
          main.dn === 'transductive'
            ? { features: testRows, row }
            : { features: testRows.slice(row * dim, (row + 1) * dim), row: 0 },
        rowNames,
        rowPath: (name) => path.join(dataset.root, name),
      });
      explained.push({
        clip: clip.name,
        embedder: embedder.id,
        layer,
        pooling: config.pooling,
        K_n: main.K_n,
        dn: main.dn,
        ...a,
        source: { resultsFile: 'results.json', variant: main.id, machineType: m.machineType },
      });
    }
    out.set(m.machineType, explained);
  }
  return out;
}
