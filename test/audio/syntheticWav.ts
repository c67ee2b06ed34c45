import { createHash } from 'node:crypto';
import { Xoshiro128 } from '../../worker/src/util/xoshiro';

/**
 * Deterministic WAV files of any length, rate and sample format for the reader's bound and identity tests: a
 * tone plus seeded noise per channel, so resampling has in-band and out-of-band content to get wrong. Written
 * straight into one buffer (an hour at 8 kHz is 28.8 MB), without the code under test.
 */
export interface SyntheticWavSpec {
  sampleRate: number;
  seconds: number;
  channels?: number;
  /** 8, 16, 24 or 32-bit PCM, or 32-bit float with `float`. */
  bits?: 8 | 16 | 24 | 32;
  float?: boolean;
  seed?: number;
}

function tag(out: Uint8Array, at: number, id: string): void {
  for (let i = 0; i < 4; i++) out[at + i] = id.charCodeAt(i);
}

export function syntheticWav(spec: SyntheticWavSpec): Uint8Array {
  const channels = spec.channels ?? 1;
  const bits = spec.bits ?? 16;
  const width = bits / 8;
  const frames = Math.round(spec.sampleRate * spec.seconds);
  const dataBytes = frames * channels * width;
  const out = new Uint8Array(44 + dataBytes);
  const view = new DataView(out.buffer);
  tag(out, 0, 'RIFF');
  view.setUint32(4, 36 + dataBytes, true);
  tag(out, 8, 'WAVE');
  tag(out, 12, 'fmt ');
  view.setUint32(16, 16, true);
  view.setUint16(20, spec.float ? 3 : 1, true);
  view.setUint16(22, channels, true);
  view.setUint32(24, spec.sampleRate, true);
  view.setUint32(28, spec.sampleRate * channels * width, true);
  view.setUint16(32, channels * width, true);
  view.setUint16(34, bits, true);
  tag(out, 36, 'data');
  view.setUint32(40, dataBytes, true);
  const random = new Xoshiro128([spec.seed ?? 1, 0x9e3779b9, 0x85ebca6b, 0xc2b2ae35]);
  const step = (2 * Math.PI * 997) / spec.sampleRate;
  let at = 44;
  for (let f = 0; f < frames; f++) {
    for (let c = 0; c < channels; c++, at += width) {
      const x = 0.4 * Math.sin(step * f * (c + 1)) + 0.3 * (random.uniform() - 0.5);
      if (spec.float) view.setFloat32(at, x, true);
      else if (bits === 8) out[at] = Math.round(x * 127) + 128;
      else if (bits === 16) view.setInt16(at, Math.round(x * 32767), true);
      else if (bits === 32) view.setInt32(at, Math.round(x * 2147483647), true);
      else {
        const v = Math.round(x * 8388607) & 0xffffff;
        out[at] = v & 0xff;
        out[at + 1] = (v >> 8) & 0xff;
        out[at + 2] = (v >> 16) & 0xff;
      }
    }
  }
  return out;
}

/** sha256 of a typed array's bytes: pins outputs bit for bit in a line. */
export function sha256Of(values: ArrayBufferView): string {
  return createHash('sha256')
    .update(new Uint8Array(values.buffer, values.byteOffset, values.byteLength))
    .digest('hex');
}
