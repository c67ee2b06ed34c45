import { readFileSync } from 'node:fs';
import { GenrepError } from '../errors';
import { projectFile } from '../paths';

/** The known checkpoints, as listed in models/manifest.json (names as GenRep's code calls them). */
export interface ModelEntry {
  name: string;
  file: string;
  role: string;
  bestLayer: number;
  url: string;
  cfg: Record<string, unknown>;
  /** Published sha256 of the file, where known: it wins over the one `genrep model download` records. */
  sha256?: string;
  /** Published size in bytes, where known: bounds a download that arrives without a Content-Length. */
  size?: number;
}

/** What the manifest publishes about an entry's file, for the download to check. */
export function publishedChecks(entry: ModelEntry): { sha256?: string; size?: number } {
  return {
    ...(entry.sha256 !== undefined ? { sha256: entry.sha256 } : {}),
    ...(entry.size !== undefined ? { size: entry.size } : {}),
  };
}

export function manifestPath(): string {
  return projectFile('models', 'manifest.json');
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
    throw new GenrepError(
      `unknown model '${name}'; known models: ${[...knownModels().keys()].join(', ')}`,
      'BAD_INPUT',
      {
        field: 'model',
        expected: [...knownModels().keys()].join(' | '),
      },
    );
  }
  return entry;
}
