import { promises as fsp } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import { fileError, GenrepError } from '../errors';
import { fsError, MISSING_FILE_WORDING } from '../io/fsErrors';
import { MAX_SAMPLE_RATE, MIN_SAMPLE_RATE, parseWavHeader } from './riffHeader';
import { BlockResampler } from './resample';
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
/** Header reads fetch this much at once, so walking a header of many small chunks costs one read, not one each. */
const HEADER_READ_BYTES = 64 * 1024;
/** Whole-clip reads (fbank, spectrogram) refuse more audio than this unless the caller raises maxDurationSec. */
export const DEFAULT_MAX_DURATION_SEC = 600;

function infoOf(header: WavHeader): WavInfo {
  const { file, formatTag, encoding, extensible, bitsPerSample, channels, sampleRate, frames, durationSec } = header;
  return { file, formatTag, encoding, extensible, bitsPerSample, channels, sampleRate, frames, durationSec };
}

function targetRateOf(options: ReadWavOptions | undefined): number | null {
  const rate = options?.targetSampleRate;
  if (rate === undefined) return DEFAULT_TARGET_RATE;
  if (rate === null || rate === 0) return null;
  if (!Number.isInteger(rate) || rate < MIN_SAMPLE_RATE || rate > MAX_SAMPLE_RATE) {
    const range = `from ${MIN_SAMPLE_RATE} to ${MAX_SAMPLE_RATE}`;
    throw new GenrepError(`targetSampleRate must be a whole number of Hz ${range}, got ${rate}`, 'BAD_INPUT', {
      field: 'targetSampleRate',
      expected: `${MIN_SAMPLE_RATE} … ${MAX_SAMPLE_RATE}, or null for the file's own rate`,
    });
  }
  return rate;
}

/** What one read produces: which channel, at what rate, how many samples, and the resampler when rates differ. */
interface ReadPlan {
  header: WavHeader;
  channel: number;
  rate: number;
  length: number;
  resampler: BlockResampler | undefined;
}

function planRead(header: WavHeader, options: ReadWavOptions | undefined): ReadPlan {
  const { file } = header;
  const channel = resolveChannel(file, options?.channel, header.channels);
  const target = targetRateOf(options);
  const maxSamples = options?.maxSamples ?? Infinity;
  if (maxSamples !== Infinity && !(Number.isInteger(maxSamples) && maxSamples > 0)) {
    throw new GenrepError(`maxSamples must be a positive integer, got ${maxSamples}`, 'BAD_INPUT', {
      field: 'maxSamples',
    });
  }
  const maxDuration = options?.maxDurationSec ?? DEFAULT_MAX_DURATION_SEC;
  if (!(maxDuration > 0)) {
    throw new GenrepError(`maxDurationSec must be positive, got ${maxDuration}`, 'BAD_INPUT', {
      field: 'maxDurationSec',
    });
  }
  const rate = target ?? header.sampleRate;
  const resampler = rate === header.sampleRate ? undefined : new BlockResampler(header.frames, header.sampleRate, rate);
  const length = Math.min(resampler ? resampler.fullLength : header.frames, maxSamples);
  const seconds = length / rate;
  if (seconds > maxDuration) {
    const raise = options?.maxDurationOption ? `; ${options.maxDurationOption} raises the limit` : '';
    const length = `${header.durationSec.toFixed(3)} s long (${header.frames} frames at ${header.sampleRate} Hz)`;
    throw fileError(file, `the clip is ${length}, over the ${maxDuration} s this command reads${raise}`, 'BAD_INPUT', {
      field: 'duration',
      expected: `at most ${maxDuration} s`,
    });
  }
  return { header, channel, rate, length, resampler };
}

/** A request for the data chunk's whole frames [first, first + count); the driver answers with their bytes. */
interface FrameRequest {
  first: number;
  count: number;
}

/**
 * The samples a plan asks for, as a generator that requests frame ranges instead of holding the file, so the same
 * code serves bytes in memory (decodeWav) and a file handle (readWav). Each request is at most a read block plus
 * the resampler's overlap; when resampling, each block of output is computed from a window of the frames it reads,
 * so only `plan.length` outputs' worth of the file is decoded and nothing of the file's length is held at once.
 */
