import { GenrepError } from '../../errors';
import { ComplexFft, RealFftPower } from '../../fbank/fft';
import type { LogMelFrontEnd } from '../../protocol/encoderDescriptor';
import type { FrontEndOutput, FrontEndRunner } from '../frontEnd';
import { badField, finiteNumber, knownKeys, objectAt, oneOf, optionalBoolean, positiveInteger } from './fields';
import { melFilters } from './melFilters';
import { readWaveformPrep, toModelRate, type WaveformPrep } from './waveform';

/** Every field a log-mel front-end may have (anything else is refused as a likely typo). */
export const LOG_MEL_KEYS: readonly string[] = [
  'kind',
  'sampleRate',
  'scale',
  'n_fft',
  'hop_length',
  'win_length',
  'window',
  'periodic',
  'center',
  'pad_mode',
  'power',
  'n_mels',
  'f_min',
  'f_max',
  'mel_scale',
  'norm',
  'log',
  'whisper',
  'preemphasis',
  'affine',
];

interface LogMelPlan {
  prep: WaveformPrep;
  n_fft: number;
  hop: number;
  window: Float64Array;
  center: boolean;
  pad_mode: 'reflect' | 'constant';
  power: 1 | 2;
  n_mels: number;
  /** (n_mels × n_freqs) dense mel matrix, held as (first, weights) runs of its non-zero entries. */
  first: Int32Array;
  offsets: Int32Array;
  weights: Float64Array;
  log: { kind: 'ln' | 'log10' | 'db'; amin: number; offset: number; top_db: number | undefined };
  whisper: boolean;
  preemphasis: number;
  affine: { offset: number; divide: number } | undefined;
}

/**
 * torch's windows (hann_window / hamming_window) of length win_length: periodic (torch's default) divides by
 * length, symmetric (periodic=False) by length − 1; torch gives a symmetric window of length 1 as [1].
 */
function torchWindow(kind: 'hann' | 'hamming' | 'rectangular', length: number, periodic: boolean): Float64Array {
  const w = new Float64Array(length);
  const period = periodic ? length : length - 1;
  if (period === 0) return w.fill(1);
  // In bounds: i < length.
  for (let i = 0; i < length; i++) {
    const c = Math.cos((2 * Math.PI * i) / period);
    w[i] = kind === 'hann' ? 0.5 - 0.5 * c : kind === 'hamming' ? 0.54 - 0.46 * c : 1;
  }
  return w;
}

