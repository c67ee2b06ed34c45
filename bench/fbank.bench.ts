/**
 * `npm run bench:fbank`: milliseconds per 10 s clip for the Kaldi fbank with BEATs' arguments, single thread, on
 * seeded synthetic clips (noise + tones + chirp + amplitude modulation), beside torchaudio's kaldi.fbank on the
 * same clips in the same run when /usr/bin/python3 can import torchaudio. Options: --clips N (default 60),
 * --repeats R (default 5: each clip's figure is its best of R runs).
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import * as path from 'node:path';
import type * as FbankModule from '../worker/src/fbank';
import type * as Mulberry32Module from '../worker/src/util/mulberry32';
import { builtWorker } from './builtWorker';

const { BEATS_FBANK_OPTIONS, BEATS_SAMPLES, beatsFbank, FbankComputer } = builtWorker<typeof FbankModule>('fbank');
const { mulberry32 } = builtWorker<typeof Mulberry32Module>('util/mulberry32');

const PYTHON = '/usr/bin/python3';
const SAMPLE_RATE = 16000;

function argument(name: string, fallback: number): number {
  const i = process.argv.indexOf(name);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
}

/** Seeded, so every run benchmarks the same clips. */
function syntheticClip(seed: number): Float32Array {
  const rand = mulberry32(seed);
  const clip = new Float32Array(BEATS_SAMPLES);
  const noise = 0.01 + 0.1 * rand();
  const tones = Array.from({ length: 3 }, () => ({
    f: 50 + 7000 * rand(),
    a: 0.3 * rand(),
    phase: 2 * Math.PI * rand(),
  }));
  const chirpFrom = 100 + 2000 * rand();
  const chirpTo = 100 + 7000 * rand();
  const modulation = 0.2 + 4 * rand();
  for (let t = 0; t < clip.length; t++) {
    const time = t / SAMPLE_RATE;
    let x = noise * (2 * rand() - 1);
    for (const tone of tones) x += tone.a * Math.sin(2 * Math.PI * tone.f * time + tone.phase);
    const chirp = chirpFrom * time + ((chirpTo - chirpFrom) * time * time) / 20;
    x += 0.1 * Math.sin(2 * Math.PI * chirp) * (0.5 + 0.5 * Math.sin(2 * Math.PI * modulation * time));
    clip[t] = Math.max(-1, Math.min(32767 / 32768, x));
  }
  return clip;
}

interface Summary {
  median: number;
  min: number;
  p90: number;
  mean: number;
}

function summarise(ms: number[]): Summary {
  const sorted = [...ms].sort((a, b) => a - b);
  // Every index is in 0..length − 1 of a non-empty list (one timing per clip, at least one clip).
  const at = (q: number): number => sorted[Math.min(sorted.length - 1, Math.floor(q * (sorted.length - 1) + 0.5))]!;
  return { median: at(0.5), min: at(0), p90: at(0.9), mean: ms.reduce((a, b) => a + b, 0) / ms.length };
}

/**
 * Per clip, the best of `repeats` timings (rounds over all clips), so a shared machine's preemptions do not count.
 * Warm-up first: V8 runs a new WebAssembly kernel in its baseline compiler while the optimising one works in the
 * background (~0.3 s for this kernel), and JS needs its JIT too. One second of work covers both.
 */
function timeEach(clips: Float32Array[], run: (clip: Float32Array) => unknown, repeats: number): number[] {
  const warmUntil = Date.now() + 1000;
  for (let i = 0; Date.now() < warmUntil || i < 5; i++) run(clips[i % clips.length]!);
  const best = clips.map(() => Infinity);
  for (let r = 0; r < repeats; r++) {
    clips.forEach((clip, i) => {
      const start = process.hrtime.bigint();
      run(clip);
      best[i] = Math.min(best[i]!, Number(process.hrtime.bigint() - start) / 1e6);
    });
  }
  return best;
}

function readF32(file: string): Float32Array {
  const bytes = new Uint8Array(readFileSync(file));
  return new Float32Array(bytes.buffer, 0, bytes.byteLength / 4);
}

/** Max |a − b| over the entries of b at most `range` below the peak of their 128-bin row. */
function worstDifference(ours: Float32Array[], theirs: Float32Array, range: number): number {
  const bins = 128;
  let worst = 0;
  let offset = 0;
  for (const a of ours) {
    for (let row = 0; row < a.length; row += bins) {
      let peak = -Infinity;
      for (let b = 0; b < bins; b++) peak = Math.max(peak, theirs[offset + row + b]!);
      for (let b = 0; b < bins; b++) {
        const want = theirs[offset + row + b]!;
        if (peak - want <= range) worst = Math.max(worst, Math.abs(a[row + b]! - want));
      }
    }
    offset += a.length;
  }
  return worst;
}

