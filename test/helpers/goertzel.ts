/**
 * Power of `x` at `hz` for a clip sampled at `rate`: the Goertzel recurrence over the whole clip, Hann-windowed so
 * that a search for the peak is not fooled by leakage (resolution ≈ rate / x.length).
 */
export function hannGoertzelPower(x: Float32Array, hz: number, rate: number): number {
  const w = (2 * Math.PI * hz) / rate;
  const coeff = 2 * Math.cos(w);
  let s1 = 0;
  let s2 = 0;
  const n = x.length;
  for (let i = 0; i < n; i++) {
    const hann = 0.5 - 0.5 * Math.cos((2 * Math.PI * i) / (n - 1));
    const s0 = x[i]! * hann + coeff * s1 - s2;
    s2 = s1;
    s1 = s0;
  }
  return s1 * s1 + s2 * s2 - coeff * s1 * s2;
}
