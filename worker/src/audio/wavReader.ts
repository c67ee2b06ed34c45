import { promises as fsp } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import { fileError, GenrepError } from '../errors';
import { parseWavHeader } from './riffHeader';
import { resample } from './resample';
import { decodeFrames, resolveChannel } from './sampleDecode';
import type { Audio, ReadWavOptions, WavHeader, WavInfo } from './wavTypes';

/**
 * WAV reading. The RIFF parsing is our own (riffHeader.ts) rather than a package's: the maintained-looking npm
 * readers (wavefile, node-wav, wav-decoder) all load the whole file, accept truncated data silently or throw
 * messages without the file name, and none reads only the header of a large file. The format itself is small.
 */

const DEFAULT_TARGET_RATE = 16000;
/** Data is read and decoded in blocks this size, so an 8-channel file never sits whole in memory. */
const READ_BLOCK_BYTES = 4 * 1024 * 1024;

function infoOf(header: WavHeader): WavInfo {
  const { file, formatTag, encoding, extensible, bitsPerSample, channels, sampleRate, frames, durationSec } = header;
  return { file, formatTag, encoding, extensible, bitsPerSample, channels, sampleRate, frames, durationSec };
}

function targetRateOf(options: ReadWavOptions | undefined): number | null {
  const rate = options?.targetSampleRate;
  if (rate === undefined) return DEFAULT_TARGET_RATE;
  if (rate === null || rate === 0) return null;
  return rate;
}

function finish(header: WavHeader, native: Float32Array, options: ReadWavOptions | undefined): Audio {
  const target = targetRateOf(options);
  if (target === null || target === header.sampleRate) {
    return { samples: native, sampleRate: header.sampleRate, info: infoOf(header) };
  }
  return { samples: resample(native, header.sampleRate, target), sampleRate: target, info: infoOf(header) };
}

/** Decodes a WAV file already in memory; `file` only names it in errors and in `info`. */
export function decodeWav(bytes: Uint8Array, file: string, options?: ReadWavOptions): Audio {
  const parser = parseWavHeader(file, bytes.length);
  let step = parser.next();
  while (!step.done) {
    const { offset, length } = step.value;
    step = parser.next(bytes.subarray(offset, offset + length));
  }
  const header = step.value;
  const channel = resolveChannel(file, options?.channel, header.channels);
  const native = new Float32Array(header.frames);
  decodeFrames(header, bytes.subarray(header.dataOffset, header.dataOffset + header.dataBytes), header.frames, channel, native, 0);
  return finish(header, native, options);
}

/** Opens a file for reading, turning the ways that fails into errors that name the file and the reason. */
async function openWav(file: string): Promise<{ handle: FileHandle; size: number }> {
  let stats;
  try {
    stats = await fsp.stat(file);
  } catch (err) {
    throw openError(file, err);
  }
  if (stats.isDirectory()) {
    throw fileError(file, 'is a directory, not a WAV file', 'BAD_INPUT', { expected: 'a WAV file' });
  }
  if (!stats.isFile()) {
    throw fileError(file, 'is not a regular file (device, pipe or socket)', 'BAD_INPUT', { expected: 'a WAV file' });
  }
  try {
    const handle = await fsp.open(file, 'r');
    return { handle, size: stats.size };
  } catch (err) {
    throw openError(file, err);
  }
}

function openError(file: string, err: unknown): GenrepError {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  if (code === 'ENOENT') return fileError(file, 'no such file', 'NOT_FOUND');
  if (code === 'ENOTDIR') return fileError(file, 'no such file (a parent in the path is not a directory)', 'NOT_FOUND');
  if (code === 'EACCES' || code === 'EPERM') return fileError(file, 'permission denied', 'BAD_INPUT');
  if (code === 'EISDIR') return fileError(file, 'is a directory, not a WAV file', 'BAD_INPUT', { expected: 'a WAV file' });
  return fileError(file, `cannot open: ${err instanceof Error ? err.message : String(err)}`, 'BAD_INPUT');
}

/** Fills `target` from `position`, looping over short reads; a file that shrank since stat is reported as such. */
async function readFully(file: string, handle: FileHandle, target: Uint8Array, position: number): Promise<void> {
  let done = 0;
  while (done < target.length) {
    const { bytesRead } = await handle.read(target, done, target.length - done, position + done);
    if (bytesRead === 0) {
      throw fileError(file, `file ended at byte ${position + done} while reading (was it truncated while being read?)`, 'CORRUPT');
    }
    done += bytesRead;
  }
}

async function readHeader(file: string, handle: FileHandle, size: number): Promise<WavHeader> {
  const parser = parseWavHeader(file, size);
  let step = parser.next();
  while (!step.done) {
    const { offset, length } = step.value;
    const chunk = new Uint8Array(Math.max(0, Math.min(length, size - offset)));
    await readFully(file, handle, chunk, offset);
    step = parser.next(chunk);
  }
  return step.value;
}

/** Reads only the header chunks (a few small reads, however long the file). */
export async function readWavInfo(file: string): Promise<WavInfo> {
  const { handle, size } = await openWav(file);
  try {
    return infoOf(await readHeader(file, handle, size));
  } finally {
    await handle.close();
  }
}

/** Reads one channel (or the channel mean) of a WAV file and resamples it to 16 kHz unless told otherwise. */
export async function readWav(file: string, options?: ReadWavOptions): Promise<Audio> {
  const { handle, size } = await openWav(file);
  let header: WavHeader;
  let native: Float32Array;
  try {
    header = await readHeader(file, handle, size);
    const channel = resolveChannel(file, options?.channel, header.channels);
    native = new Float32Array(header.frames);
    const blockFrames = Math.max(1, Math.floor(READ_BLOCK_BYTES / header.blockAlign));
    const buffer = new Uint8Array(Math.min(header.frames, blockFrames) * header.blockAlign);
    for (let frame = 0; frame < header.frames; frame += blockFrames) {
      const frames = Math.min(blockFrames, header.frames - frame);
      const block = buffer.subarray(0, frames * header.blockAlign);
      await readFully(file, handle, block, header.dataOffset + frame * header.blockAlign);
      decodeFrames(header, block, frames, channel, native, frame);
    }
  } finally {
    await handle.close();
  }
  return finish(header, native, options);
}
