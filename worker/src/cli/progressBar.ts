import { SingleBar, Presets } from 'cli-progress';
import type { RunProgress } from '../experiments/runContext';

/**
 * A terminal progress bar for long runs: one bar per stage, with rate and ETA for feature extraction. On a
 * non-terminal stderr (CI logs, pipes) it prints a line per stage and every ~10 % instead of redrawing.
 */
export function runProgressReporter(stream: NodeJS.WriteStream = process.stderr): {
  onProgress: (p: RunProgress) => void;
  stop: () => void;
} {
  let bar: SingleBar | undefined;
  let stage: RunProgress['stage'] | undefined;
  let lastDecile = -1;
  const stop = (): void => {
    bar?.stop();
    bar = undefined;
  };
  const onProgress = (p: RunProgress): void => {
    if (p.stage !== stage) {
      stop();
      stage = p.stage;
      lastDecile = -1;
      if (stream.isTTY && p.total > 1) {
        const unit = p.stage === 'extract' ? 'clips' : 'cells';
        bar = new SingleBar(
          {
            format: `${p.stage.padEnd(8)} [{bar}] {value}/{total} ${unit} | {speed} ${unit}/s | ETA {eta_formatted}`,
            stream,
            hideCursor: true,
            etaBuffer: 50,
          },
          Presets.shades_classic,
        );
        bar.start(p.total, p.done, { speed: '0.0' });
        (bar as SingleBar & { startedAt?: number }).startedAt = Date.now();
      } else if (!stream.isTTY) {
        stream.write(`${p.stage}: ${p.message}\n`);
      }
    }
    if (bar) {
      const started = (bar as SingleBar & { startedAt?: number }).startedAt ?? Date.now();
      bar.update(p.done, { speed: (p.done / Math.max(0.001, (Date.now() - started) / 1000)).toFixed(1) });
    } else if (!stream.isTTY && p.total > 0) {
      const decile = Math.floor((10 * p.done) / p.total);
      if (decile > lastDecile && p.done > 0) {
        lastDecile = decile;
        stream.write(`${p.stage}: ${p.done}/${p.total}\n`);
      }
    }
  };
  return { onProgress, stop };
}

/**
 * A bar on stderr that starts at the first report and draws only on a terminal (a pipe or CI log gets nothing):
 * for synthesis, whose progress comes before or without a run's stages. `payload` fills the format's own fields.
 */
export function lazyProgressBar(
  format: string,
  options: { hideCursor?: boolean } = {},
): {
  update: (p: { done: number; total: number }, payload?: Record<string, unknown>) => void;
  stop: () => void;
} {
  const tty = process.stderr.isTTY === true;
  let bar: SingleBar | undefined;
  return {
    update: (p, payload) => {
      if (!tty) return;
      if (!bar) {
        bar = new SingleBar({ format, stream: process.stderr, ...options }, Presets.shades_classic);
        bar.start(p.total, p.done, payload);
      } else {
        bar.update(p.done, payload);
      }
    },
    stop: () => {
      bar?.stop();
      bar = undefined;
    },
  };
}
