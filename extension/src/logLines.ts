/**
 * The GenRep output channel is a LogOutputChannel, which stamps each line with its own time and level. The language
 * client writes its lines (and the worker's window/logMessage) as `[Info  - 14:02:07] message` into whatever channel
 * it is given, so passed ours directly every line read `… [info] [Info  - 14:02:07] message`. These helpers turn the
 * client's lines back into a level and the message alone. No `vscode` import: test/extension/logLines.test.ts.
 */
export type LogLevel = 'trace' | 'debug' | 'info' | 'warn' | 'error';

const LEVELS: Record<string, LogLevel> = {
  Trace: 'trace',
  Debug: 'debug',
  Info: 'info',
  Warn: 'warn',
  Error: 'error',
  LSP: 'trace',
};

/** `[Info  - 2:07:13 PM] text` → info, `text`; a line without the client's prefix is info as it stands. */
export function parseClientLine(line: string): { level: LogLevel; message: string } {
  const m = /^\[(Trace|Debug|Info|Warn|Error|LSP)\s*- [^\]]*\] ?/.exec(line);
  if (!m) return { level: 'info', message: line };
  return { level: LEVELS[m[1]!] ?? 'info', message: line.slice(m[0].length) };
}

/** Cuts a stream written in arbitrary pieces (the worker's stderr) into whole lines; keeps the unfinished tail. */
export class LineBuffer {
  private tail = '';

  push(text: string): string[] {
    const parts = (this.tail + text).split(/\r?\n/);
    this.tail = parts.pop() ?? '';
    return parts.filter((l) => l.trim() !== '');
  }
}
