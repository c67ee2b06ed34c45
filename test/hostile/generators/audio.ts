import { Xoshiro128 } from '../../../worker/src/util/xoshiro';
import { chunk, fmtChunk, riff, type Chunk, type FmtSpec } from '../../audio/wavBytes';
import type { HostileCase } from '../corpus';

/** Hostile audio for test/hostile (see test/fixtures/hostile/README.md). */

/** Seeded 16-bit noise: `bytes` of little-endian samples (an even count). */
function noise16(bytes: number, seed: number): Uint8Array {
  const random = new Xoshiro128([seed, 0x243f6a88, 0x85a308d3, 0x13198a2e]);
  const out = new Uint8Array(bytes);
  const view = new DataView(out.buffer);
  for (let at = 0; at + 1 < bytes; at += 2) view.setInt16(at, Math.round((random.uniform() - 0.5) * 16000), true);
  return out;
}

const mono16 = (sampleRate: number): FmtSpec => ({ formatTag: 1, channels: 1, sampleRate, bitsPerSample: 16 });

/** fmt + `count` empty JUNK chunks + a 1 s 16 kHz data chunk. */
function junkChunks(count: number): Uint8Array {
  const junk: Chunk[] = Array.from({ length: count }, () => chunk('JUNK', new Uint8Array(0)));
  return riff([fmtChunk(mono16(16000)), ...junk, chunk('data', noise16(32000, 5))]);
}

/** A fmt chunk whose byte-rate and block-align fields say what the channel count implies, whatever it is. */
function wideFrames(channels: number, bits: 8 | 16, dataBytes: number, blockAlign?: number): Uint8Array {
  const spec: FmtSpec = { formatTag: 1, channels, sampleRate: 16000, bitsPerSample: bits };
  if (blockAlign !== undefined) spec.blockAlign = blockAlign;
  return riff([fmtChunk(spec), chunk('data', noise16(dataBytes, 6))]);
}

export const cases: HostileCase[] = [
  {
    file: 'audio/rate-1hz-12kb.wav',
    note:
      '12 KB of 16-bit audio whose header says 1 Hz: once resampled to 96 M samples ' +
      '(600 000 fbank frames, 2.9 GB, 111 s, a 307 MB .npy)',
    bytes: () => riff([fmtChunk(mono16(1)), chunk('data', noise16(12 * 1024, 1))]),
  },
  {
    file: 'audio/rate-1hz-40kb.wav',
    note: '40 KB at 1 Hz: once hung fbank and genrep run, and stalled every worker request for 19 s',
    bytes: () => riff([fmtChunk(mono16(1)), chunk('data', noise16(40 * 1024, 2))]),
  },
  {
    file: 'audio/rate-999hz.wav',
    note: 'one hertz under the 1 kHz floor',
    bytes: () => riff([fmtChunk(mono16(999)), chunk('data', noise16(4000, 3))]),
  },
  {
    file: 'audio/rate-1000hz.wav',
    note: 'exactly the 1 kHz floor: accepted, 2 s upsampled 16x',
    bytes: () => riff([fmtChunk(mono16(1000)), chunk('data', noise16(4000, 3))]),
  },
  {
    file: 'audio/rate-768000hz.wav',
    note: 'exactly the 768 kHz ceiling: accepted, 40 ms decimated 48x',
    bytes: () => riff([fmtChunk(mono16(768_000)), chunk('data', noise16(61_440, 4))]),
  },
  {
    file: 'audio/rate-768001hz.wav',
    note: 'one hertz over the 768 kHz ceiling',
    bytes: () => riff([fmtChunk(mono16(768_001)), chunk('data', noise16(4000, 4))]),
  },
  {
    file: 'audio/rate-4294967295hz.wav',
    note: 'a sample rate of 2^32 - 1 Hz, the largest the field holds',
    bytes: () => riff([fmtChunk(mono16(0xffffffff)), chunk('data', noise16(4000, 4))]),
  },
  {
    file: 'audio/channels-65535-8bit.wav',
    note: "65535 channels of 8 bits (block align 65535, the field's maximum) and 20 KB of data: not one whole frame",
    bytes: () => wideFrames(65535, 8, 20_000),
  },
  {
    file: 'audio/channels-4096-8bit.wav',
    note: '4096 channels of 8 bits: valid, 12 frames of 4 KB each, too short for one fbank frame',
    bytes: () => wideFrames(4096, 8, 12 * 4096),
  },
  {
    file: 'audio/channels-65535-16bit.wav',
    note: '65535 channels of 16 bits: the 131070-byte frame cannot be stated in the 16-bit block-align field',
    bytes: () => wideFrames(65535, 16, 4000, 65535),
  },
  {
    file: 'audio/blockalign-65535-mono.wav',
    note: 'mono 16-bit with a block align of 65535 bytes',
    bytes: () => wideFrames(1, 16, 4000, 65535),
  },
  {
    file: 'audio/junk-chunks-1001.wav',
    note: '1001 empty JUNK chunks before the data chunk (the 22 MB file of 2.6 M of them once took genrep info 214 s)',
    bytes: () => junkChunks(1001),
  },
  {
    file: 'audio/junk-chunks-998.wav',
    note: '998 empty JUNK chunks: with fmt and data, exactly the 1000 chunks a header may have, so it is read',
    bytes: () => junkChunks(998),
  },
];