function torchaudioAvailable(): boolean {
  try {
    execFileSync(PYTHON, ['-c', 'import torchaudio'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

interface TorchaudioResult {
  rows: [string, Summary][];
  /** Features computed by torchaudio in float32 (what was timed) and in float64, clip after clip. */
  out32: Float32Array;
  out64: Float32Array;
}

/**
 * torchaudio on the same clips, in two fresh Python processes: glibc malloc tuned to keep freed memory (torch's
 * best case, see fbank_torchaudio.py), then the default allocator. Runs before our own timings, while this
 * process is idle: V8's background threads otherwise take CPU from Python on a 2-core machine.
 */
function runTorchaudio(clips: Float32Array[], repeats: number): TorchaudioResult {
  const dir = mkdtempSync(path.join(tmpdir(), 'genrep-fbank-bench-'));
  try {
    const input = path.join(dir, 'clips.f32');
    const out32 = path.join(dir, 'torchaudio32.f32');
    const out64 = path.join(dir, 'torchaudio64.f32');
    const all = new Float32Array(clips.length * BEATS_SAMPLES);
    clips.forEach((clip, i) => all.set(clip, i * BEATS_SAMPLES));
    writeFileSync(input, new Uint8Array(all.buffer));
    const script = path.join(__dirname, '..', '..', 'bench', 'fbank_torchaudio.py');
    const run = (outputs: string[], env: NodeJS.ProcessEnv): { ms: number[]; torch: string; torchaudio: string } => {
      const args = [script, input, String(clips.length), String(BEATS_SAMPLES), ...outputs, String(repeats)];
      const stdout = execFileSync(PYTHON, args, { encoding: 'utf8', maxBuffer: 1 << 24, env });
      return JSON.parse(stdout.trim().split('\n').pop() as string) as {
        ms: number[];
        torch: string;
        torchaudio: string;
      };
    };
    // The tuned run first: the default run's page-fault storm leaves the kernel busy reclaiming for a while.
    const tuned = run([out32, out64], {
      ...process.env,
      MALLOC_MMAP_THRESHOLD_: '4294967296',
      MALLOC_TRIM_THRESHOLD_: '4294967296',
    });
    const plain = run(['-', '-'], process.env);
    const name = `torchaudio ${plain.torchaudio} kaldi.fbank (torch ${plain.torch}, 1 thread, ×2^15 incl.)`;
    return {
      rows: [
        [name, summarise(plain.ms)],
        [`${name}, malloc tuned`, summarise(tuned.ms)],
      ],
      out32: readF32(out32),
      out64: readF32(out64),
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function main(): void {
  const count = argument('--clips', 60);
  const repeats = argument('--repeats', 5);
  const clips = Array.from({ length: count }, (_, i) => syntheticClip(1000 + i));

  let torch: TorchaudioResult | undefined;
  let note = '';
  if (!torchaudioAvailable()) note = `torchaudio not importable by ${PYTHON}: only our figures are shown`;
  else {
    try {
      torch = runTorchaudio(clips, repeats);
    } catch (err) {
      note = `torchaudio run failed: ${(err as Error).message}`;
    }
  }

  const scaled = clips.map((clip) => clip.map((x) => x * 32768));
  const coldStart = process.hrtime.bigint();
  const computer = new FbankComputer(BEATS_FBANK_OPTIONS);
  computer.compute(scaled[0]!);
  const coldMs = Number(process.hrtime.bigint() - coldStart) / 1e6;
  const jsComputer = new FbankComputer(BEATS_FBANK_OPTIONS, { backend: 'js' });

  const rows: [string, Summary][] = [];
  const reused = new Float32Array(998 * 128);
  rows.push([
    `genrep beatsFbank (${computer.backendInUse}: ×2^15, fbank, normalise)`,
    summarise(timeEach(clips, (clip) => beatsFbank(clip), repeats)),
  ]);
  rows.push([
    'genrep beatsFbank, output into a reused buffer',
    summarise(timeEach(clips, (clip) => beatsFbank(clip, reused), repeats)),
  ]);
  rows.push([
    'genrep FbankComputer.compute (input ×2^15 already)',
    summarise(timeEach(scaled, (clip) => computer.compute(clip), repeats)),
  ]);
  rows.push([
    'genrep fbank, plain TypeScript backend',
    summarise(timeEach(scaled, (clip) => jsComputer.compute(clip), repeats)),
  ]);
  if (torch) {
    rows.push(...torch.rows);
    const ours = scaled.map((clip) => computer.compute(clip).data);
    note = [
      `max |ours − torchaudio float64| over all ${count} clips: ${worstDifference(ours, torch.out64, Infinity).toExponential(2)}`,
      `max |ours − torchaudio float32|: ${worstDifference(ours, torch.out32, 20).toExponential(2)} within 20 nats of each frame's peak, ` +
        `${worstDifference(ours, torch.out32, Infinity).toExponential(2)} overall (float32 round-off in torchaudio's quietest bins)`,
    ].join('\n');
  }

  console.log(
    `Kaldi fbank, BEATs arguments (128 mel bins, 25 ms / 10 ms, 998 frames), ${count} synthetic 10 s clips, single thread`,
  );
  console.log(
    `each clip's time is its best of ${repeats} runs (--repeats), then median / min / p90 / mean over the clips`,
  );
  console.log(
    `node ${process.version}, ${process.arch}, ${cpus()[0]?.model ?? 'unknown CPU'}, load average ${loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')}`,
  );
  const header = ['implementation', 'median ms', 'min ms', 'p90 ms', 'mean ms'];
  const table = rows.map(([name, s]) => [
    name,
    s.median.toFixed(3),
    s.min.toFixed(3),
    s.p90.toFixed(3),
    s.mean.toFixed(3),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...table.map((r) => r[i]!.length)));
  const line = (cells: string[]): string =>
    cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  console.log(line(header));
  console.log(widths.map((w) => '-'.repeat(w)).join('  '));
  for (const row of table) console.log(line(row));
  for (const [name, summary] of rows.filter(([label]) => label.startsWith('torchaudio'))) {
    const tuned = name.endsWith('malloc tuned') ? ' (malloc tuned)' : '';
    console.log(
      `speed-up of beatsFbank over torchaudio${tuned}, by median: ${(summary.median / rows[0]![1].median).toFixed(2)}x`,
    );
  }
  console.log(
    `cold start (new FbankComputer + first clip, kernel generation and compilation included): ${coldMs.toFixed(1)} ms`,
  );
  console.log(note);
}

main();
