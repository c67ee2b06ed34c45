/**
 * Which files "Compare Results" compares, from what the explorer hands it (the clicked file, and the whole
 * multi-selection when there is one): results.json files in selection order, each once, A being the first; the rest
 * named so the command can say what it left out. No `vscode` import: test/extension/compareSelection.test.ts.
 */
export interface CompareSelection {
  /** results.json files, A first. */
  files: string[];
  /** Selected paths that are not a results.json. */
  others: string[];
}

export function compareSelection(clicked: string | undefined, selected: readonly string[]): CompareSelection {
  // VS Code passes the clicked item and, with a multi-selection, every selected item (the clicked one among them).
  const paths = selected.length > 0 ? selected : clicked !== undefined ? [clicked] : [];
  const files: string[] = [];
  const others: string[] = [];
  const seen = new Set<string>();
  for (const p of paths) {
    if (seen.has(p)) continue;
    seen.add(p);
    (isResultsJson(p) ? files : others).push(p);
  }
  return { files, others };
}

/** What the command does with a selection: compare it, or ask for more results.json (fewer than two selected). */
export function compareAction(selection: CompareSelection): 'compare' | 'askForMore' {
  return selection.files.length >= 2 ? 'compare' : 'askForMore';
}

export function isResultsJson(file: string): boolean {
  return /(^|[\\/])results\.json$/.test(file);
}
