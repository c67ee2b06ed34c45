import {
  type Checkpoint,
  type CheckpointArchitecture,
  readCheckpoint,
  type ReadCheckpointOptions,
} from '../checkpoint';
import { GenrepError } from '../errors';
import { type ParsedBeatsConfig, parseBeatsConfig } from './config';
import { checkStateDictShapes, parameterBytes } from './stateDict';

export interface BeatsCheckpoint {
  checkpoint: Checkpoint;
  parsed: ParsedBeatsConfig;
}

/**
 * Reads a BEATs checkpoint, judging it as one before any tensor data is read: its cfg (types and plausible ranges),
 * the state-dict keys and every declared shape; stride-0 views are refused; the memory budget follows from the
 * parameters the cfg defines. Weight values (finite?) are checked by validateBeats once read.
 */
export async function readBeatsCheckpoint(
  file: string,
  options: Omit<ReadCheckpointOptions, 'architecture'> = {},
): Promise<BeatsCheckpoint> {
  let parsed: ParsedBeatsConfig | undefined;
  const architecture: CheckpointArchitecture = {
    name: 'BEATs',
    refuseExpandedViews: true,
    check({ cfg, cfgFloatKeys, shapes }) {
      parsed = parseBeatsConfig(cfg, file, cfgFloatKeys);
      checkStateDictShapes(shapes, parsed.config, file);
      return { parameterBytes: parameterBytes(parsed.config) };
    },
  };
  const checkpoint = await readCheckpoint(file, { ...options, architecture });
  if (parsed === undefined)
    throw new GenrepError('readCheckpoint returned without checking the architecture', 'INTERNAL');
  return { checkpoint, parsed };
}