export function planLogMel(raw: LogMelFrontEnd): LogMelPlan {
  const fe = raw as unknown as Record<string, unknown>;
  knownKeys(fe, '/frontEnd', LOG_MEL_KEYS);
  const prep = readWaveformPrep(fe, false);
  const n_fft = positiveInteger(fe['n_fft'], '/frontEnd/n_fft', 2);
  const hop = positiveInteger(fe['hop_length'], '/frontEnd/hop_length');
  const win_length = fe['win_length'] === undefined ? n_fft : positiveInteger(fe['win_length'], '/frontEnd/win_length');
  if (win_length > n_fft) throw badField('/frontEnd/win_length', `at most n_fft (${n_fft})`, win_length);
  const windowKind = oneOf(fe['window'], '/frontEnd/window', ['hann', 'hamming', 'rectangular'] as const);
  const periodic = fe['periodic'] === undefined ? true : optionalBoolean(fe['periodic'], '/frontEnd/periodic');
  if (typeof fe['center'] !== 'boolean') throw badField('/frontEnd/center', 'true or false', fe['center']);
  const pad_mode =
    fe['pad_mode'] === undefined
      ? 'reflect'
      : oneOf(fe['pad_mode'], '/frontEnd/pad_mode', ['reflect', 'constant'] as const);
  const power = oneOf(fe['power'], '/frontEnd/power', [1, 2] as const);
  const n_mels = positiveInteger(fe['n_mels'], '/frontEnd/n_mels');
  const nyquist = prep.sampleRate / 2;
  const f_min = finiteNumber(fe['f_min'], '/frontEnd/f_min');
  if (f_min < 0 || f_min >= nyquist) throw badField('/frontEnd/f_min', `a frequency in [0, ${nyquist}) Hz`, f_min);
  const f_max = fe['f_max'] === undefined ? nyquist : finiteNumber(fe['f_max'], '/frontEnd/f_max');
  if (!(f_max > f_min && f_max <= nyquist)) {
    throw badField('/frontEnd/f_max', `a frequency in (f_min = ${f_min}, ${nyquist}] Hz (Nyquist)`, f_max);
  }
  const mel_scale = oneOf(fe['mel_scale'], '/frontEnd/mel_scale', ['htk', 'slaney', 'kaldi'] as const);
  const norm = fe['norm'] === undefined ? undefined : oneOf(fe['norm'], '/frontEnd/norm', ['slaney'] as const);
  if (mel_scale === 'kaldi') {
    if (norm !== undefined) throw badField('/frontEnd/norm', "nothing with mel_scale 'kaldi'", norm);
    if (n_fft % 2 !== 0) throw badField('/frontEnd/n_fft', "an even size with mel_scale 'kaldi'", n_fft);
    if (n_mels <= 3) throw badField('/frontEnd/n_mels', "more than 3 with mel_scale 'kaldi'", n_mels);
  }
  const logRaw = objectAt(fe['log'], '/frontEnd/log');
  knownKeys(logRaw, '/frontEnd/log', ['kind', 'amin', 'offset', 'top_db']);
  const logKind = oneOf(logRaw['kind'], '/frontEnd/log/kind', ['ln', 'log10', 'db'] as const);
  const amin = logRaw['amin'] === undefined ? 1e-10 : finiteNumber(logRaw['amin'], '/frontEnd/log/amin');
  if (!(amin > 0)) throw badField('/frontEnd/log/amin', 'a positive number', amin);
  const offset = logRaw['offset'] === undefined ? 0 : finiteNumber(logRaw['offset'], '/frontEnd/log/offset');
  if (offset < 0) throw badField('/frontEnd/log/offset', 'zero or positive', offset);
  let top_db: number | undefined;
  if (logRaw['top_db'] !== undefined) {
    top_db = finiteNumber(logRaw['top_db'], '/frontEnd/log/top_db');
    if (!(top_db > 0)) throw badField('/frontEnd/log/top_db', 'a positive number of dB', top_db);
    if (logKind !== 'db') throw badField('/frontEnd/log/top_db', "nothing unless log.kind is 'db'", top_db);
  }
  const whisper = optionalBoolean(fe['whisper'], '/frontEnd/whisper');
  if (whisper && logKind !== 'log10') throw badField('/frontEnd/log/kind', '"log10" with whisper', logKind);
  const preemphasis = fe['preemphasis'] === undefined ? 0 : finiteNumber(fe['preemphasis'], '/frontEnd/preemphasis');
  if (preemphasis < 0 || preemphasis > 1)
    throw badField('/frontEnd/preemphasis', 'a coefficient in [0, 1]', preemphasis);
  let affine: LogMelPlan['affine'];
  if (fe['affine'] !== undefined) {
    const a = objectAt(fe['affine'], '/frontEnd/affine');
    knownKeys(a, '/frontEnd/affine', ['offset', 'divide']);
    const divide = finiteNumber(a['divide'], '/frontEnd/affine/divide');
    if (divide === 0) throw badField('/frontEnd/affine/divide', 'a non-zero number', divide);
    affine = { offset: finiteNumber(a['offset'], '/frontEnd/affine/offset'), divide };
  }

  // torch.stft centres a shorter window in the n_fft frame: (n_fft − win_length) // 2 zeros on the left.
  const window = new Float64Array(n_fft);
  window.set(torchWindow(windowKind, win_length, periodic), Math.floor((n_fft - win_length) / 2));
  const dense = melFilters(mel_scale, n_fft, prep.sampleRate, n_mels, f_min, f_max, norm);
  const { first, offsets, weights } = sparseRows(dense, n_mels, Math.floor(n_fft / 2) + 1);
  return {
    prep,
    n_fft,
    hop,
    window,
    center: fe['center'],
    pad_mode,
    power,
    n_mels,
    first,
    offsets,
    weights,
    log: { kind: logKind, amin, offset, top_db },
    whisper,
    preemphasis,
    affine,
  };
}

