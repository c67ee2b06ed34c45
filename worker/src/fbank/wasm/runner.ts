import { buildFbankKernel, type FbankKernel, type KernelSpec } from './kernel';

/**
 * Drives a generated kernel over a clip: lays out the kernel's dynamic memory, grows it when a longer clip comes,
 * and feeds frames two at a time.
 *
 *   [dynamicBase] the clip, float32, with one guard sample before (x[0] again) and after (0)
 *   [emphasized]  pre-emphasised clip, float64
 *   [params]      per pair of frames: kA, kB, y0A, y0B (float64)
 *   [out]         float32 rows, frames + 1 (the spare row takes lane B of an odd frame count's last pair)
 */
export class KernelRunner {
  private readonly kernel: FbankKernel;
  private readonly bins: number;
  private sourceAt = 0;
  private samples = 0;
  private emphAt = 0;
  private paramsAt = 0;
  private outAt = 0;
  private frames = 0;

  constructor(spec: KernelSpec) {
    this.kernel = buildFbankKernel(spec);
    this.bins = spec.mel.num_bins;
  }

  /** Copies the clip in and pre-emphasises it (× input_scale) inside the kernel's memory. */
  load(source: Float32Array, frames: number): void {
    const n = source.length;
    this.sourceAt = this.kernel.dynamicBase + 16; // x[−1] sits at sourceAt − 4
    this.emphAt = align16(this.sourceAt + 4 * (n + 2));
    this.paramsAt = align16(this.emphAt + 8 * (n + 1));
    this.outAt = align16(this.paramsAt + 16 * (frames + 1));
    const end = this.outAt + 4 * this.bins * (frames + 1);
    const memory = this.kernel.memory;
    if (end > memory.buffer.byteLength) memory.grow(Math.ceil((end - memory.buffer.byteLength) / 65536));
    this.samples = n;
    this.frames = frames;

    const floats = new Float32Array(memory.buffer);
    const at = this.sourceAt >> 2;
    floats.set(source, at);
    // source[0] exists: a clip shorter than one frame never reaches the kernel (FbankComputer.compute refuses it).
    floats[at - 1] = source[0]!;
    floats[at + n] = 0;
    this.kernel.emphasize(this.sourceAt - 4, this.emphAt, this.emphAt + 8 * n);
  }

  /**
   * Runs every frame. k[i] is subtracted from frame i's pre-emphasised samples (its mean · (1 − preemph)); y0[i]
   * is its first windowed sample; frame i starts `starts[i]` samples into the clip. Rows go to `out`.
   */
  run(starts: Int32Array, k: Float64Array, y0: Float64Array, out: Float32Array): void {
    const { frames, bins } = this;
    if (starts.length < frames || k.length < frames || y0.length < frames) {
      throw new RangeError(`per-frame parameters for fewer than the ${frames} frames loaded`);
    }
    // In bounds: i ≤ b < frames ≤ the length of starts, k and y0 (checked above).
    if (frames > 0 && starts[frames - 1]! >= this.samples) throw new RangeError('frame start past the clip');
    const memory = new Float64Array(this.kernel.memory.buffer);
    for (let i = 0; i < frames; i += 2) {
      const b = Math.min(i + 1, frames - 1);
      const p = (this.paramsAt >> 3) + 2 * i;
      memory[p] = k[i]!;
      memory[p + 1] = k[b]!;
      memory[p + 2] = y0[i]!;
      memory[p + 3] = y0[b]!;
    }
    const pair = this.kernel.pair;
    const rowBytes = 4 * bins;
    for (let i = 0; i < frames; i += 2) {
      const b = Math.min(i + 1, frames - 1);
      pair(
        this.emphAt + 8 * starts[i]!,
        this.emphAt + 8 * starts[b]!,
        this.paramsAt + 16 * i,
        this.outAt + rowBytes * i,
        this.outAt + rowBytes * (b === i ? frames : b),
      );
    }
    out.set(new Float32Array(this.kernel.memory.buffer, this.outAt, frames * bins));
  }
}

function align16(x: number): number {
  return (x + 15) & ~15;
}
