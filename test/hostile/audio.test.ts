import {
  closeSync,
  copyFileSync,
  existsSync,
  mkdtempSync,
  openSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeWav, resample } from '../../worker/src/audio';
import { fbankStatistics } from '../../worker/src/embedders';
import { BEATS_SAMPLES } from '../../worker/src/fbank';
import { decodeNpy } from '../../worker/src/io/npy';
import { syntheticWav } from '../audio/syntheticWav';
import { isOneLineError, runCliProcess, type CliResult } from '../helpers/cliProcess';
import { writeTinyDataset } from '../helpers/tinyDataset';
import { hostilePath } from './corpus';

/**
 * Hostile WAV files through the built CLI in a child process: `genrep info`, `genrep fbank --out` and
 * `genrep embed --model fbank-stats` each end in a correct result or one clear error line, within a time bound and
 * under a peak-RSS bound. A bare child is about 65-90 MB; nothing here may pass 300 MB (the 1 Hz files once took
 * 2.9 GB).
 */
const RSS_LIMIT_MB = 300;
/** Measured 0.2-0.6 s per call on a loaded 2-core machine; the bound leaves room for a slower CI runner. */
const CALL_LIMIT_MS = 10_000;

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'genrep-hostile-audio-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

type Outcome = { ok: RegExp } | { error: RegExp };
type Command = 'info' | 'fbank' | 'embed';

function argsFor(command: Command, file: string, out: string): string[] {
  if (command === 'info') return ['info', file];
  if (command === 'fbank') return ['fbank', file, '--out', out];
  return ['embed', file, '--model', 'fbank-stats', '--out', out];
}

async function check(command: Command, file: string, outcome: Outcome): Promise<CliResult & { maxRssMb: number }> {
  const out = path.join(dir, `${path.basename(file)}.${command}.npy`);
  const result = await runCliProcess(argsFor(command, file, out), { timeoutMs: 60_000 });
  const what = `genrep ${command} ${path.basename(file)}: ${result.stderr}`;
  if ('ok' in outcome) {
    expect(result.code, what).toBe(0);
    expect(result.stdout, what).toMatch(outcome.ok);
  } else {
    expect(result.code, what).toBe(1);
    expect(isOneLineError(result.stderr), what).toBe(true);
    expect(result.stderr, what).toMatch(outcome.error);
    // Nothing is left behind for a refused input.
    expect(existsSync(out), what).toBe(false);
  }
  expect(result.ms, what).toBeLessThan(CALL_LIMIT_MS);
  expect(result.maxRssMb, what).toBeLessThan(RSS_LIMIT_MB);
  if (process.env['GENREP_REPORT_FIGURES']) {
    const figures = `${result.ms.toFixed(0).padStart(6)} ms ${result.maxRssMb.toFixed(0).padStart(4)} MB`;
    process.stdout.write(`${command.padEnd(6)} ${path.basename(file).padEnd(32)} ${figures}\n`);
  }
  return result;
}