function* decodeSamples(plan: ReadPlan): Generator<FrameRequest, Float32Array, Uint8Array> {
  const { header, channel, length, resampler } = plan;
  const out = new Float32Array(length);
  const blockFrames = Math.max(1, Math.floor(READ_BLOCK_BYTES / header.blockAlign));
  if (!resampler) {
    for (let first = 0; first < length; first += blockFrames) {
      const count = Math.min(blockFrames, length - first);
      decodeFrames(header, yield { first, count }, count, channel, out, first);
    }
    return out;
  }
  const outputsPerBlock = Math.max(1, Math.floor((blockFrames * resampler.toRate) / resampler.fromRate));
  let window = new Float32Array(0);
  for (let k0 = 0; k0 < length; k0 += outputsPerBlock) {
    const k1 = Math.min(length, k0 + outputsPerBlock);
    const { start, end } = resampler.inputRange(k0, k1);
    const count = end - start;
    if (window.length < count) window = new Float32Array(count);
    if (count > 0) decodeFrames(header, yield { first: start, count }, count, channel, window, 0);
    resampler.run(window, start, k0, k1, out, k0);
  }
  return out;
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
  const plan = planRead(header, options);
  const decoder = decodeSamples(plan);
  let request = decoder.next();
  while (!request.done) {
    const at = header.dataOffset + request.value.first * header.blockAlign;
    request = decoder.next(bytes.subarray(at, at + request.value.count * header.blockAlign));
  }
  return { samples: request.value, sampleRate: plan.rate, info: infoOf(header) };
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

/** The words this reader has always used for a path that is not a readable WAV file (tests and users match them). */
const WAV_OPEN_WORDING = { ...MISSING_FILE_WORDING, EISDIR: 'is a directory, not a WAV file' };

function openError(file: string, err: unknown): GenrepError {
  return fsError(err, file, { action: 'open', wording: WAV_OPEN_WORDING });
}

/** Fills `target` from `position`, looping over short reads; a file that shrank since stat is reported as such. */
async function readFully(file: string, handle: FileHandle, target: Uint8Array, position: number): Promise<void> {
  let done = 0;
  while (done < target.length) {
    const { bytesRead } = await handle.read(target, done, target.length - done, position + done);
    if (bytesRead === 0) {
      throw fileError(
        file,
        `file ended at byte ${position + done} while reading (was it truncated while being read?)`,
        'CORRUPT',
      );
    }
    done += bytesRead;
  }
}

/**
 * The header, read through a HEADER_READ_BYTES buffer: the parser asks for many small ranges (8 bytes per chunk
 * header), and most of them fall in the block already read.
 */
async function readHeader(file: string, handle: FileHandle, size: number): Promise<WavHeader> {
  const parser = parseWavHeader(file, size);
  let buffered = new Uint8Array(0);
  let bufferedAt = 0;
  let step = parser.next();
  while (!step.done) {
    const { offset } = step.value;
    const length = Math.max(0, Math.min(step.value.length, size - offset));
    if (offset < bufferedAt || offset + length > bufferedAt + buffered.length) {
      buffered = new Uint8Array(Math.min(Math.max(length, HEADER_READ_BYTES), size - offset));
      bufferedAt = offset;
      await readFully(file, handle, buffered, offset);
    }
    step = parser.next(buffered.subarray(offset - bufferedAt, offset - bufferedAt + length));
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

/**
 * Reads one channel (or the channel mean) of a WAV file and resamples it to 16 kHz unless told otherwise, in
 * blocks: memory holds the output and one block, and with `maxSamples` only the frames those samples need are read.
 */
export async function readWav(file: string, options?: ReadWavOptions): Promise<Audio> {
  const { handle, size } = await openWav(file);
  try {
    const header = await readHeader(file, handle, size);
    const plan = planRead(header, options);
    const decoder = decodeSamples(plan);
    let buffer = new Uint8Array(0);
    let request = decoder.next();
    while (!request.done) {
      const bytes = request.value.count * header.blockAlign;
      if (buffer.length < bytes) buffer = new Uint8Array(bytes);
      const block = buffer.subarray(0, bytes);
      await readFully(file, handle, block, header.dataOffset + request.value.first * header.blockAlign);
      request = decoder.next(block);
    }
    return { samples: request.value, sampleRate: plan.rate, info: infoOf(header) };
  } finally {
    await handle.close();
  }
}
