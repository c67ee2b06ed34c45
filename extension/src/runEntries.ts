import type { Metrics, RunResults } from '../../worker/src/protocol/results';
import { shortTime } from './panelTitles';

/**
 * The run history (the GenRep "Runs" view): every run found in the workspace, as one entry each. A finished run is
 * its results.json (a run's output folder is written as one set, worker/src/experiments/resultSet.ts, so a
 * results.json is always a complete run); a cancelled or failed run leaves no trace in its output folder (the
 * staging folder is removed and the old set left as it was), so those, and runs still going, come from the records
 * the extension keeps of the runs it started. No `vscode` import: test/extension/runEntries.test.ts.
 */
export type RunStatus = 'complete' | 'cancelled' | 'failed' | 'running';

export interface MachineHeadline {
  machineType: string;
  metrics: Metrics | null;
}

export interface RunEntry {
  /** Unique within the list: the results.json path, or the record's id. */
  key: string;
  name: string;
  status: RunStatus;
  /** ISO time: when a finished run finished, else when the run started. */
  date: string;
  configFile: string | undefined;
  resultsFile: string | undefined;
  /** The output folder (a finished run's), for Reveal Folder. */
  folder: string | undefined;
  reportFile: string | undefined;
  embedder: string | undefined;
  /** The main variant's summary over machine types (null: a scoring-only run without labels). */
  overall: Metrics | null;
  machines: MachineHeadline[];
  /** Why a run failed (the worker's message). */
  message: string | undefined;
  /** Clips whose features a cancelled run left in the feature cache (from the worker's last progress report). */
  featuresKept: number | undefined;
}

/** What the extension remembers of a run it started (workspaceState), until a results.json supersedes it. */
export interface RunRecord {
  id: string;
  configFile: string;
  name: string;
  startedAt: string;
  status: Exclude<RunStatus, 'complete'>;
  endedAt?: string;
  message?: string;
  featuresKept?: number;
}

/** The results schema this reader knows; a newer results.json fails to compile here first (RunResults' literal). */
const KNOWN_SCHEMA: RunResults['schemaVersion'] = 1;

export type ParsedRun = { ok: true; entry: RunEntry } | { ok: false; problem: string };

/** A results.json's text → its history entry, or why it is not one (not ours, another schema version). */
export function parseResultsJson(text: string, file: string): ParsedRun {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return { ok: false, problem: `${file}: not valid JSON` };
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed))
    return { ok: false, problem: `${file}: not a GenRep results.json (expected an object)` };
  const r = parsed as Partial<Record<keyof RunResults, unknown>>;
  if (r.schemaVersion !== KNOWN_SCHEMA) {
    return {
      ok: false,
      problem: `${file}: results schemaVersion ${JSON.stringify(r.schemaVersion)} is not ${KNOWN_SCHEMA}`,
    };
  }
  if (typeof r.name !== 'string' || !Array.isArray(r.variants))
    return { ok: false, problem: `${file}: not a GenRep results.json (expected "name" and "variants")` };
  const results = parsed as RunResults;
  const folder = dirName(file);
  const main = results.variants[0];
  const outputs = Array.isArray(results.outputs) ? results.outputs : [];
  return {
    ok: true,
    entry: {
      key: file,
      name: results.name,
      status: 'complete',
      date: typeof results.finishedAt === 'string' ? results.finishedAt : '',
      configFile: typeof results.configFile === 'string' ? results.configFile : undefined,
      resultsFile: file,
      folder,
      reportFile: outputs.includes('report.html') ? joinPath(folder, 'report.html') : undefined,
      embedder: typeof results.embedder?.id === 'string' ? results.embedder.id : undefined,
      overall: main?.overall ?? null,
      machines: (main?.machines ?? []).map((m) => ({ machineType: m.machineType, metrics: m.metrics })),
      message: undefined,
      featuresKept: undefined,
    },
  };
}

/** A record of a run the extension started that has no results.json of its own (yet). */
export function entryOfRecord(record: RunRecord): RunEntry {
  return {
    key: record.id,
    name: record.name,
    status: record.status,
    date: record.endedAt ?? record.startedAt,
    configFile: record.configFile,
    resultsFile: undefined,
    folder: undefined,
    reportFile: undefined,
    embedder: undefined,
    overall: null,
    machines: [],
    message: record.message,
    featuresKept: record.featuresKept,
  };
}

/**
 * The history: finished runs, plus the records of runs not (yet) superseded — a record is superseded once a run of
 * the same config finished after it started (Run Again succeeded). Newest first; equal times by name.
 */
export function runHistory(finished: readonly RunEntry[], records: readonly RunRecord[]): RunEntry[] {
  const open = records.filter(
    (r) =>
      r.status === 'running' ||
      !finished.some(
        (f) => f.configFile !== undefined && f.configFile === r.configFile && timeOf(f.date) >= timeOf(r.startedAt),
      ),
  );
  return sortRuns([...finished, ...open.map(entryOfRecord)]);
}

export function sortRuns(entries: readonly RunEntry[]): RunEntry[] {
  return [...entries].sort((a, b) => timeOf(b.date) - timeOf(a.date) || a.name.localeCompare(b.name));
}

