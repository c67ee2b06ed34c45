/** Dataset discovery and labelling: DCASE 2020–2025 Task 2 layouts, a generic folder layout, explicit file lists. */
export type {
  Clip,
  Dataset,
  DatasetLayout,
  DiscoverOptions,
  Domain,
  GroundTruth,
  GroundTruthEntry,
  Label,
  Layout,
  ListedFile,
  MachineSet,
  SkippedFile,
  Split,
} from './types';
export { discoverDataset } from './discover';
export { readGroundTruth, evaluatorCsvPath } from './groundTruth';
export { readAttributeCsvs } from './attributesCsv';
export {
  compareNames,
  formatAttributeTokens,
  parseAttributeTokens,
  parseDcase2020Name,
  parseDcase2023Name,
} from './fileNames';
export { resolveClip, resolveClips, type ResolveOptions } from './resolveClip';
