import type { Command } from 'commander';
import { readWavInfo, type WavInfo } from '../../audio';

/** One human-readable block; the format line says what a person would look for first (is it float? extensible?). */
export function formatWavInfo(info: WavInfo): string {
  const encoding = info.encoding === 'pcm' ? 'PCM' : 'IEEE float';
  const tag = `0x${info.formatTag.toString(16).toUpperCase().padStart(4, '0')}`;
  const container = info.extensible ? `WAVE_FORMAT_EXTENSIBLE (format tag ${tag})` : `format tag ${tag}`;
  const lines: Array<[string, string]> = [
    ['file', info.file],
    ['format', `${encoding}, ${info.bitsPerSample}-bit, ${container}`],
    ['channels', String(info.channels)],
    ['sample rate', `${info.sampleRate} Hz`],
    ['frames', String(info.frames)],
    ['duration', `${info.durationSec.toFixed(3)} s`],
  ];
  return lines.map(([k, v]) => `${`${k}:`.padEnd(13)}${v}\n`).join('');
}

/** `genrep info <file.wav>`: the header of a WAV file, without reading its samples. */
export function registerInfoCommand(program: Command): void {
  program
    .command('info <file>')
    .description("show a WAV file's format, channels, sample rate, frames and duration (reads the header only)")
    .option('--json', 'print one JSON object instead of text')
    .action(async (file: string, opts: { json?: boolean }) => {
      const info = await readWavInfo(file);
      process.stdout.write(opts.json ? `${JSON.stringify(info)}\n` : formatWavInfo(info));
    });
}
