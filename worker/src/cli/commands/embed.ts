import type { Command } from 'commander';
import { Option } from 'commander';
import { readWav } from '../../audio';
import { createEmbedder, type Embedder, type EmbedderSpec, type Pooling, POOLINGS } from '../../embedders';
import { GenrepError } from '../../errors';
import { PAPER_DEFAULTS } from '../../protocol/vocabulary';
import { writeNpy } from '../../io/npy';
import { resolveModel } from '../../models/resolve';
import { resolveSettings, type Settings } from '../../settings';
import { parseChannel, parsePositiveInt } from '../parse';

/** `4`, `1,4,12` or `all` → layer indices (checked against the model's depth by the embedder). */
export function parseLayers(text: string, numLayers: number): number[] {
  if (text.trim() === 'all') return Array.from({ length: numLayers }, (_, i) => i + 1);
  const layers = text.split(',').map((part) => part.trim());
  if (layers.some((part) => !/^\d+$/.test(part))) {
    throw new GenrepError(
      `--layers '${text}': expected a layer number, a comma-separated list (1,4,12) or 'all'`,
      'BAD_INPUT',
      {
        field: 'layers',
        expected: 'N | N,M,... | all',
      },
    );
  }
  return layers.map(Number);
}

interface EmbedFlags {
  model: string;
  layers: string;
  pooling: Pooling;
  out: string;
  inputKind?: 'waveform' | 'fbank';
  output?: string;
  threads?: number;
  batchSize?: number;
  device: 'auto' | 'cpu' | 'cuda';
  modelDir?: string;
  cacheDir?: string;
  channel: string;
  int8?: boolean;
}

/** Files are read this many at a time, so a large list never holds every waveform in memory. */
const FILES_PER_CHUNK = 32;

/** `genrep embed`: features of WAV files as one float32 .npy [layers, files, dim]. */
export function registerEmbedCommand(program: Command): void {
  program
    .command('embed <wav...>')
    .description(
      'extract features of WAV files with BEATs, fbank-stats or an ONNX encoder; writes float32 .npy [layers, files, dim]',
    )
    .requiredOption(
      '--model <model>',
      'fbank-stats, a model name (beats, beats_ft1, …), a .pt checkpoint, an .onnx model, an encoder descriptor (.encoder.json) or a Hugging Face export folder',
    )
    .option('--layers <layers>', "layer numbers: 4, 1,4,12 or 'all'", 'all')
    .addOption(
      new Option('--pooling <pooling>', 'how token features become one vector per clip')
        .choices(POOLINGS)
        .default(PAPER_DEFAULTS.pooling),
    )
    .requiredOption('--out <file.npy>', 'output .npy file')
    .addOption(
      new Option('--input-kind <kind>', 'for a user ONNX encoder: what its input takes').choices(['waveform', 'fbank']),
    )
    .option('--output <name>', 'for a user ONNX encoder: the output holding the clip vector')
    .option(
      '--int8',
      'BEATs checkpoints: dynamic int8 quantisation of the linear layers (2-4x faster on CPU). Measured worst-clip ' +
        'pooled cosine to fp32 on 11 real clips: ≥ 0.9997 at every layer on full-size random weights, ≥ 0.9999 on ' +
        'the tiny checkpoint; trained checkpoints can differ more (docs/int8.md): compare on your own clips',
    )
    .option('--threads <n>', 'ONNX Runtime intra-op threads (default: all cores)', parsePositiveInt('--threads'))
    .option('--batch-size <n>', 'clips per forward pass', parsePositiveInt('--batch-size'))
    .addOption(new Option('--device <device>', 'execution provider').choices(['auto', 'cpu', 'cuda']).default('auto'))
    .option('--channel <channel>', "WAV channel to read: an index or 'mean'", '0')
    .option('--model-dir <dir>', 'where named checkpoints are (default: $GENREP_MODEL_DIR or ~/.cache/genrep/models)')
    .option(
      '--cache-dir <dir>',
      'where converted models are cached (default: $GENREP_CACHE_DIR or ~/.cache/genrep/cache)',
    )
    .action(async (wavs: string[], flags: EmbedFlags) => {
      const settings = resolveSettings({
        runConfig: { modelDir: flags.modelDir, cacheDir: flags.cacheDir, threads: flags.threads },
        env: process.env,
      });
      const spec = embedderSpec(flags, settings);
      const channel = parseChannel(flags.channel);
      const embedder = await createEmbedder(spec, {
        cacheDir: settings.cacheDir,
        device: flags.device,
        ...(settings.threads ? { threads: settings.threads } : {}),
      });
      try {
        const layers = parseLayers(flags.layers, embedder.numLayers);
        const dim = embedder.dim(flags.pooling);
        const features = await embedFiles(embedder, wavs, layers, flags.pooling, channel, flags.batchSize);
        await writeNpy(flags.out, features, [layers.length, wavs.length, dim]);
        process.stdout.write(
          `${flags.out}: [${layers.length}, ${wavs.length}, ${dim}] float32 (${embedder.id}, layers ${layers.join(',')}, ${flags.pooling}, ${embedder.provider})\n`,
        );
      } finally {
        await embedder.dispose();
      }
    });
}

function embedderSpec(flags: EmbedFlags, settings: Settings): EmbedderSpec {
  if (flags.inputKind || flags.output) {
    if (!flags.inputKind || !flags.output) {
      throw new GenrepError('a user ONNX encoder needs both --input-kind and --output', 'BAD_INPUT', {
        field: flags.inputKind ? 'output' : 'input-kind',
      });
    }
    if (!/\.onnx$/i.test(flags.model)) {
      throw new GenrepError(`--input-kind/--output apply to an .onnx model, not '${flags.model}'`, 'BAD_INPUT', {
        field: 'model',
      });
    }
    return { kind: 'onnx', path: flags.model, input: flags.inputKind, output: flags.output };
  }
  const spec = resolveModel(flags.model, settings.modelDir);
  if (flags.int8) {
    if (spec.kind !== 'beats')
      throw new GenrepError(
        `--int8 applies to BEATs checkpoints (.pt or a model name), not '${flags.model}'`,
        'BAD_INPUT',
        { field: 'int8' },
      );
    return { ...spec, quantize: 'int8' };
  }
  return spec;
}

/** Row-major [layers, files, dim]: the embedder's per-layer matrices stacked, filled a chunk of files at a time. */
async function embedFiles(
  embedder: Embedder,
  wavs: string[],
  layers: number[],
  pooling: Pooling,
  channel: number | 'mean',
  batchSize: number | undefined,
): Promise<Float32Array> {
  const dim = embedder.dim(pooling);
  const out = new Float32Array(layers.length * wavs.length * dim);
  for (let start = 0; start < wavs.length; start += FILES_PER_CHUNK) {
    const chunk = wavs.slice(start, start + FILES_PER_CHUNK);
    const clips: Float32Array[] = [];
    const crop = embedder.clipSamples !== undefined ? { maxSamples: embedder.clipSamples } : {};
    for (const file of chunk) clips.push((await readWav(file, { channel, ...crop })).samples);
    const perLayer = await embedder.embed(clips, { layers, pooling, ...(batchSize ? { batchSize } : {}) });
    perLayer.forEach((matrix, slot) => out.set(matrix, (slot * wavs.length + start) * dim));
    if (process.stderr.isTTY)
      process.stderr.write(`\rembedded ${Math.min(start + chunk.length, wavs.length)}/${wavs.length} files`);
  }
  if (process.stderr.isTTY) process.stderr.write('\n');
  return out;
}
