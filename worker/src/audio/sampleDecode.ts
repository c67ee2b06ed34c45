import { fileError } from '../errors';
import type { ChannelSelection, WavHeader } from './wavTypes';

/**
 * Little-endian sample conversion with torchaudio.load's scaling (its `normalize=True` default), so a clip read
 * here gives the same floats GenRep fed BEATs: 8-bit unsigned (u − 128)/128, 16-bit int16/2^15, 24-bit int24/2^23,
 * 32-bit int32/2^31 (each dividing by a power of two, so the only rounding is the one to float32), float as stored.
 */
type SampleReader = (view: DataView, at: number) => number;

const readU8: SampleReader = (v, at) => (v.getUint8(at) - 128) / 128;
const readI16: SampleReader = (v, at) => v.getInt16(at, true) / 32768;
const readI24: SampleReader = (v, at) =>
  (((v.getUint8(at) | (v.getUint8(at + 1) << 8) | (v.getUint8(at + 2) << 16)) << 8) >> 8) / 8388608;
const readI32: SampleReader = (v, at) => v.getInt32(at, true) / 2147483648;
const readF32: SampleReader = (v, at) => v.getFloat32(at, true);
const readF64: SampleReader = (v, at) => v.getFloat64(at, true);

function readerFor(header: Pick<WavHeader, 'encoding' | 'bitsPerSample'>): SampleReader {
  if (header.encoding === 'float') return header.bitsPerSample === 64 ? readF64 : readF32;
  switch (header.bitsPerSample) {
    case 8:
      return readU8;
    case 16:
      return readI16;
    case 24:
      return readI24;
    default:
      return readI32;
  }
}

/** Checks a channel choice against the file; returns the index, or -1 for the mean. */
export function resolveChannel(file: string, channel: ChannelSelection | undefined, channels: number): number {
  if (channel === undefined) return 0;
  if (channel === 'mean') return -1;
  if (!Number.isInteger(channel) || channel < 0 || channel >= channels) {
    throw fileError(
      file,
      `channel ${String(channel)} requested but the file has ${channels} channel(s) (0..${channels - 1})`,
      'BAD_INPUT',
      {
        field: 'channel',
        expected: `an integer from 0 to ${channels - 1}, or "mean"`,
      },
    );
  }
  return channel;
}

/**
 * Decodes `frames` whole frames from `bytes` (which starts at a frame boundary) into `out[outOffset…]`, keeping
 * one channel (`channelIndex` ≥ 0) or averaging all of them (−1; the sum is taken in float64, then rounded once).
 */
export function decodeFrames(
  header: Pick<WavHeader, 'encoding' | 'bitsPerSample' | 'channels' | 'blockAlign'>,
  bytes: Uint8Array,
  frames: number,
  channelIndex: number,
  out: Float32Array,
  outOffset: number,
): void {
  const read = readerFor(header);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const { blockAlign, channels } = header;
  const sampleBytes = header.bitsPerSample / 8;
  if (channelIndex >= 0) {
    let at = channelIndex * sampleBytes;
    for (let f = 0; f < frames; f++, at += blockAlign) out[outOffset + f] = read(view, at);
    return;
  }
  let at = 0;
  for (let f = 0; f < frames; f++) {
    let sum = 0;
    for (let c = 0; c < channels; c++, at += sampleBytes) sum += read(view, at);
    out[outOffset + f] = sum / channels;
  }
}
