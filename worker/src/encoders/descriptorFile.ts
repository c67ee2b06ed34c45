/**
 * Reads an encoder descriptor (`*.encoder.json`, JSON with comments) and checks it against
 * schemas/encoder.schema.json, with errors at file:line:column and the JSON pointer as the run config loader gives
 * them; `model` paths are resolved against the descriptor's folder.
 */

import { existsSync, promises as fsp, readFileSync } from 'node:fs';
import * as path from 'node:path';
import Ajv2020, { type ValidateFunction } from 'ajv/dist/2020';
import { getNodeValue, parseTree, printParseErrorCode, type ParseError } from 'jsonc-parser';
import { EDITOR_SCHEMA_KEYWORDS, lineColumnOf, nodeFor, refuseSchemaErrors } from '../config/loadConfig';
import { GenrepError } from '../errors';
import { errnoCode, fsError } from '../io/fsErrors';
import { projectFile } from '../paths';
import type { EncoderDescriptor } from '../protocol/encoderDescriptor';
import { readHuggingFaceFolder } from './huggingFaceFolder';
import { MAX_JSON_DEPTH, nestingTooDeep } from '../util/jsonScanner';

export interface LoadedDescriptor {
  descriptor: EncoderDescriptor;
  /** The descriptor's folder, against which its model paths resolve. */
  baseDir: string;
  file: string;
}

export function encoderSchemaPath(): string {
  return projectFile('schemas', 'encoder.schema.json');
}

let validator: ValidateFunction | undefined;
function getValidator(): ValidateFunction {
  if (!validator) {
    const ajv = new Ajv2020({ allErrors: true, useDefaults: false, allowUnionTypes: true });
    ajv.addVocabulary([...EDITOR_SCHEMA_KEYWORDS]);
    validator = ajv.compile(JSON.parse(readFileSync(encoderSchemaPath(), 'utf8')));
  }
  return validator;
}

/** A descriptor's text → the descriptor, refused at file:line:column with its JSON pointer. */
export function parseDescriptor(text: string, file: string): LoadedDescriptor {
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  const lineCol = lineColumnOf(text);
  const tooDeep = nestingTooDeep(text, MAX_JSON_DEPTH, { comments: true });
  if (tooDeep !== undefined) {
    throw new GenrepError(`${file}:${lineCol(tooDeep)}: nested more than ${MAX_JSON_DEPTH} levels deep`, 'BAD_INPUT', {
      file,
    });
  }
  const errors: ParseError[] = [];
  const tree = parseTree(text, errors, { allowTrailingComma: true, disallowComments: false });
  if (errors.length > 0 || !tree) {
    const first = errors[0];
    throw new GenrepError(
      `${file}:${first ? lineCol(first.offset) : '1:1'}: invalid JSON (${first ? printParseErrorCode(first.error) : 'empty file'}); expected an encoder descriptor`,
      'BAD_INPUT',
      { file },
    );
  }
  const locate = (pointer: string, atKey = false): string => `${file}:${lineCol(nodeFor(tree, pointer, atKey).offset)}`;
  const value = getNodeValue(tree) as unknown;
  const validate = getValidator();
  if (!validate(value)) refuseSchemaErrors(file, validate.errors, locate);
  const descriptor = value as EncoderDescriptor;
  const baseDir = path.dirname(path.resolve(file));
  checkModelPath(descriptor.model, '/model', locate);
  if (descriptor.frontEnd.kind === 'onnx') checkModelPath(descriptor.frontEnd.model, '/frontEnd/model', locate);
  return { descriptor, baseDir, file };
}

/**
 * A model path is a file name, a relative path or an absolute one; what no one writes on purpose (a URL, a `~`
 * expecting a shell, backslashes on POSIX) is refused rather than resolved to a surprising place.
 */
function checkModelPath(value: string, pointer: string, locate: (pointer: string) => string): void {
  let problem: string | undefined;
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(value)) problem = 'is a URL; download the model and give its path';
  else if (value.startsWith('~')) problem = "starts with '~', which is not expanded; give the full path";
  else if (path.sep === '/' && value.includes('\\')) problem = "has '\\'; use '/' between folders";
  else if (!/\.onnx$/i.test(value)) problem = 'is not an .onnx file';
  if (problem !== undefined) {
    throw new GenrepError(`${locate(pointer)}: ${pointer}: '${value}' ${problem}`, 'BAD_INPUT', {
      field: pointer,
      expected: 'a path to an .onnx file',
    });
  }
}

/** An `*.encoder.json`, or a Hugging Face export folder (huggingFaceFolder.ts). */
export async function readDescriptorFile(file: string): Promise<LoadedDescriptor> {
  if (existsSync(path.join(file, 'preprocessor_config.json'))) {
    return { descriptor: await readHuggingFaceFolder(file), baseDir: path.resolve(file), file };
  }
  let text: string;
  try {
    text = await fsp.readFile(file, 'utf8');
  } catch (err) {
    if (errnoCode(err) === 'ENOENT')
      throw new GenrepError(`${file}: no such encoder descriptor`, 'NOT_FOUND', { file });
    throw fsError(err, file, { action: 'read', expected: 'an encoder descriptor (.encoder.json)' });
  }
  return parseDescriptor(text, file);
}
