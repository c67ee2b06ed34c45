/**
 * A clip's log-mel spectrogram on a canvas: the worker sends float32 values (base64), this maps them through a
 * perceptually ordered colour ramp, low frequencies at the bottom. The decoding and colouring are pure.
 */
export function decodeFloat32(base64: string): Float32Array {
  const binary = atob(base64);
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return new Float32Array(bytes.buffer, 0, Math.floor(bytes.length / 4));
}

/** Viridis at 9 stops, interpolated: dark blue (quiet) → yellow (loud); readable in light and dark themes. */
const RAMP: readonly [number, number, number][] = [
  [68, 1, 84],
  [72, 40, 120],
  [62, 74, 137],
  [49, 104, 142],
  [38, 130, 142],
  [31, 158, 137],
  [53, 183, 121],
  [110, 206, 88],
  [253, 231, 37],
];

export function colourAt(t: number): [number, number, number] {
  const x = Math.min(1, Math.max(0, Number.isFinite(t) ? t : 0)) * (RAMP.length - 1);
  const i = Math.min(RAMP.length - 2, Math.floor(x));
  const f = x - i;
  const a = RAMP[i]!;
  const b = RAMP[i + 1]!;
  return [
    Math.round(a[0] + f * (b[0] - a[0])),
    Math.round(a[1] + f * (b[1] - a[1])),
    Math.round(a[2] + f * (b[2] - a[2])),
  ];
}

/** RGBA pixels, width = frames (time left to right), height = bins (low frequency at the bottom). */
export function spectrogramPixels(
  data: Float32Array,
  frames: number,
  bins: number,
  min: number,
  max: number,
): Uint8ClampedArray<ArrayBuffer> {
  const pixels = new Uint8ClampedArray(frames * bins * 4);
  const span = max > min ? max - min : 1;
  for (let f = 0; f < frames; f++) {
    for (let b = 0; b < bins; b++) {
      const [r, g, bl] = colourAt((data[f * bins + b]! - min) / span);
      const at = ((bins - 1 - b) * frames + f) * 4;
      pixels[at] = r;
      pixels[at + 1] = g;
      pixels[at + 2] = bl;
      pixels[at + 3] = 255;
    }
  }
  return pixels;
}

export function drawSpectrogram(
  canvas: HTMLCanvasElement,
  s: { data: string; frames: number; bins: number; min: number; max: number },
): void {
  const data = decodeFloat32(s.data);
  canvas.width = s.frames;
  canvas.height = s.bins;
  const context = canvas.getContext('2d');
  if (!context) return;
  context.putImageData(new ImageData(spectrogramPixels(data, s.frames, s.bins, s.min, s.max), s.frames, s.bins), 0, 0);
}
