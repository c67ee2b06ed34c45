import { Command, Option } from 'commander';
import { readWav } from '../../audio';
import { BEATS_FBANK_OPTIONS, BEATS_WAVEFORM_SCALE, beatsFbank, fbank } from '../../fbank';
import { writeNpy } from '../../io/npy';
import { GenrepError } from '../../errors';
import { parseChannel } from '../parse';

/**
 * `genrep fbank`: the Kaldi log-mel fbank with BEATs' arguments as a float32 .npy [frames, 128].
 * Without --normalize the whole clip is used (torchaudio's output for the clip as it is); with --normalize beats
 * the clip is cropped / zero-padded to 10 s and normalised exactly as BEATs' preprocess does ([998, 128]).
 */
export function registerFbankCommand(program: Command): void {
  program
    .command('fbank <file>')
    .description('Kaldi log-mel filterbank (torchaudio.compliance.kaldi.fbank with BEATs\' arguments) as float32 .npy [frames, 128]')
    .requiredOption('--out <file.npy>', 'output .npy file')
    .addOption(new Option('--normalize <kind>', 'none: raw log-mel of the whole clip; beats: crop/pad to 10 s and normalise as BEATs').choices(['none', 'beats']).default('none'))
    .option('--channel <n|mean>', 'channel of a multi-channel file: an index or "mean"', '0')
    .action(async (file: string, opts: { out: string; normalize: 'none' | 'beats'; channel: string }) => {
      const channel = parseChannel(opts.channel);
      const audio = await readWav(file, { channel, targetSampleRate: 16000 });
      let result;
      try {
        if (opts.normalize === 'beats') {
          result = beatsFbank(audio.samples);
        } else {
          const scaled = new Float32Array(audio.samples.length);
          for (let i = 0; i < scaled.length; i++) scaled[i] = audio.samples[i]! * BEATS_WAVEFORM_SCALE;
          result = fbank(scaled, BEATS_FBANK_OPTIONS);
        }
      } catch (err) {
        // The fbank does not know the file name; an error about the clip is an error about this file.
        if (err instanceof GenrepError) throw new GenrepError(`${file}: ${err.message}`, err.code, { ...err.data, file });
        throw err;
      }
      await writeNpy(opts.out, result.data, [result.frames, result.bins]);
      process.stdout.write(`${opts.out}: float32 [${result.frames}, ${result.bins}]${opts.normalize === 'beats' ? ' (BEATs-normalised)' : ''}\n`);
    });
}
