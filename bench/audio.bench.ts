/**
 * `npm run bench:audio`: milliseconds per 10 s clip for WAV reading (header only, one channel, channel mean) and
 * for resampling to 16 kHz from common rates, single thread, on seeded synthetic clips. The first call per rate
 * pair designs the filter; it is timed apart from the steady state. Options: --runs N (default 10).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import type * as AudioModule from '../worker/src/audio';
import { builtWorker } from './builtWorker';

const { readWav, readWavInfo, resample } = builtWorker<typeof AudioModule>('audio');

function argument(name: string, fallback: number): number {
  const i = process.argv.indexOf(name);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
}

/** An interleaved 16-bit WAV of seeded noise: `channels` × `seconds` at `rate`. */
function syntheticWav(channels: number, rate: number, seconds: number): Uint8Array {
  const frames = rate * seconds;
  const dataBytes = frames * channels * 2;
  const bytes = new Uint8Array(44 + dataBytes);
  const view = new DataView(bytes.buffer);
  const tag = (at: number, s: string): void => s.split('').forEach((c, i) => (bytes[at + i] = c.charCodeAt(0)));
  tag(0, 'RIFF');
  view.setUint32(4, 36 + dataBytes, true);
  tag(8, 'WAVEfmt ');
  view.setUint32(16, 16, true);
  view.setUint16(20, 1, true);
  view.setUint16(22, channels, true);
  view.setUint32(24, rate, true);
  view.setUint32(28, rate * channels * 2, true);
  view.setUint16(32, channels * 2, true);
  view.setUint16(34, 16, true);
  tag(36, 'data');
  view.setUint32(40, dataBytes, true);
  let state = 12345;
  for (let i = 0; i < frames * channels; i++) {
    state = (Math.imul(state, 1103515245) + 12345) >>> 0;
    view.setInt16(44 + 2 * i, (state >>> 16) - 32768, true);
  }
  return bytes;
}

async function timeMs(runs: number, body: () => unknown): Promise<number> {
  const times: number[] = [];
  for (let r = 0; r < runs; r++) {
    const t0 = process.hrtime.bigint();
    await body();
    times.push(Number(process.hrtime.bigint() - t0) / 1e6);
  }
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)]!; // the median of at least one run
}

async function main(): Promise<void> {
  const runs = argument('--runs', 10);
  const dir = mkdtempSync(path.join(tmpdir(), 'genrep-bench-audio-'));
  try {
    const mono = path.join(dir, 'mono16k.wav');
    const eight = path.join(dir, 'eight16k.wav');
    writeFileSync(mono, syntheticWav(1, 16000, 10));
    writeFileSync(eight, syntheticWav(8, 16000, 10));
    process.stdout.write(`WAV reading, 10 s clips, median of ${runs} runs\n`);
    process.stdout.write(
      `  readWavInfo (8 ch)          ${(await timeMs(runs, () => readWavInfo(eight))).toFixed(2)} ms\n`,
    );
    process.stdout.write(`  readWav mono 16 kHz         ${(await timeMs(runs, () => readWav(mono))).toFixed(2)} ms\n`);
    process.stdout.write(`  readWav 8 ch, channel 0     ${(await timeMs(runs, () => readWav(eight))).toFixed(2)} ms\n`);
    process.stdout.write(
      `  readWav 8 ch, mean          ${(await timeMs(runs, () => readWav(eight, { channel: 'mean' }))).toFixed(2)} ms\n`,
    );

    process.stdout.write(`Resampling a 10 s clip to 16 kHz, median of ${runs} runs (first call designs the filter)\n`);
    for (const rate of [8000, 22050, 32000, 44100, 48000, 96000, 44101]) {
      const x = new Float32Array(rate * 10);
      for (let i = 0; i < x.length; i++) x[i] = Math.sin(i * 0.37) * 0.5 + Math.sin(i * 0.011) * 0.25;
      const first = await timeMs(1, () => resample(x, rate, 16000));
      const steady = await timeMs(runs, () => resample(x, rate, 16000));
      const rtf = 10_000 / steady;
      process.stdout.write(
        `  ${String(rate).padStart(6)} Hz → 16 kHz   first ${first.toFixed(1).padStart(7)} ms   steady ${steady.toFixed(1).padStart(7)} ms   (${rtf.toFixed(0)}× real time)\n`,
      );
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exitCode = 1;
});
