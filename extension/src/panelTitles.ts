/**
 * Titles of the results panels, one panel per run, per scoring and for loose clips (issue 11: runs as documents).
 * A title is how a user tells two tabs apart, so it carries the run's name and the time it finished; a date is added
 * when that was not today. No `vscode` import: test/extension/panelTitles.test.ts checks the formats.
 */
const SEP = ' · ';

function pad(n: number): string {
  return String(n).padStart(2, '0');
}

/** "14:02" for a time today (local time), "2026-12-01 14:02" for another day; an unreadable time as given. */
export function shortTime(when: Date | string, now: Date = new Date()): string {
  const date = typeof when === 'string' ? new Date(when) : when;
  if (Number.isNaN(date.getTime())) return typeof when === 'string' ? when : '';
  const time = `${pad(date.getHours())}:${pad(date.getMinutes())}`;
  const sameDay =
    date.getFullYear() === now.getFullYear() && date.getMonth() === now.getMonth() && date.getDate() === now.getDate();
  return sameDay ? time : `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())} ${time}`;
}

/** "demo · 14:02": a run's panel, from results.json's name and finishedAt. */
export function runPanelTitle(name: string, finishedAt: string, now?: Date): string {
  return `${name}${SEP}${shortTime(finishedAt, now)}`;
}

/** "Scores · fan · 14:02": files scored against a bank of one machine type. */
export function scoresPanelTitle(machineType: string, scoredAt: Date, now?: Date): string {
  return `Scores${SEP}${machineType}${SEP}${shortTime(scoredAt, now)}`;
}

/** "Compare · base ↔ no-dn": runs compared, A first; more than two as "Compare · A ↔ B, C". */
export function comparePanelTitle(names: readonly string[]): string {
  const [a, ...others] = names;
  return `Compare${SEP}${a ?? ''} ↔ ${others.join(', ')}`;
}

/** "Clip · fan_0001.wav": a clip played from the Dataset Explorer that no open run or scoring contains. */
export function clipPanelTitle(file: string): string {
  return `Clip${SEP}${baseName(file)}`;
}

/**
 * The machine type a bank was built for: the header's own record where the bank has one, else the first part of
 * the file name Build Memory Bank gives it (`<machine type>-<embedder>-L<layer>.grbank`).
 */
export function bankMachineType(bankFile: string, header: object): string {
  const recorded = (header as Record<string, unknown>)['machineType'];
  if (typeof recorded === 'string' && recorded !== '') return recorded;
  const name = baseName(bankFile).replace(/\.grbank$/i, '');
  const generated = /^(.+?)-.+-L\d+$/.exec(name);
  return generated?.[1] ?? name;
}

/** `title`, or `title (2)`, `title (3)` … — the first not among `taken` (two scorings in the same minute). */
export function uniqueTitle(title: string, taken: ReadonlySet<string>): string {
  if (!taken.has(title)) return title;
  for (let i = 2; ; i++) {
    const candidate = `${title} (${i})`;
    if (!taken.has(candidate)) return candidate;
  }
}

function baseName(file: string): string {
  return file.slice(Math.max(file.lastIndexOf('/'), file.lastIndexOf('\\')) + 1);
}