function timeOf(iso: string): number {
  const t = Date.parse(iso);
  return Number.isNaN(t) ? 0 : t;
}

/** "73.61%": a fraction in [0, 1] as a percentage with two decimals. */
export function percent(value: number): string {
  return `${(value * 100).toFixed(2)}%`;
}

/** The run's one number: the official score (DCASE 2023) where it has domains, else the AUC; none without labels. */
export function headline(overall: Metrics | null): string | undefined {
  if (!overall) return undefined;
  return overall.official !== null ? `official ${percent(overall.official)}` : `AUC ${percent(overall.auc)}`;
}

export interface RunItemView {
  label: string;
  description: string;
  tooltip: string;
  /** `run.<status>`: the Runs view's menus key on it (package.json view/item/context). */
  contextValue: string;
}

/** How an entry reads in the Runs view: the name, then date · embedder · score · status. */
export function runItemView(entry: RunEntry, now?: Date): RunItemView {
  const score = headline(entry.overall);
  const status =
    entry.status === 'cancelled' && entry.featuresKept !== undefined
      ? `cancelled (${entry.featuresKept} features kept)`
      : entry.status;
  const parts = [entry.date ? shortTime(entry.date, now) : undefined, entry.embedder, score, status];
  const lines = [
    `${entry.name} — ${status}`,
    entry.date
      ? `${entry.status === 'complete' ? 'finished' : entry.status === 'running' ? 'started' : 'ended'} ${entry.date}`
      : undefined,
    entry.embedder ? `embedder ${entry.embedder}` : undefined,
    score,
    entry.folder ? `folder ${entry.folder}` : undefined,
    entry.configFile ? `config ${entry.configFile}` : undefined,
    entry.message,
  ];
  return {
    label: entry.name,
    description: parts.filter((p): p is string => p !== undefined && p !== '').join(' · '),
    tooltip: lines.filter((l): l is string => l !== undefined).join('\n'),
    contextValue: `run.${entry.status}`,
  };
}

/**
 * A QuickPick row for a run (Open Results and the Runs commands): its name, its date and score, and its folder (the
 * config of a run without one), relative to the workspace when inside it.
 */
export function resultsPickRow(
  entry: RunEntry,
  relative: (file: string) => string,
  now?: Date,
): { label: string; description: string; detail: string } {
  const score = headline(entry.overall);
  return {
    label: entry.name,
    description: [entry.date ? shortTime(entry.date, now) : '', score ?? ''].filter((p) => p !== '').join(' · '),
    detail: entry.folder ? relative(entry.folder) : entry.configFile ? relative(entry.configFile) : '',
  };
}

/**
 * Compare Runs, until the comparison view of a later issue: the selected finished runs side by side, one table per
 * headline metric, a row per machine type (and the overall summary), a column per run. Markdown, shown in a preview.
 */
export function comparisonMarkdown(entries: readonly RunEntry[], now?: Date): string {
  const runs = entries.filter((e) => e.status === 'complete');
  const header = runs.map((e) => `${escapeCell(e.name)} · ${shortTime(e.date, now)}`);
  const machineTypes = [...new Set(runs.flatMap((e) => e.machines.map((m) => m.machineType)))].sort();
  const metrics: { key: keyof Metrics; title: string }[] = [
    { key: 'official', title: 'Official score' },
    { key: 'auc', title: 'AUC' },
    { key: 'pauc', title: 'pAUC' },
  ];
  const out = [
    `# Runs compared`,
    '',
    ...runs.map(
      (e) =>
        `- **${escapeCell(e.name)}** · ${e.date} · ${e.embedder ?? 'unknown embedder'}${e.resultsFile ? ` · \`${e.resultsFile}\`` : ''}`,
    ),
    '',
    'Percent, two decimals; — where a run has no such value (no domains, no labels, or not that machine type).',
  ];
  for (const { key, title } of metrics) {
    const cell = (m: Metrics | null | undefined): string => {
      const v = m?.[key];
      return typeof v === 'number' ? percent(v) : '—';
    };
    out.push(
      '',
      `## ${title}`,
      '',
      `| machine type | ${header.join(' | ')} |`,
      `|---|${header.map(() => '---:').join('|')}|`,
      ...machineTypes.map(
        (t) =>
          `| ${escapeCell(t)} | ${runs.map((e) => cell(e.machines.find((m) => m.machineType === t)?.metrics)).join(' | ')} |`,
      ),
      `| **overall** | ${runs.map((e) => cell(e.overall)).join(' | ')} |`,
    );
  }
  return `${out.join('\n')}\n`;
}

function escapeCell(text: string): string {
  return text.replace(/\|/g, '\\|').replace(/\r?\n/g, ' ');
}

function dirName(file: string): string {
  return file.slice(0, Math.max(file.lastIndexOf('/'), file.lastIndexOf('\\')));
}

function joinPath(folder: string, name: string): string {
  const sep = folder.includes('\\') && !folder.includes('/') ? '\\' : '/';
  return `${folder}${sep}${name}`;
}
