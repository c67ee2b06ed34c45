import type { FrontEnd } from '../../protocol/encoderDescriptor';
import type { FrontEndRunner } from '../frontEnd';
import { badField, objectAt, oneOf } from './fields';
import { KaldiFbankRunner } from './kaldiFbank';
import { LogMelRunner, planLogMel } from './logMel';
import { OnnxFrontEndRunner } from './onnxFrontEnd';
import { WaveformRunner } from './waveformRunner';

export { LogMelRunner } from './logMel';

/**
 * The runner for a descriptor's front-end, every parameter checked first (BAD_INPUT naming the field as a JSON
 * pointer, `/frontEnd/n_fft`), so a bad descriptor fails before any clip. `baseDir` resolves an ONNX front-end's
 * model path (the descriptor's folder).
 */
export async function createFrontEnd(
  frontEnd: FrontEnd,
  baseDir: string,
  options: { threads?: number } = {},
): Promise<FrontEndRunner> {
  const fe = objectAt(frontEnd, '/frontEnd');
  const kind = oneOf(fe['kind'], '/frontEnd/kind', ['waveform', 'kaldi-fbank', 'log-mel', 'onnx'] as const);
  switch (kind) {
    case 'waveform':
      return new WaveformRunner(frontEnd as Extract<FrontEnd, { kind: 'waveform' }>);
    case 'kaldi-fbank':
      return new KaldiFbankRunner(frontEnd as Extract<FrontEnd, { kind: 'kaldi-fbank' }>);
    case 'log-mel':
      return new LogMelRunner(planLogMel(frontEnd as Extract<FrontEnd, { kind: 'log-mel' }>));
    case 'onnx':
      return OnnxFrontEndRunner.create(frontEnd as Extract<FrontEnd, { kind: 'onnx' }>, baseDir, options.threads);
    default:
      throw badField('/frontEnd/kind', 'a known front-end kind', kind);
  }
}
