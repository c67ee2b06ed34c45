import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeWavPcm16 } from '../../worker/src/audio';
import { isOneLineError, runCliProcess } from '../helpers/cliProcess';
import { writeTinyDataset } from '../helpers/tinyDataset';
import { rejectionOf, startWorker, stopWorker, type TestWorker } from '../server/workerProcess';
import { hostilePath } from './corpus';
import { deflatedZerosCheckpoint, microCheckpoint } from './generators/checkpoints';

/**
 * Every hostile checkpoint through the built CLI in a child process: one error line that names the file and the
 * fault, within a time bound and a peak-RSS bound (a bare CLI child is ~65 MB; these files once took 2-3 GB or
 * killed V8). Then the generic reader (no architecture) in a child, and the worker answering after each one.
 */
const MAX_RSS_MB = 300;
const MAX_MS = 10_000;
const CHILD_TIMEOUT_MS = 60_000;

let dir: string;
let wav: string;
let big: { oneGiB: string; threeGiB: string };
beforeAll(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'genrep-hostile-ckpt-'));
  wav = path.join(dir, 'a.wav');
  writeFileSync(
    wav,
    encodeWavPcm16(
      Float32Array.from({ length: 16000 }, (_, i) => 0.3 * Math.sin(i / 7)),
      16000,
    ),
  );
  // Over the 64 KiB corpus limit (~1 and ~3 MiB), so made here: the "1 MiB entry of deflated zeros"
  // (1 GiB inflated) and a checkpoint with three of them.
  big = { oneGiB: path.join(dir, 'deflated-zeros-1gib.pt'), threeGiB: path.join(dir, 'deflated-zeros-3x1gib.pt') };
  writeFileSync(big.oneGiB, deflatedZerosCheckpoint(1, 2 ** 30));
  writeFileSync(big.threeGiB, deflatedZerosCheckpoint(3, 2 ** 30));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const corpus = (name: string): string => hostilePath(`checkpoints/${name}`);

interface Expectation {
  /** The checkpoint; absent: the corpus file of the case's name. */
  file?: () => string;
  /** What the one error line must say after `genrep: <file>: `. */
  error: RegExp;
  /** Also run `genrep embed --model <file>` (the path the worker and runs take). */
  embed?: boolean;
}

