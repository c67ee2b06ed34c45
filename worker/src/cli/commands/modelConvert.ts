import type { Command } from 'commander';
import { Option } from 'commander';
import { readBeatsCheckpoint } from '../../beats/beatsCheckpoint';
import { convertBeats } from '../../beats/convert';
import type { BeatsOutput } from '../../beats/graph';
import { POOLINGS } from '../../embedders';
import { writeFileAtomic } from '../../io/atomicWrite';
import { PAPER_DEFAULTS } from '../../protocol/vocabulary';
import { parseLayers } from './embed';

interface ConvertFlags {
  out: string;
  layers: string;
  pooling: BeatsOutput | 'none';
  int8?: boolean;
}

/** `genrep model convert`: a BEATs .pt checkpoint → an ONNX graph written by this project's own graph writer. */
export function registerModelConvertCommand(model: Command): void {
  model
    .command('convert <checkpoint>')
    .description(
      'convert a BEATs .pt checkpoint to ONNX (input: normalised fbank [B, 998, 128]; outputs: the requested layers)',
    )
    .requiredOption('--out <file.onnx>', 'output ONNX file')
    .option('--layers <layers>', "layers to output: 4, 1,4,12 or 'all' (blocks past the deepest are left out)", 'all')
    .addOption(
      new Option(
        '--pooling <pooling>',
        "pooled outputs layer<k>_<pooling> [B, dim], or 'none' for hidden states layer<k> [B, 496, C]",
      )
        .choices([...POOLINGS, 'none'])
        .default(PAPER_DEFAULTS.pooling),
    )
    .option(
      '--int8',
      'dynamic int8 quantisation of the linear layers (faster on CPU; how much features differ: docs/int8.md)',
    )
    .action(async (file: string, flags: ConvertFlags) => {
      const { checkpoint, parsed } = await readBeatsCheckpoint(file, { sha256: true });
      const { config } = parsed;
      const layers = parseLayers(flags.layers, config.encoder_layers);
      const output: BeatsOutput = flags.pooling === 'none' ? 'hidden' : flags.pooling;
      const converted = convertBeats(checkpoint, { layers, output, ...(flags.int8 ? { quantize: 'int8' } : {}) });
      await writeFileAtomic(flags.out, converted.parts);
      const bytes = converted.parts.reduce((n, part) => n + part.length, 0);
      const unknown =
        converted.unknownCfgKeys.length > 0 ? `; ignored cfg keys: ${converted.unknownCfgKeys.join(', ')}` : '';
      process.stdout.write(
        `${flags.out}: BEATs ${config.encoder_layers}×${config.encoder_embed_dim}, layers ${layers.join(',')}, ${output}${flags.int8 ? ', int8' : ''}, ${(bytes / 2 ** 20).toFixed(1)} MiB${unknown}\n`,
      );
    });
}
