import { readFileSync } from 'node:fs';
import * as path from 'node:path';

/** Reads the reference implementation's golden arrays (test/fixtures/<set>/manifest.json + raw little-endian files). */
export const FIXTURES = path.join(__dirname, '..', 'fixtures');

export interface GoldenArray<T extends Float32Array | Int32Array = Float32Array | Int32Array> {
  data: T;
  shape: number[];
}

/** A matrix's (rows, columns); throws when the array is not 2-D. */
export function shape2(array: GoldenArray): [number, number] {
  const [rows, columns, ...rest] = array.shape;
  if (rows === undefined || columns === undefined || rest.length > 0)
    throw new Error(`shape [${array.shape.join(', ')}] is not 2-D`);
  return [rows, columns];
}

/** A 3-D array's shape; throws when it has another rank. */
export function shape3(array: GoldenArray): [number, number, number] {
  const [a, b, c, ...rest] = array.shape;
  if (a === undefined || b === undefined || c === undefined || rest.length > 0) {
    throw new Error(`shape [${array.shape.join(', ')}] is not 3-D`);
  }
  return [a, b, c];
}

interface ManifestEntry {
  file: string;
  dtype: 'float32' | 'int32';
  shape: number[];
}

export class GoldenSet {
  readonly dir: string;
  readonly manifest: { arrays: Record<string, ManifestEntry>; [key: string]: unknown };

  constructor(name: string) {
    this.dir = path.join(FIXTURES, name);
    const manifest: unknown = JSON.parse(readFileSync(path.join(this.dir, 'manifest.json'), 'utf8'));
    if (typeof manifest !== 'object' || manifest === null || !('arrays' in manifest)) {
      throw new Error(`${this.dir}/manifest.json has no 'arrays'`);
    }
    // The fixture generators write the entries; each is checked for its dtype when read (entry()).
    this.manifest = manifest as GoldenSet['manifest'];
  }

  names(prefix = ''): string[] {
    return Object.keys(this.manifest.arrays).filter((n) => n.startsWith(prefix));
  }

  f32(name: string): GoldenArray<Float32Array> {
    const entry = this.entry(name, 'float32');
    const buf = readFileSync(path.join(this.dir, entry.file));
    const copy = new Uint8Array(buf); // aligned copy
    return { data: new Float32Array(copy.buffer, 0, copy.byteLength / 4), shape: entry.shape };
  }

  i32(name: string): GoldenArray<Int32Array> {
    const entry = this.entry(name, 'int32');
    const buf = readFileSync(path.join(this.dir, entry.file));
    const copy = new Uint8Array(buf);
    return { data: new Int32Array(copy.buffer, 0, copy.byteLength / 4), shape: entry.shape };
  }

  private entry(name: string, dtype: ManifestEntry['dtype']): ManifestEntry {
    const entry = this.manifest.arrays[name];
    if (!entry) throw new Error(`golden array '${name}' is not in ${this.dir}/manifest.json`);
    if (entry.dtype !== dtype) throw new Error(`golden array '${name}' is ${entry.dtype}, not ${dtype}`);
    return entry;
  }
}
