import { ENCODER_FAMILIES, type EncoderDescriptor } from '../protocol/encoderDescriptor';
import { LOG_MEL_KEYS } from './frontEnds/logMel';

/**
 * A structural check of a parsed `*.encoder.json` against the EncoderDescriptor type: the shipped descriptors are
 * checked with it (tests, `genrep model list`), and matching trusts its result. The full validation with value ranges
 * and JSON pointers is the descriptor reader's (worker/src/encoders, schemas/encoder.schema.json); this one only
 * answers "is it shaped like the type", listing every field that is not.
 */

const LAYOUT = /^[BSTFDL1](,[BSTFDL1])*$/;

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);
const isNumber = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);

/** Problems as "/json/pointer: what is wrong"; empty when the value is shaped like an EncoderDescriptor. */
export function descriptorProblems(value: unknown): string[] {
  const problems: string[] = [];
  const need = (ok: boolean, pointer: string, what: string): void => {
    if (!ok) problems.push(`${pointer}: ${what}`);
  };
  const keys = (obj: Json, pointer: string, allowed: readonly string[]): void => {
    for (const key of Object.keys(obj)) need(allowed.includes(key), `${pointer}/${key}`, 'unknown field');
  };
  const layout = (v: unknown, pointer: string): void =>
    need(typeof v === 'string' && LAYOUT.test(v), pointer, "a layout such as 'B,T,D' (axes B S T F D L 1)");
  const optionalString = (obj: Json, key: string, pointer: string): void =>
    need(obj[key] === undefined || typeof obj[key] === 'string', `${pointer}/${key}`, 'a string');
  const oneOf = (obj: Json, key: string, pointer: string, values: readonly unknown[], required = false): void =>
    need(
      (!required && obj[key] === undefined) || values.includes(obj[key]),
      `${pointer}/${key}`,
      `one of ${values.map((v) => JSON.stringify(v)).join(', ')}`,
    );
  const affine = (obj: Json, pointer: string): void => {
    const a = obj['affine'];
    if (a === undefined) return;
    need(isObject(a) && isNumber(a['offset']) && isNumber(a['divide']), `${pointer}/affine`, '{ offset, divide }');
  };

  if (!isObject(value)) return ['/: an object'];
  keys(value, '', [
    '$schema',
    'name',
    'family',
    'source',
    'model',
    'frontEnd',
    'length',
    'window',
    'input',
    'constants',
    'outputs',
    'statistics',
  ]);
  optionalString(value, '$schema', '');
  need(typeof value['name'] === 'string' && value['name'] !== '', '/name', 'a non-empty string');
  oneOf(value, 'family', '', ENCODER_FAMILIES);
  optionalString(value, 'source', '');
  need(typeof value['model'] === 'string' && value['model'] !== '', '/model', 'a non-empty string (the ONNX file)');
  oneOf(value, 'statistics', '', ['mean', 'mean+std']);

  const fe = value['frontEnd'];
  if (!isObject(fe)) problems.push('/frontEnd: an object');
  else {
    const p = '/frontEnd';
    need(isNumber(fe['sampleRate']) && fe['sampleRate'] > 0, `${p}/sampleRate`, 'a positive number (Hz)');
    oneOf(fe, 'scale', p, ['unit', 'int16']);
    const common = ['kind', 'sampleRate', 'scale'];
    if (fe['kind'] === 'waveform') {
      keys(fe, p, [...common, 'normalize']);
      need(fe['normalize'] === undefined || typeof fe['normalize'] === 'boolean', `${p}/normalize`, 'a boolean');
    } else if (fe['kind'] === 'kaldi-fbank') {
      keys(fe, p, [...common, 'options', 'astNormalize']);
      const options = fe['options'];
      need(
        isObject(options) && Object.values(options).every((v) => ['number', 'boolean', 'string'].includes(typeof v)),
        `${p}/options`,
        'an object of fbank options (numbers, booleans, strings)',
      );
      const norm = fe['astNormalize'];
      need(
        norm === undefined || (isObject(norm) && isNumber(norm['mean']) && isNumber(norm['std'])),
        `${p}/astNormalize`,
        '{ mean, std }',
      );
    } else if (fe['kind'] === 'log-mel') {
      keys(fe, p, LOG_MEL_KEYS);
      for (const key of ['n_fft', 'hop_length', 'n_mels']) need(isNumber(fe[key]), `${p}/${key}`, 'a number');
      need(isNumber(fe['f_min']), `${p}/f_min`, 'a number');
      for (const key of ['win_length', 'f_max', 'preemphasis'])
        need(fe[key] === undefined || isNumber(fe[key]), `${p}/${key}`, 'a number');
      oneOf(fe, 'window', p, ['hann', 'hamming', 'rectangular'], true);
      need(typeof fe['center'] === 'boolean', `${p}/center`, 'a boolean');
      need(fe['periodic'] === undefined || typeof fe['periodic'] === 'boolean', `${p}/periodic`, 'a boolean');
      oneOf(fe, 'pad_mode', p, ['reflect', 'constant']);
      oneOf(fe, 'power', p, [1, 2], true);
      oneOf(fe, 'mel_scale', p, ['htk', 'slaney', 'kaldi'], true);
      oneOf(fe, 'norm', p, ['slaney']);
      need(fe['whisper'] === undefined || typeof fe['whisper'] === 'boolean', `${p}/whisper`, 'a boolean');
      const log = fe['log'];
      if (!isObject(log)) problems.push(`${p}/log: an object`);
      else {
        keys(log, `${p}/log`, ['kind', 'amin', 'offset', 'top_db']);
        oneOf(log, 'kind', `${p}/log`, ['ln', 'log10', 'db'], true);
        for (const key of ['amin', 'offset', 'top_db'])
          need(log[key] === undefined || isNumber(log[key]), `${p}/log/${key}`, 'a number');
      }
      affine(fe, p);
    } else if (fe['kind'] === 'onnx') {
      keys(fe, p, [...common, 'model', 'input', 'output', 'layout', 'affine']);
      need(typeof fe['model'] === 'string' && fe['model'] !== '', `${p}/model`, 'a non-empty string');
      optionalString(fe, 'input', p);
      optionalString(fe, 'output', p);
      layout(fe['layout'], `${p}/layout`);
      affine(fe, p);
    } else problems.push(`${p}/kind: one of "waveform", "kaldi-fbank", "log-mel", "onnx"`);
  }

  const length = value['length'];
  if (length !== undefined) {
    if (!isObject(length)) problems.push('/length: an object');
    else {
      keys(length, '/length', ['on', 'frames', 'mode', 'padValue', 'fill']);
      oneOf(length, 'on', '/length', ['waveform', 'features']);
      need(isNumber(length['frames']) && length['frames'] > 0, '/length/frames', 'a positive number');
      oneOf(length, 'mode', '/length', ['crop', 'pad', 'exact'], true);
      need(length['padValue'] === undefined || isNumber(length['padValue']), '/length/padValue', 'a number');
      oneOf(length, 'fill', '/length', ['zeros', 'repeat']);
    }
  }
  const window = value['window'];
  if (window !== undefined) {
    if (!isObject(window)) problems.push('/window: an object');
    else {
      keys(window, '/window', ['frames', 'hop', 'last']);
      need(isNumber(window['frames']) && window['frames'] > 0, '/window/frames', 'a positive number');
      need(isNumber(window['hop']) && window['hop'] > 0, '/window/hop', 'a positive number');
      oneOf(window, 'last', '/window', ['pad', 'drop']);
    }
  }
  const input = value['input'];
  if (!isObject(input)) problems.push('/input: an object');
  else {
    keys(input, '/input', ['name', 'layout']);
    optionalString(input, 'name', '/input');
    layout(input['layout'], '/input/layout');
  }
  const constants = value['constants'];
  if (constants !== undefined) {
    if (!isObject(constants)) problems.push('/constants: an object');
    else
      for (const [name, c] of Object.entries(constants)) {
        const p = `/constants/${name}`;
        if (!isObject(c)) {
          problems.push(`${p}: an object`);
          continue;
        }
        keys(c, p, ['dtype', 'shape', 'value']);
        oneOf(c, 'dtype', p, ['float32', 'int64', 'int32', 'bool'], true);
        need(
          Array.isArray(c['shape']) && c['shape'].every((d) => d === 'B' || (isNumber(d) && d >= 0)),
          `${p}/shape`,
          "an array of sizes or 'B'",
        );
        need(isNumber(c['value']), `${p}/value`, 'a number');
      }
  }
  const outputs = value['outputs'];
  if (!Array.isArray(outputs) || outputs.length === 0) problems.push('/outputs: a non-empty array');
  else
    outputs.forEach((o: unknown, i) => {
      const p = `/outputs/${i}`;
      if (!isObject(o)) {
        problems.push(`${p}: an object`);
        return;
      }
      layout(o['layout'], `${p}/layout`);
      if ('names' in o) {
        keys(o, p, ['names', 'from', 'count', 'layout']);
        need(typeof o['names'] === 'string' && o['names'].includes('{n}'), `${p}/names`, "a name with '{n}'");
        need(Number.isInteger(o['from']) && (o['from'] as number) >= 0, `${p}/from`, 'an integer ≥ 0');
        need(Number.isInteger(o['count']) && (o['count'] as number) >= 1, `${p}/count`, 'an integer ≥ 1');
      } else {
        keys(o, p, ['name', 'layout']);
        need(typeof o['name'] === 'string' && o['name'] !== '', `${p}/name`, 'a non-empty string');
      }
    });
  return problems;
}

export function isEncoderDescriptor(value: unknown): value is EncoderDescriptor {
  return descriptorProblems(value).length === 0;
}

/** The output names a descriptor reads, in layer order (templates expanded). */
export function outputNames(descriptor: EncoderDescriptor): string[] {
  return descriptor.outputs.flatMap((o) =>
    'names' in o ? Array.from({ length: o.count }, (_, i) => o.names.replace('{n}', String(o.from + i))) : [o.name],
  );
}
