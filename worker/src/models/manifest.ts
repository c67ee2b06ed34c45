import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { GenrepError } from '../errors';

/** The known checkpoints, as listed in models/manifest.json (names as GenRep's code calls them). */
export interface ModelEntry {
  name: string;
  file: string;
  role: string;
  bestLayer: number;
  url: string;
  cfg: Record<string, unknown>;
}

/** models/ sits at the repository (or installed package) root, two levels above dist/worker/models and worker/src/models. */
export function manifestPath(): string {
  const candidates = [
    path.resolve(__dirname, '..', '..', '..', 'models', 'manifest.json'),
    path.resolve(__dirname, '..', '..', 'models', 'manifest.json'),
  ];
  for (const c of candidates) {
    try {
      readFileSync(c);
      return c;
    } catch {
      // try the next layout
    }
  }
  throw new GenrepError(`models/manifest.json not found (looked in ${candidates.join(', ')})`, 'INTERNAL');
}

let cached: Map<string, ModelEntry> | undefined;

export function knownModels(): Map<string, ModelEntry> {
  if (cached) return cached;
  const file = manifestPath();
  const raw = JSON.parse(readFileSync(file, 'utf8')) as { models: Record<string, Omit<ModelEntry, 'name'>> };
  cached = new Map(Object.entries(raw.models).map(([name, entry]) => [name, { name, ...entry }]));
  return cached;
}

export function modelEntry(name: string): ModelEntry {
  const entry = knownModels().get(name);
  if (!entry) {
    throw new GenrepError(`unknown model '${name}'; known models: ${[...knownModels().keys()].join(', ')}`, 'BAD_INPUT', {
      field: 'model',
      expected: [...knownModels().keys()].join(' | '),
    });
  }
  return entry;
}