const embedded = /: \[1, 1, 256\] float32 \(fbank-stats/;
const belowFloor = (rate: number): RegExp => new RegExp(`sample rate ${rate} Hz is below the 1000 Hz this reader`);
const aboveCeiling = (rate: number): RegExp => new RegExp(`sample rate ${rate} Hz is above the 768000 Hz this reader`);

/** The same refusal from every command: the reader checks the header before anything else. */
const everywhere = (error: RegExp): Record<Command, Outcome> => ({
  info: { error },
  fbank: { error },
  embed: { error },
});

/** What each committed corpus file does in each command now. */
const CORPUS: Array<[string, Record<Command, Outcome>]> = [
  ['rate-1hz-12kb.wav', everywhere(belowFloor(1))],
  ['rate-1hz-40kb.wav', everywhere(belowFloor(1))],
  ['rate-999hz.wav', everywhere(belowFloor(999))],
  [
    'rate-1000hz.wav',
    {
      info: { ok: /sample rate: 1000 Hz\n[^]*duration: +2\.000 s/ },
      fbank: { ok: /float32 \[198, 128\]/ },
      embed: { ok: embedded },
    },
  ],
  [
    'rate-768000hz.wav',
    {
      info: { ok: /sample rate: 768000 Hz\n[^]*frames: +30720\n/ },
      fbank: { ok: /float32 \[2, 128\]/ },
      embed: { ok: embedded },
    },
  ],
  ['rate-768001hz.wav', everywhere(aboveCeiling(768001))],
  ['rate-4294967295hz.wav', everywhere(aboveCeiling(4294967295))],
  ['channels-65535-8bit.wav', everywhere(/data chunk is empty \(20000 bytes, no complete 65535-byte frame\)/)],
  [
    'channels-4096-8bit.wav',
    {
      info: { ok: /channels: +4096\n[^]*frames: +12\n/ },
      fbank: { error: /too short|shorter than one/ },
      embed: { ok: embedded },
    },
  ],
  ['channels-65535-16bit.wav', everywhere(/block align is 65535 bytes but 65535 channel\(s\) × 16 bits needs 131070/)],
  ['blockalign-65535-mono.wav', everywhere(/block align is 65535 bytes but 1 channel\(s\) × 16 bits needs 2/)],
  ['junk-chunks-1001.wav', everywhere(/more than 1000 chunks before the data chunk \(stopped at byte 8028\)/)],
  [
    'junk-chunks-998.wav',
    { info: { ok: /duration: +1\.000 s/ }, fbank: { ok: /float32 \[98, 128\]/ }, embed: { ok: embedded } },
  ],
];

describe('hostile audio corpus through the CLI (one child process per call)', () => {
  for (const [file, outcomes] of CORPUS) {
    it(`${file}: info, fbank and embed each give a result or one line, fast and small`, async () => {
      for (const command of ['info', 'fbank', 'embed'] as const) {
        await check(command, hostilePath(`audio/${file}`), outcomes[command]);
      }
    });
  }
});

/** `count` empty JUNK chunks between fmt and data, written in pieces (2.6 M chunks is 21 MB). */
function writeJunkChunkFile(file: string, count: number): void {
  const fd = openSync(file, 'w');
  try {
    const fmt = Buffer.alloc(12 + 24);
    fmt.write('RIFF', 0, 'latin1');
    fmt.writeUInt32LE(4 + 24 + count * 8 + 8 + 3200, 4);
    fmt.write('WAVEfmt ', 8, 'latin1');
    fmt.writeUInt32LE(16, 16);
    fmt.writeUInt16LE(1, 20);
    fmt.writeUInt16LE(1, 22);
    fmt.writeUInt32LE(16000, 24);
    fmt.writeUInt32LE(32000, 28);
    fmt.writeUInt16LE(2, 32);
    fmt.writeUInt16LE(16, 34);
    writeSync(fd, fmt);
    const perPiece = 1 << 17;
    const piece = Buffer.alloc(perPiece * 8);
    piece.fill(Buffer.from('JUNK\0\0\0\0', 'latin1'));
    for (let left = count; left > 0; left -= perPiece) writeSync(fd, piece, 0, Math.min(left, perPiece) * 8);
    const data = Buffer.alloc(8 + 3200);
    data.write('data', 0, 'latin1');
    data.writeUInt32LE(3200, 4);
    writeSync(fd, data);
  } finally {
    closeSync(fd);
  }
}

describe('large hostile and long inputs, generated here', () => {
  it('a 22 MB file of 2.6 M empty JUNK chunks is refused at once (genrep info took 214 s)', async () => {
    const file = path.join(dir, 'junk-2.6M.wav');
    writeJunkChunkFile(file, 2_600_000);
    for (const command of ['info', 'fbank', 'embed'] as const) {
      const result = await check(command, file, { error: /more than 1000 chunks before the data chunk \(stopped/ });
      // One 64 KiB header read answers it: well under the ~1 s the issue asks for, even on a loaded machine.
      if (command === 'info') expect(result.ms).toBeLessThan(1500);
    }
  });

  // The embedding reads only the 10 s it uses, and equals resampling the whole hour then cropping, bit for bit.
  it('an hour at 8 kHz: info reports it, fbank refuses it, embed reads 10 s and equals the old path', async () => {
    const file = path.join(dir, 'hour-8k.wav');
    const bytes = syntheticWav({ sampleRate: 8000, seconds: 3600, bits: 8, seed: 11 });
    writeFileSync(file, bytes);
    await check('info', file, { ok: /frames: +28800000\n[^]*duration: +3600\.000 s/ });
    await check('fbank', file, { error: /the clip is 3600\.000 s long .*over the 600 s this command reads; --max-d/ });
    const beatsOut = path.join(dir, 'hour-beats.npy');
    const beats = await runCliProcess(['fbank', file, '--normalize', 'beats', '--out', beatsOut]);
    expect(beats.stdout).toMatch(/float32 \[998, 128\] \(BEATs-normalised\)/);
    expect(beats.ms).toBeLessThan(CALL_LIMIT_MS);
    const embed = await check('embed', file, { ok: embedded });
    // Measured 0.3-0.5 s (was: the whole hour resampled, about 10 s at 8 kHz and 39 s at 16 kHz in the issue).
    expect(embed.ms).toBeLessThan(3000);

    // The old path: decode the whole hour, resample all of it, then crop to BEATs' 10 s.
    const whole = decodeWav(bytes, file, { targetSampleRate: null, maxDurationSec: Infinity }).samples;
    const old = fbankStatistics(resample(whole, 8000, 16000).subarray(0, BEATS_SAMPLES));
    const got = decodeNpy(readFileSync(path.join(dir, 'hour-8k.wav.embed.npy')));
    expect(got.shape).toEqual([1, 1, 256]);
    const gotBytes = Buffer.from(got.data.buffer, got.data.byteOffset, got.data.byteLength);
    expect(Buffer.compare(gotBytes, Buffer.from(old.buffer))).toBe(0);
  });
});

describe('genrep run over a dataset holding the 40 KB 1 Hz clip (it once hung the run)', () => {
  it('stops with one line naming the clip, or with skipUnreadable lists it and finishes', async () => {
    const root = path.join(dir, 'run-data');
    writeTinyDataset(root, { machines: ['fan'], trainSource: 6, trainTarget: 2, testPerGroup: 2 });
    const train = path.join(root, 'fan', 'train');
    const victim = path.join(train, readdirSync(train).sort()[0]!);
    copyFileSync(hostilePath('audio/rate-1hz-40kb.wav'), victim);
    const config = (name: string, skipUnreadable: boolean): string => {
      const file = path.join(dir, `${name}.genrep.json`);
      const output = path.join(dir, `out-${name}`);
      const mixup = { K_s: 3, lambda: 0.9 };
      const run = { dataset: { root, skipUnreadable }, embedder: 'fbank-stats', mixup, output };
      writeFileSync(file, JSON.stringify(run));
      return file;
    };
    const stopped = await runCliProcess(['run', config('stop', false)], { timeoutMs: 60_000 });
    expect(stopped.code, stopped.stderr).toBe(1);
    // genrep run reports its stages on stderr; the error is the last line, and the only one starting `genrep: `.
    const lastLine = stopped.stderr.trimEnd().split('\n').at(-1)!;
    expect(isOneLineError(`${lastLine}\n`), stopped.stderr).toBe(true);
    expect(stopped.stderr.match(/^genrep: /gm)).toHaveLength(1);
    expect(lastLine).toContain(`${victim}: sample rate 1 Hz is below the 1000 Hz this reader accepts`);
    expect(stopped.maxRssMb).toBeLessThan(RSS_LIMIT_MB);
    const skipped = await runCliProcess(['run', config('skip', true)], { timeoutMs: 60_000 });
    expect(skipped.code, skipped.stderr).toBe(0);
    expect(skipped.stdout + skipped.stderr).toMatch(/skipped unreadable clip: .*sample rate 1 Hz is below/);
    expect(skipped.maxRssMb).toBeLessThan(RSS_LIMIT_MB);
    if (process.env['GENREP_REPORT_FIGURES']) {
      const figures = (r: CliResult & { maxRssMb: number }): string =>
        `${r.ms.toFixed(0)} ms ${r.maxRssMb.toFixed(0)} MB`;
      process.stdout.write(`run    stop ${figures(stopped)}; skip ${figures(skipped)}\n`);
    }
  });
});
