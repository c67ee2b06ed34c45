import type { Command } from 'commander';
import { Option } from 'commander';
import { DEFAULT_MAX_DURATION_SEC, readWav } from '../../audio';
import { BEATS_FBANK_OPTIONS, BEATS_SAMPLES, BEATS_WAVEFORM_SCALE, beatsFbank, fbank } from '../../fbank';
import { writeNpy } from '../../io/npy';
import { GenrepError } from '../../errors';
import { parseChannel } from '../parse';

const MAX_DURATION = DEFAULT_MAX_DURATION_SEC;

interface FbankFlags {
  out: string;
  normalize: 'none' | 'beats';
  channel: string;
  maxDuration: number;
}

/**
 * `genrep fbank`: the Kaldi log-mel fbank with BEATs' arguments as a float32 .npy [frames, 128].
 * Without --normalize the whole clip is used (torchaudio's output for the clip as it is), up to --max-duration
 * (10 minutes by default: a header that claims hours is refused before hours are decoded); with --normalize beats
 * only the first 10 s are read, then zero-padded to 10 s and normalised exactly as BEATs' preprocess does.
 */
export function registerFbankCommand(program: Command): void {
  program
    .command('fbank <file>')
    .description(
      "Kaldi log-mel filterbank (torchaudio.compliance.kaldi.fbank with BEATs' arguments) as float32 .npy [frames, 128]",
    )
    .requiredOption('--out <file.npy>', 'output .npy file')
    .addOption(
      new Option(
        '--normalize <kind>',
        'none: raw log-mel of the whole clip; beats: crop/pad to 10 s and normalise as BEATs',
      )
        .choices(['none', 'beats'])
        .default('none'),
    )
    .option('--channel <n|mean>', 'channel of a multi-channel file: an index or "mean"', '0')
    .option('--max-duration <seconds>', 'longest clip read whole (--normalize none)', parseSeconds, MAX_DURATION)
    .action(async (file: string, opts: FbankFlags) => {
      const channel = parseChannel(opts.channel);
      const extent =
        opts.normalize === 'beats'
          ? { maxSamples: BEATS_SAMPLES }
          : { maxDurationSec: opts.maxDuration, maxDurationOption: '--max-duration' };
      const audio = await readWav(file, { channel, targetSampleRate: 16000, ...extent });
      let result;
      try {
        if (opts.normalize === 'beats') {
          result = beatsFbank(audio.samples);
        } else {
          // Scaled in place (× 2^15 is exact in float32): a 10-minute clip's samples are 38 MB, not worth a copy.
          // i < scaled.length.
          const scaled = audio.samples;
          for (let i = 0; i < scaled.length; i++) scaled[i] = scaled[i]! * BEATS_WAVEFORM_SCALE;
          result = fbank(scaled, BEATS_FBANK_OPTIONS);
        }
      } catch (err) {
        // The fbank does not know the file name; an error about the clip is an error about this file.
        if (err instanceof GenrepError)
          throw new GenrepError(`${file}: ${err.message}`, err.code, { ...err.data, file });
        throw err;
      }
      await writeNpy(opts.out, result.data, [result.frames, result.bins]);
      process.stdout.write(
        `${opts.out}: float32 [${result.frames}, ${result.bins}]${opts.normalize === 'beats' ? ' (BEATs-normalised)' : ''}\n`,
      );
    });
}

function parseSeconds(text: string): number {
  const seconds = Number(text);
  if (text.trim() === '' || !Number.isFinite(seconds) || seconds <= 0) {
    throw new GenrepError(`--max-duration '${text}': expected a positive number of seconds`, 'BAD_INPUT', {
      field: 'max-duration',
    });
  }
  return seconds;
}
