import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { differences, handWrittenShape, ROOT, typeShape, type Json } from '../helpers/schemaShape';

/**
 * schemas/encoder.schema.json (what ajv validates descriptors against and the editor completes) and
 * EncoderDescriptor (worker/src/protocol/encoderDescriptor.ts) are written by hand, side by side: compared here
 * structurally, as test/config/schemaDrift.test.ts compares the run config's.
 */
function readSchema(): Json {
  return JSON.parse(readFileSync(path.join(ROOT, 'schemas', 'encoder.schema.json'), 'utf8')) as Json;
}

describe('schemas/encoder.schema.json and EncoderDescriptor', () => {
  const type = typeShape('encoderDescriptor.ts', 'EncoderDescriptor');

  it('describe the same descriptor: names, types, enums and required properties', () => {
    expect(differences(handWrittenShape(readSchema()), type)).toEqual([]);
  });

  it('catches drift: a renamed front-end property, a lost kind and an extra statistic', () => {
    const drifted = readSchema() as { properties: Record<string, Json>; $defs: Record<string, Json> };
    const frontEnd = drifted.$defs['frontEnd'] as { allOf: { then: { properties: Record<string, Json> } }[] };
    const logMel = frontEnd.allOf[2]!.then.properties;
    logMel['nfft'] = logMel['n_fft']!;
    delete logMel['n_fft'];
    drifted.properties['statistics'] = { enum: ['mean', 'mean+std', 'max'] };
    expect(differences(handWrittenShape(drifted), type)).toEqual([
      '/frontEnd(kind="log-mel")/n_fft: in the type, not in the schema',
      '/frontEnd(kind="log-mel")/nfft: in the schema, not in the type',
      '/statistics: "max" only in the schema\'s enum',
    ]);
  });
});
