import { readdirSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { GenrepError } from '../errors';
import { projectFile } from '../paths';
import type { EncoderDescriptor } from '../protocol/encoderDescriptor';
import { descriptorProblems } from './descriptorShape';

/** The encoder descriptors shipped in models/encoders/ (no weights: the user exports the ONNX, docs/encoders.md). */
export interface ShippedDescriptor {
  /** File name without `.encoder.json` ('whisper-base'): what `genrep model list` shows. */
  id: string;
  file: string;
  descriptor: EncoderDescriptor;
}

export function shippedDescriptorsDir(): string {
  return projectFile('models', 'encoders');
}

let cached: ShippedDescriptor[] | undefined;

export function shippedDescriptors(): ShippedDescriptor[] {
  if (cached) return cached;
  const dir = shippedDescriptorsDir();
  cached = readdirSync(dir)
    .filter((f) => f.endsWith('.encoder.json'))
    .sort()
    .map((f) => {
      const file = path.join(dir, f);
      let value: unknown;
      try {
        value = JSON.parse(readFileSync(file, 'utf8'));
      } catch (err) {
        throw new GenrepError(`${file}: not JSON (${(err as Error).message})`, 'INTERNAL', { file });
      }
      const problems = descriptorProblems(value);
      if (problems.length > 0)
        throw new GenrepError(`${file}: shipped descriptor is malformed: ${problems.join('; ')}`, 'INTERNAL', { file });
      return { id: f.slice(0, -'.encoder.json'.length), file, descriptor: value as EncoderDescriptor };
    });
  return cached;
}
