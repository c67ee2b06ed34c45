/**
 * Which run config "GenRep: Run Experiment" runs: the one it was invoked on (explorer, editor title, tree), else the
 * active editor's `*.genrep.json`, else the only one in the workspace; several → a pick; none → offer to create one.
 */
export type RunTarget = { kind: 'run'; file: string } | { kind: 'pick'; files: string[] } | { kind: 'create' };

export const RUN_CONFIG_SUFFIX = '.genrep.json';

export function isRunConfig(file: string | undefined): file is string {
  return file !== undefined && file.toLowerCase().endsWith(RUN_CONFIG_SUFFIX);
}

export function chooseRunTarget(o: {
  explicit?: string;
  activeFile?: string;
  workspaceConfigs: readonly string[];
}): RunTarget {
  if (isRunConfig(o.explicit)) return { kind: 'run', file: o.explicit };
  if (isRunConfig(o.activeFile)) return { kind: 'run', file: o.activeFile };
  const files = [...new Set(o.workspaceConfigs)].sort();
  if (files.length === 1) return { kind: 'run', file: files[0]! };
  if (files.length > 1) return { kind: 'pick', files };
  return { kind: 'create' };
}
