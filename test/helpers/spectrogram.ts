import type { SpectrogramResult } from '../../worker/src/protocol/workerProtocol';

/** The smallest spectrogram reply a panel can get for `file`: one 10 ms frame of one bin (a float32 zero). */
export function oneBinSpectrogram(file: string): SpectrogramResult {
  return { file, frames: 1, bins: 1, frameShiftMs: 10, durationSec: 0.01, data: 'AAAAAA==', min: 0, max: 0 };
}
