import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import Ajv2020 from 'ajv/dist/2020';
import { afterAll, describe, expect, it } from 'vitest';
import { EDITOR_SCHEMA_KEYWORDS } from '../../worker/src/config/loadConfig';
import { readDescriptorFile } from '../../worker/src/encoders/descriptorFile';
import { descriptorProblems } from '../../worker/src/encoders/descriptorShape';
import { createFrontEnd } from '../../worker/src/encoders/frontEnds';
import { buildFamilyModel, writeFamilyModel } from '../helpers/familyModels';

/**
 * Every descriptor in models/encoders/ is usable as shipped: valid against schemas/encoder.schema.json (what the
 * editor completes with, through its `$schema`), read by the descriptor reader, shaped like the type, and its
 * front-end accepted by createFrontEnd — so a typo in a shipped file fails here, not in a user's first run.
 */
const ROOT = path.join(__dirname, '..', '..');
const DIR = path.join(ROOT, 'models', 'encoders');
const SCHEMA = path.join(ROOT, 'schemas', 'encoder.schema.json');
const FILES = readdirSync(DIR)
  .filter((f) => f.endsWith('.encoder.json'))
  .sort();

const ajv = new Ajv2020({ allErrors: true, allowUnionTypes: true });
ajv.addVocabulary([...EDITOR_SCHEMA_KEYWORDS]);
const validate = ajv.compile(JSON.parse(readFileSync(SCHEMA, 'utf8')) as object);

const tmp = mkdtempSync(path.join(os.tmpdir(), 'genrep-shipped-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('shipped encoder descriptors (models/encoders/)', () => {
  it('are there: ten families', () => {
    expect(FILES.length).toBeGreaterThanOrEqual(10);
  });

  for (const name of FILES) {
    describe(name, () => {
      const file = path.join(DIR, name);
      const value = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;

      it('names the encoder schema by a relative $schema that resolves to it', () => {
        expect(value['$schema']).toBe('../../schemas/encoder.schema.json');
        expect(path.resolve(DIR, value['$schema'] as string)).toBe(SCHEMA);
      });

      it('validates against schemas/encoder.schema.json and is shaped like EncoderDescriptor', () => {
        expect(validate(value) ? [] : validate.errors).toEqual([]);
        expect(descriptorProblems(value)).toEqual([]);
      });

      it('is read by readDescriptorFile, and createFrontEnd accepts its front-end', async () => {
        const { descriptor, baseDir } = await readDescriptorFile(file);
        expect(baseDir).toBe(DIR);
        let frontEndDir = baseDir;
        if (descriptor.frontEnd.kind === 'onnx') {
          // The front-end is a model of its own: a stand-in where the descriptor looks for it.
          if (descriptor.family === undefined || descriptor.family === 'custom') throw new Error('no stand-in family');
          frontEndDir = path.join(tmp, name);
          writeFamilyModel(frontEndDir, descriptor, buildFamilyModel(descriptor.family));
        }
        const runner = await createFrontEnd(descriptor.frontEnd, frontEndDir, { threads: 1 });
        expect(runner.sampleRate).toBe(descriptor.frontEnd.sampleRate);
        expect(runner.bins).toBeGreaterThan(0);
        await runner.dispose();
      });
    });
  }
});