const CASES: Record<string, Expectation> = {
  'stride0-2p29.pt': { error: /cfg\.input_patch_size = -1, expected a patch size between 1 and 128/ },
  'stride0-2p30m1.pt': { error: /cfg\.input_patch_size = -1/ },
  'micro-stride0-view.pt': {
    error: /tensor encoder\.layers\.0\.fc1\.bias \(shape \[16\], stride \[0\]\) repeats one storage element/,
    embed: true,
  },
  'deflated-zeros-32mib.pt': {
    error: /zip entry archive\/data\/0 would inflate \d+ bytes to 33554432 \(more than 100:1.*refusing a zip bomb/,
  },
  'deflated-zeros-1gib.pt (generated)': {
    file: () => big.oneGiB,
    error: /would inflate \d+ bytes to 1073741824 \(more than 100:1/,
    embed: true,
  },
  'deflated-zeros-3x1gib.pt (generated)': {
    file: () => big.threeGiB,
    error: /zip entry archive\/data\/0 would inflate \d+ bytes to 1073741824/,
  },
  'views-3000-on-4mib.pt': { error: /would inflate \d+ bytes to 4194304 .*zip bomb/ },
  'cfg-encoder-layers-1e6.pt': {
    error: /cfg\.encoder_layers = 1000000, expected an integer from 1 to 48$/,
    embed: true,
  },
  'cfg-encoder-layers-1e8.pt': { error: /cfg\.encoder_layers = 100000000, expected an integer from 1 to 48$/ },
  'cfg-encoder-layers-2e9.pt': { error: /cfg\.encoder_layers = 2000000000, expected an integer from 1 to 48$/ },
  'cfg-encoder-layers-2p64.pt': {
    error: /cfg\.encoder_layers = 18446744073709551616, expected an integer from 1 to 48$/,
    embed: true,
  },
  'cfg-encoder-layers-float.pt': {
    error: /cfg\.encoder_layers is 2\.0 \(a float\), expected an integer$/,
    embed: true,
  },
  'global-name-escapes.pt': {
    // the newlines and ESC/BEL come out as visible escapes, so the name can neither forge a line nor drive a terminal
    error: /forbidden pickle global os\\ngenrep: all checks passed\\n\\x1b\[2J\.system\\x1b\]0;pwned\\x07\\x1b\[31m: /,
  },
  'numpy-scalar-wrong-bytes.pt': { error: /numpy int64 scalar holds 4 bytes, expected 8$/, embed: true },
  'numpy-object-dtype.pt': { error: /numpy\.dtype 'O8' \(Python objects: .*\) is refused: only numeric NumPy dtypes/ },
  'numpy-ndarray.pt': { error: /forbidden pickle global numpy\.core\.multiarray\._reconstruct: / },
  'nan-weights.pt': {
    error: /state dict key encoder\.layers\.0\.fc1\.weight holds NaN at index 5 \(1 of its 128 weights/,
    embed: true,
  },
  'inf-weights.pt': { error: /state dict key encoder\.pos_conv\.0\.weight_g holds Infinity at index 0/ },
};

function embedArgs(checkpoint: string, out: string): string[] {
  return ['embed', wav, '--model', checkpoint, '--layers', '1', '--out', out, '--cache-dir', path.join(dir, 'cache')];
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

async function expectRefused(args: string[], file: string, error: RegExp): Promise<{ ms: number; maxRssMb: number }> {
  const r = await runCliProcess(args, { timeoutMs: CHILD_TIMEOUT_MS });
  expect(r.code, r.stderr).toBe(1);
  expect(isOneLineError(r.stderr), r.stderr).toBe(true);
  expect(r.stderr.trimEnd()).toMatch(new RegExp(`^genrep: ${escapeRegExp(file)}: `));
  expect(r.stderr.trimEnd()).toMatch(error);
  expect(r.ms).toBeLessThan(MAX_MS);
  expect(r.maxRssMb).toBeLessThan(MAX_RSS_MB);
  return { ms: r.ms, maxRssMb: r.maxRssMb };
}

describe('hostile checkpoints through the CLI', () => {
  const figures: string[] = [];
  afterAll(() => console.log(`hostile checkpoints (case: ms, peak RSS MB):\n${figures.join('\n')}`));

  for (const [name, c] of Object.entries(CASES)) {
    it(`${name}: one error line, bounded time and memory`, async () => {
      const file = c.file?.() ?? corpus(name);
      const convertArgs = ['model', 'convert', file, '--out', path.join(dir, 'out.onnx')];
      const convert = await expectRefused(convertArgs, file, c.error);
      figures.push(`${name} convert: ${convert.ms.toFixed(0)} ms, ${convert.maxRssMb.toFixed(0)} MB`);
      if (c.embed) {
        const embed = await expectRefused(embedArgs(file, path.join(dir, 'f.npy')), file, c.error);
        figures.push(`${name} embed: ${embed.ms.toFixed(0)} ms, ${embed.maxRssMb.toFixed(0)} MB`);
      }
    });
  }

  it('converts and embeds the valid micro checkpoint the corpus files are edited from', async () => {
    const file = path.join(dir, 'micro.pt');
    writeFileSync(file, microCheckpoint());
    const convertArgs = ['model', 'convert', file, '--out', path.join(dir, 'micro.onnx')];
    const convert = await runCliProcess(convertArgs, { timeoutMs: CHILD_TIMEOUT_MS });
    expect(convert.code, convert.stderr).toBe(0);
    expect(convert.stdout).toMatch(/BEATs 2×8, layers 1,2/);
    const out = path.join(dir, 'micro.npy');
    const embed = await runCliProcess(embedArgs(file, out), { timeoutMs: CHILD_TIMEOUT_MS });
    expect(embed.code, embed.stderr).toBe(0);
    const npy = readFileSync(out);
    // [1 layer, 1 file, 8 patches × width 8] float32 at the end of the .npy
    const end = npy.byteOffset + npy.length;
    const features = new Float32Array(npy.buffer.slice(end - 4 * 8 * 8, end));
    expect(features.every(Number.isFinite)).toBe(true);
  });
});

/** readCheckpoint with no architecture (stride-0 views allowed, the generic budget) in a child, with its peak RSS. */
interface GenericRead {
  error?: string;
  code?: string;
  maxRssMb: number;
}

async function readGenerically(file: string, env: NodeJS.ProcessEnv = {}): Promise<GenericRead> {
  const reader = path.resolve(__dirname, '..', '..', 'dist', 'worker', 'checkpoint', 'index.js');
  const script = `
    const { readCheckpoint } = require(${JSON.stringify(reader)});
    const done = (r) => {
      process.stdout.write(JSON.stringify({ ...r, maxRssMb: process.resourceUsage().maxRSS / 1024 }));
    };
    readCheckpoint(process.argv[1]).then(() => done({}), (e) => done({ error: e.message, code: e.code }));`;
  const child = spawn(process.execPath, ['-e', script, file], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, ...env },
  });
  let out = '';
  let err = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString('utf8')));
  child.stderr.on('data', (d: Buffer) => (err += d.toString('utf8')));
  const timer = setTimeout(() => child.kill('SIGKILL'), CHILD_TIMEOUT_MS);
  const exit = await new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  clearTimeout(timer);
  if (exit !== 0 || !out) throw new Error(`generic read of ${file} ended with ${exit}: ${err.slice(0, 2000)}`);
  return JSON.parse(out) as GenericRead;
}

describe('the generic reader (no architecture) on the same files', () => {
  it('refuses stride-0 views of 2^29 and 2^30 - 1 elements by its memory budget, before allocating them', async () => {
    for (const [name, mib] of [
      ['stride0-2p29.pt', '2048.0'],
      ['stride0-2p30m1.pt', '4096.0'],
    ] as const) {
      const r = await readGenerically(corpus(name));
      expect(r.code, name).toBe('UNSAFE');
      expect(r.error).toContain(`its tensors would take ${mib} MiB in memory`);
      expect(r.error).toMatch(/above the 1024\.0 MiB budget \(the default for a checkpoint of unknown architecture/);
      expect(r.maxRssMb).toBeLessThan(MAX_RSS_MB);
    }
  });

  it('states the budget GENREP_CHECKPOINT_MAX_MB sets', async () => {
    const r = await readGenerically(corpus('stride0-2p29.pt'), { GENREP_CHECKPOINT_MAX_MB: '100' });
    expect(r.error).toMatch(/above the 100\.0 MiB budget \(set by GENREP_CHECKPOINT_MAX_MB\)/);
  });

  it('refuses the deflated-zero entries before inflating them', async () => {
    for (const file of [corpus('views-3000-on-4mib.pt'), big.threeGiB]) {
      const r = await readGenerically(file);
      expect(r.code).toBe('UNSAFE');
      expect(r.error).toMatch(/refusing a zip bomb/);
      expect(r.maxRssMb).toBeLessThan(MAX_RSS_MB);
    }
  });
});

describe('the worker, given a hostile checkpoint', () => {
  let worker: TestWorker;
  let data: string;
  beforeAll(async () => {
    data = path.join(dir, 'data');
    writeTinyDataset(data, { machines: ['fan'], trainSource: 2, trainTarget: 1, testPerGroup: 1 });
    const cacheDir = path.join(dir, 'worker-cache');
    worker = await startWorker({ env: { GENREP_CACHE_DIR: cacheDir }, settings: { cacheDir } });
  });
  afterAll(async () => {
    if (worker) expect(await stopWorker(worker)).toEqual({ code: 0, signal: null });
  });

  it('answers each bank build with the checkpoint error, then the next request; peak RSS stays bounded', async () => {
    const names = ['stride0-2p29.pt', 'cfg-encoder-layers-1e6.pt', 'nan-weights.pt', 'views-3000-on-4mib.pt'];
    names.push('global-name-escapes.pt');
    const hostile = names.map(corpus);
    for (const checkpoint of [...hostile, big.threeGiB]) {
      const err = await rejectionOf(
        worker.request('genrep/buildBank', {
          root: data,
          machineType: 'fan',
          embedder: { kind: 'beats', checkpoint },
          layer: 1,
          pooling: 'temporal',
          K_n: 1,
          mixup: null,
          out: path.join(dir, 'banks', 'fan.grbank'),
        }),
      );
      expect(err.data, checkpoint).toMatchObject({ file: checkpoint });
      expect(['BAD_INPUT', 'UNSAFE', 'CORRUPT'], err.message).toContain(err.data['code']);
      expect(err.message.startsWith(`${checkpoint}: `), err.message).toBe(true);
      const { datasets } = await worker.request('genrep/listDatasets', { roots: [data] });
      expect(datasets[0]!.status).toBe('ok');
    }
    if (process.platform === 'linux') {
      const peakKb = Number(/VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${worker.pid}/status`, 'utf8'))![1]);
      console.log(`worker peak RSS after the hostile checkpoints: ${(peakKb / 1024).toFixed(0)} MB`);
      expect(peakKb / 1024).toBeLessThan(MAX_RSS_MB);
    }
  });
});