/** Each triangle's support is one contiguous run of FFT bins: keep only that run per row. */
function sparseRows(dense: Float64Array, rows: number, cols: number) {
  const first = new Int32Array(rows);
  const offsets = new Int32Array(rows + 1);
  const parts: Float64Array[] = [];
  let total = 0;
  // In bounds: r < rows and k < cols, so r·cols + k < dense.length.
  for (let r = 0; r < rows; r++) {
    let lo = 0;
    while (lo < cols && dense[r * cols + lo] === 0) lo++;
    let hi = cols;
    while (hi > lo && dense[r * cols + hi - 1] === 0) hi--;
    first[r] = lo;
    offsets[r] = total;
    parts.push(dense.subarray(r * cols + lo, r * cols + hi));
    total += hi - lo;
  }
  offsets[rows] = total;
  const weights = new Float64Array(total);
  parts.forEach((p, r) => weights.set(p, offsets[r]));
  return { first, offsets, weights };
}

/** STFT log-mel, as torch.stft + torchaudio's MelScale / AmplitudeToDB, or Whisper's log_mel_spectrogram. */
export class LogMelRunner implements FrontEndRunner {
  readonly sampleRate: number;
  readonly bins: number;
  /** Even n_fft (every real front-end): the fbank's real-input FFT, half the work; odd n_fft: a complex FFT. */
  private readonly realFft: RealFftPower | undefined;
  private readonly fft: ComplexFft | undefined;
  private readonly frame: Float64Array;
  private readonly spectrum: Float64Array;

  constructor(private readonly plan: LogMelPlan) {
    this.sampleRate = plan.prep.sampleRate;
    this.bins = plan.n_mels;
    const even = plan.n_fft % 2 === 0;
    this.realFft = even ? new RealFftPower(plan.n_fft) : undefined;
    this.fft = even ? undefined : new ComplexFft(plan.n_fft);
    // Real frames for the real FFT; interleaved (re, im) for the complex one, whose imaginary parts stay 0.
    this.frame = new Float64Array(even ? plan.n_fft : 2 * plan.n_fft);
    this.spectrum = new Float64Array(Math.floor(plan.n_fft / 2) + 1);
  }

  toModelRate(clip16k: Float32Array): Float32Array {
    return toModelRate(clip16k, this.plan.prep);
  }

  features(waveform: Float32Array): Promise<FrontEndOutput> {
    // A bad clip becomes a rejection, not a synchronous throw from a Promise-returning method.
    return Promise.resolve().then(() => this.compute(waveform));
  }

