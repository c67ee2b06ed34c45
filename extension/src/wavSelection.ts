/**
 * The explorer hands "Score Selected WAV Files" whatever is selected: folders, text files, the same file twice.
 * Keeps WAV files in selection order and names the rest, so the command can say what it left out.
 */
export function partitionWavs(paths: readonly string[]): { wavs: string[]; others: string[] } {
  const wavs: string[] = [];
  const others: string[] = [];
  const seen = new Set<string>();
  for (const p of paths) {
    if (seen.has(p)) continue;
    seen.add(p);
    (/\.wav$/i.test(p) ? wavs : others).push(p);
  }
  return { wavs, others };
}

/** "a.txt, b.mp3 and 3 more" */
export function listForMessage(files: readonly string[], basename: (p: string) => string, shown = 3): string {
  const names = files.slice(0, shown).map(basename);
  const rest = files.length - names.length;
  return rest > 0 ? `${names.join(', ')} and ${rest} more` : names.join(', ');
}
