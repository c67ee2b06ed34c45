/**
 * A clip's log-mel spectrogram on a canvas: the worker sends float32 values (base64), this maps them through a
 * perceptually ordered colour ramp, low frequencies at the bottom. The decoding, colouring and axis ticks (time in
 * seconds, frequency in Hz on the mel-spaced rows, the colour bar in dB) are pure.
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

/** A labelled position along an axis: 0 = left / bottom, 1 = right / top. */
export interface AxisTick {
  label: string;
  fraction: number;
}

/** Time ticks at a round step, at most six, from 0 s to the clip's duration. */
export function timeTicks(durationSec: number): AxisTick[] {
  if (!(durationSec > 0)) return [];
  const steps = [0.1, 0.2, 0.5, 1, 2, 5, 10, 15, 30, 60, 120, 300, 600];
  const step = steps.find((s) => durationSec / s <= 5) ?? Math.ceil(durationSec / 5 / 60) * 60;
  const ticks: AxisTick[] = [];
  for (let i = 0; i * step <= durationSec + 1e-9; i++) {
    const t = i * step;
    ticks.push({ label: step < 1 ? t.toFixed(1) : String(Math.round(t)), fraction: t / durationSec });
  }
  return ticks;
}

/**
 * Where frequencies fall on the image's rows: the worker draws Kaldi's mel filterbank as BEATs uses it (docs/fbank.md:
 * 16 kHz, low_freq 20 Hz, high_freq at Nyquist 8 kHz, mel = 1127 ln(1 + f/700)), filter b peaking at
 * mel_low + (b + 1)·Δ with Δ = (mel_high − mel_low)/(bins + 1). Row b is drawn over [b, b + 1) of the height.
 */
export const FBANK_LOW_HZ = 20;
export const FBANK_HIGH_HZ = 8000;

export function frequencyTicks(bins: number, lowHz = FBANK_LOW_HZ, highHz = FBANK_HIGH_HZ): AxisTick[] {
  if (!(bins > 0)) return [];
  const mel = (f: number): number => 1127 * Math.log(1 + f / 700);
  const delta = (mel(highHz) - mel(lowHz)) / (bins + 1);
  return [100, 250, 500, 1000, 2000, 4000, 8000].flatMap((hz) => {
    const fraction = ((mel(hz) - mel(lowHz)) / delta - 0.5) / bins;
    // The top filter peaks just below Nyquist: 8 kHz lands a hair above the image and is drawn at its top edge.
    if (fraction < 0 || fraction > 1.02) return [];
    return [{ label: hz >= 1000 ? `${hz / 1000}k` : String(hz), fraction: Math.min(1, fraction) }];
  });
}

/** Kaldi's log is natural: ln(power) in dB is 10·log10(power) = ln(power)·10/ln 10. */
export function toDecibels(lnPower: number): number {
  return (lnPower * 10) / Math.LN10;
}

/** The colour bar's labels: the lowest, middle and highest value of the clip, in dB. */
export function colourBarTicks(min: number, max: number): AxisTick[] {
  if (!(Number.isFinite(min) && Number.isFinite(max))) return [];
  if (!(max > min)) return [{ label: `${toDecibels(min).toFixed(0)} dB`, fraction: 0.5 }];
  return [0, 0.5, 1].map((f) => ({ label: `${toDecibels(min + f * (max - min)).toFixed(0)} dB`, fraction: f }));
}

/** The colour bar: the same ramp as the image, low at the bottom. */
export function drawColourBar(canvas: HTMLCanvasElement): void {
  const height = 64;
  canvas.width = 1;
  canvas.height = height;
  const context = canvas.getContext('2d');
  if (!context) return;
  const pixels = new Uint8ClampedArray(height * 4);
  for (let y = 0; y < height; y++) {
    const [r, g, b] = colourAt(1 - y / (height - 1));
    pixels.set([r, g, b, 255], y * 4);
  }
  context.putImageData(new ImageData(pixels, 1, height), 0, 0);
}