  compute(waveform: Float32Array): FrontEndOutput {
    const p = this.plan;
    let x: Float32Array | Float64Array = waveform;
    if (p.preemphasis > 0) {
      // EfficientAT's conv1d with [−c, 1]: y[n] = x[n + 1] − c·x[n], one sample shorter than the clip.
      const y = new Float64Array(Math.max(0, x.length - 1));
      // In bounds: n + 1 < x.length.
      for (let n = 0; n < y.length; n++) y[n] = x[n + 1]! - p.preemphasis * x[n]!;
      x = y;
    }
    const pad = p.center ? Math.floor(p.n_fft / 2) : 0;
    if (p.center && p.pad_mode === 'reflect' && x.length <= pad) {
      throw new GenrepError(
        `clip has ${x.length} samples at ${this.sampleRate} Hz; reflect padding of ${pad} needs more than ${pad}`,
        'BAD_INPUT',
        { field: 'waveform', expected: `more than ${pad} samples` },
      );
    }
    const padded = x.length + 2 * pad;
    if (padded < p.n_fft) {
      throw new GenrepError(
        `clip has ${x.length} samples at ${this.sampleRate} Hz, shorter than one ${p.n_fft}-sample frame`,
        'BAD_INPUT',
        { field: 'waveform', expected: `at least ${p.n_fft - 2 * pad} samples` },
      );
    }
    const stftFrames = 1 + Math.floor((padded - p.n_fft) / p.hop);
    const frames = p.whisper ? stftFrames - 1 : stftFrames;
    const bins = p.n_mels;
    const out = new Float64Array(frames * bins);
    const n = x.length;
    const frame = this.frame;
    const spectrum = this.spectrum;
    const n_freqs = spectrum.length;
    for (let t = 0; t < frames; t++) {
      const start = t * p.hop - pad;
      // In bounds: j < n_fft, frame holds n_fft (real) or 2·n_fft (complex), window n_fft; the source index s is
      // mapped into [0, n) by reflection (n > pad, so one reflection suffices) or read as 0 outside it.
      const step = this.realFft ? 1 : 2;
      for (let j = 0; j < p.n_fft; j++) {
        let s = start + j;
        let v = 0;
        if (s >= 0 && s < n) v = x[s]!;
        else if (p.pad_mode === 'reflect') {
          s = s < 0 ? -s : 2 * (n - 1) - s;
          v = x[s]!;
        }
        frame[step * j] = v * p.window[j]!;
      }
      if (this.realFft) {
        this.realFft.power(frame, spectrum);
      } else {
        const z = this.fft!.forward(frame);
        // In bounds: k < n_freqs ≤ n_fft, z holds 2·n_fft.
        for (let k = 0; k < n_freqs; k++) spectrum[k] = z[2 * k]! * z[2 * k]! + z[2 * k + 1]! * z[2 * k + 1]!;
      }
      // In bounds: k < n_freqs = spectrum.length.
      if (p.power === 1) for (let k = 0; k < n_freqs; k++) spectrum[k] = Math.sqrt(spectrum[k]!);
      // In bounds: m < n_mels; offsets has n_mels + 1 entries; first[m] + (i − offsets[m]) < n_freqs by
      // construction of the runs.
      for (let m = 0; m < bins; m++) {
        let acc = 0;
        const base = p.first[m]! - p.offsets[m]!;
        for (let i = p.offsets[m]!; i < p.offsets[m + 1]!; i++) acc += p.weights[i]! * spectrum[base + i]!;
        out[t * bins + m] = acc;
      }
    }
    return { data: this.logOf(out), frames, bins };
  }

  private logOf(mel: Float64Array): Float32Array {
    const { log, whisper, affine, power } = this.plan;
    let max = -Infinity;
    // In bounds: i < mel.length in each loop below.
    for (let i = 0; i < mel.length; i++) {
      const v = Math.max(mel[i]! + log.offset, log.amin);
      const l =
        log.kind === 'ln'
          ? Math.log(v)
          : log.kind === 'log10'
            ? Math.log10(v)
            : (power === 2 ? 10 : 20) * Math.log10(v);
      mel[i] = l;
      if (l > max) max = l;
    }
    const floor = whisper ? max - 8 : log.top_db !== undefined ? max - log.top_db : -Infinity;
    const out = new Float32Array(mel.length);
    for (let i = 0; i < mel.length; i++) {
      let v = Math.max(mel[i]!, floor);
      if (whisper) v = (v + 4) / 4;
      if (affine) v = (v + affine.offset) / affine.divide;
      out[i] = v;
    }
    return out;
  }

  finish(output: FrontEndOutput): FrontEndOutput {
    return output;
  }

  dispose(): Promise<void> {
    return Promise.resolve();
  }
}
