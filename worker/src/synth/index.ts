/** A synthetic DCASE 2023-layout dataset of machine sounds built from known physics (docs/synth.md). */
export {
  LOCALISED_FAULTS_FILE,
  SYNTH_MANIFEST,
  SYNTH_VERSION,
  synthesizeDataset,
  type LocalisedFaultRecord,
  type SynthOptions,
  type SynthProgress,
  type SynthResult,
} from './dataset';
export { MACHINE_MODELS, machineModel } from './machines';
export type { Anomaly, BackgroundKind, Condition, MachineModel } from './model';
export { DCASE2023_SIZES, clipKey, planMachine, type PlannedClip, type SynthSizes } from './plan';
export { Random, hashKey } from './random';
export { renderClip, type ClipRequest } from './render';
export {
  FAULT_MODES,
  LOCALISED_KINDS,
  type FaultMode,
  type LocalisedFault,
  type LocalisedKind,
  planLocalisedFault,
} from './localised';
