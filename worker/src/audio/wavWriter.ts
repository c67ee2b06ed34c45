import { GenrepError } from '../errors';

/**
 * Mono 16-bit PCM WAV bytes (canonical 44-byte header), for tests and synthetic datasets. Samples are scaled by
 * 32768 and rounded, so anything that came from a 16-bit file (k/32768) survives the round trip exactly; values
 * outside [-1, 1) are clipped and NaN becomes 0. Write the result with writeFileAtomic.
 */
export function encodeWavPcm16(samples: Float32Array, sampleRate: number): Uint8Array {
  if (!Number.isInteger(sampleRate) || sampleRate <= 0 || sampleRate > 0xffffffff) {
    throw new GenrepError(`encodeWavPcm16: sampleRate must be a positive integer, got ${sampleRate}`, 'BAD_INPUT', {
      field: 'sampleRate',
    });
  }
  const dataBytes = samples.length * 2;
  if (44 + dataBytes - 8 > 0xffffffff) {
    throw new GenrepError(
      `encodeWavPcm16: ${samples.length} samples do not fit in a RIFF file (4 GiB limit)`,
      'BAD_INPUT',
    );
  }
  const bytes = new Uint8Array(44 + dataBytes);
  const view = new DataView(bytes.buffer);
  const tag = (at: number, s: string): void => {
    for (let i = 0; i < 4; i++) bytes[at + i] = s.charCodeAt(i);
  };
  tag(0, 'RIFF');
  view.setUint32(4, 36 + dataBytes, true);
  tag(8, 'WAVE');
  tag(12, 'fmt ');
  view.setUint32(16, 16, true);
  view.setUint16(20, 1, true); // PCM
  view.setUint16(22, 1, true); // mono
  view.setUint32(24, sampleRate, true);
  view.setUint32(28, sampleRate * 2, true);
  view.setUint16(32, 2, true);
  view.setUint16(34, 16, true);
  tag(36, 'data');
  view.setUint32(40, dataBytes, true);
  for (let i = 0; i < samples.length; i++) {
    const x = samples[i]!; // i < samples.length
    const v = Number.isNaN(x) ? 0 : Math.round(x * 32768);
    view.setInt16(44 + 2 * i, v > 32767 ? 32767 : v < -32768 ? -32768 : v, true);
  }
  return bytes;
}
