import type { Command } from 'commander';
import { SingleBar, Presets } from 'cli-progress';
import { knownModels, modelEntry, publishedChecks } from '../../models/manifest';
import { downloadCheckpoint } from '../../models/download';
import { resolveSettings } from '../../settings';
import { shippedDescriptors } from '../../encoders/shippedDescriptors';
import {
  formatDescriptorInspection,
  formatInspection,
  inspectDescriptor,
  inspectModel,
  isDescriptorPath,
} from '../../encoders/inspectModel';
import { createEncoderEmbedder } from '../../embedders/encoderEmbedder';
import { GenrepError } from '../../errors';

/** `genrep model …`: the known checkpoints and their download. Returned so other model subcommands attach to it. */
export function registerModelCommand(program: Command): Command {
  const model = program
    .command('model')
    .description('list, download and convert BEATs checkpoints; list and inspect other encoders');

  model
    .command('list')
    .description('the checkpoints GenRep knows (models/manifest.json)')
    .action(() => {
      for (const entry of knownModels().values()) {
        process.stdout.write(`${entry.name.padEnd(12)} ${entry.file.padEnd(50)} ${entry.role}\n`);
      }
      // Encoders we ship descriptors for: the user exports the ONNX (docs/encoders.md), we never download it.
      process.stdout.write(
        '\nencoder descriptors (models/encoders/; export the ONNX yourself, see docs/encoders.md):\n',
      );
      for (const { id, descriptor } of shippedDescriptors()) {
        process.stdout.write(
          `${id.padEnd(20)} ${(descriptor.family ?? 'custom').padEnd(17)} ${descriptor.model}\n${''.padEnd(21)}from: ${descriptor.source ?? '(not given)'}\n`,
        );
      }
    });

  model
    .command('inspect <path>')
    .description(
      'an ONNX file or a Hugging Face export folder: inputs, outputs, opsets, producer, and the shipped encoder descriptor that fits it (or why none does); an encoder descriptor (.encoder.json): its models and whether it fits them',
    )
    .action(async (target: string) => {
      if (!isDescriptorPath(target)) {
        process.stdout.write(formatInspection(inspectModel(target)));
        return;
      }
      const inspection = inspectDescriptor(target);
      process.stdout.write(formatDescriptorInspection(inspection));
      const n = inspection.reasons.length;
      if (n > 0)
        throw new GenrepError(
          `${target}: does not fit its model (${n} problem${n === 1 ? '' : 's'}, listed above)`,
          'BAD_INPUT',
          { file: target },
        );
      // The signatures agree; the embedder's own checks (run on zero-filled input, no audio) settle the rest:
      // symbolic sizes, output shapes, layers. Its refusal is the error a run would give.
      const embedder = await createEncoderEmbedder(target, { device: 'cpu' });
      try {
        process.stdout.write(`embedder: opens it on silence: ${embedder.numLayers} layers, id ${embedder.id}\n`);
      } finally {
        await embedder.dispose();
      }
    });

  model
    .command('download <name>')
    .description(
      'download a known checkpoint (resumable; checks it is a checkpoint, records its sha256 on first download)',
    )
    .option('--dir <dir>', 'model directory (default: $GENREP_MODEL_DIR or ~/.cache/genrep/models)')
    .option('--url <url>', 'download from this address instead of the official link (a mirror)')
    .action(async (name: string, opts: { dir?: string; url?: string }) => {
      const entry = modelEntry(name);
      const dir = resolveSettings({ runConfig: { modelDir: opts.dir }, env: process.env }).modelDir;
      const showBar = process.stderr.isTTY === true;
      const bar = new SingleBar(
        {
          format: `${entry.file} [{bar}] {percentage}% | {value_mib}/{total_mib} MiB | {speed} MiB/s | ETA {eta_formatted}`,
          stream: process.stderr,
        },
        Presets.shades_classic,
      );
      const started = Date.now();
      let barStarted = false;
      const result = await downloadCheckpoint({
        dir,
        file: entry.file,
        url: opts.url ?? entry.url,
        published: publishedChecks(entry),
        onProgress: (received, total) => {
          if (!showBar || total === undefined) return;
          const payload = {
            value_mib: (received / 2 ** 20).toFixed(1),
            total_mib: (total / 2 ** 20).toFixed(1),
            speed: (received / 2 ** 20 / Math.max(0.001, (Date.now() - started) / 1000)).toFixed(1),
          };
          if (!barStarted) {
            bar.start(total, received, payload);
            barStarted = true;
          } else {
            bar.update(received, payload);
          }
        },
      }).finally(() => {
        if (barStarted) bar.stop();
      });
      process.stdout.write(
        `${result.status}: ${result.path} (${result.size} bytes, sha256 ${result.sha256}${result.recorded ? ', recorded' : ', matches the recorded checksum'})\n`,
      );
    });

  return model;
}
