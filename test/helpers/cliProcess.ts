import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { expect } from 'vitest';

/**
 * The built CLI in a child process, for what an in-process run cannot show: peak memory (the child's own maxRSS),
 * crashes (a signal instead of an exit code) and hangs (a wall-clock limit). Several invocations can share one
 * process (a fuzz batch); the peak RSS then covers all of them.
 */
export const CLI_MAIN = path.resolve(__dirname, '..', '..', 'dist', 'worker', 'cli', 'main.js');
const RUNNER = path.resolve(__dirname, 'cliBatchRunner.cjs');

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
  ms: number;
}

export interface BatchResult {
  /** One entry per invocation that finished. */
  results: CliResult[];
  /** Peak resident set of the child process over the whole batch, in MB (undefined when it did not finish). */
  maxRssMb: number | undefined;
  /** The index of the invocation that was running when the child died or was stopped, if any. */
  unfinished: number | undefined;
  /** How the child ended: exit code, or the signal that killed it. */
  exit: { code: number | null; signal: NodeJS.Signals | null };
  timedOut: boolean;
  /** The child's own stderr (outside any invocation: V8 aborts, native crashes). */
  processStderr: string;
}

export async function runCliBatch(
  invocations: string[][],
  options: { timeoutMs?: number; env?: NodeJS.ProcessEnv; maxOldSpaceMb?: number } = {},
): Promise<BatchResult> {
  if (!existsSync(CLI_MAIN)) throw new Error(`${CLI_MAIN} is missing: build first (npx tsc -b)`);
  const dir = mkdtempSync(path.join(os.tmpdir(), 'genrep-cli-batch-'));
  try {
    const invocationsFile = path.join(dir, 'invocations.json');
    const resultsFile = path.join(dir, 'results.jsonl');
    writeFileSync(invocationsFile, JSON.stringify(invocations));
    writeFileSync(resultsFile, '');
    const nodeArgs = options.maxOldSpaceMb ? [`--max-old-space-size=${options.maxOldSpaceMb}`] : [];
    const child = spawn(process.execPath, [...nodeArgs, RUNNER, invocationsFile, resultsFile], {
      stdio: ['ignore', 'ignore', 'pipe'],
      env: { ...process.env, ...options.env },
    });
    let processStderr = '';
    child.stderr.on('data', (d: Buffer) => {
      if (processStderr.length < 100_000) processStderr += d.toString('utf8');
    });
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, options.timeoutMs ?? 60_000);
    const exit = await new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
      child.once('exit', (code, signal) => resolve({ code, signal })),
    );
    clearTimeout(timer);
    const results: CliResult[] = [];
    let maxRssMb: number | undefined;
    let started: number | undefined;
    for (const line of readFileSync(resultsFile, 'utf8').split('\n')) {
      if (!line) continue;
      const record = JSON.parse(line) as Record<string, unknown>;
      if (typeof record['started'] === 'number') started = record['started'];
      else if (typeof record['index'] === 'number') {
        results.push(record as unknown as CliResult);
        started = undefined;
      } else if (typeof record['maxRssMb'] === 'number') maxRssMb = record['maxRssMb'];
    }
    return { results, maxRssMb, unfinished: started, exit, timedOut, processStderr };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** One invocation in its own process; throws with what happened if the process crashed or hung. */
export async function runCliProcess(
  args: string[],
  options: { timeoutMs?: number; env?: NodeJS.ProcessEnv } = {},
): Promise<CliResult & { maxRssMb: number }> {
  const batch = await runCliBatch([args], options);
  const result = batch.results[0];
  if (!result || batch.maxRssMb === undefined) {
    const how = batch.timedOut
      ? `timed out after ${options.timeoutMs ?? 60_000} ms`
      : `ended with ${JSON.stringify(batch.exit)}`;
    throw new Error(`genrep ${args.join(' ')}: ${how}; stderr: ${batch.processStderr.slice(0, 2000)}`);
  }
  return { ...result, maxRssMb: batch.maxRssMb };
}

/**
 * Runs `args` in a child and asserts what every hostile input must end in: exit 1, nothing on stdout, one
 * `genrep: …` line matching `pattern`, within `timeMs` (inside the CLI) and `rssMb` (peak of the child).
 */
export async function expectOneLineError(
  args: string[],
  pattern: RegExp,
  bounds: { timeMs: number; rssMb: number },
): Promise<CliResult & { maxRssMb: number }> {
  const run = await runCliProcess(args, { timeoutMs: bounds.timeMs * 2 });
  expect(run.stderr).toMatch(pattern);
  expect(isOneLineError(run.stderr), run.stderr).toBe(true);
  expect(run.code).toBe(1);
  expect(run.stdout).toBe('');
  expect(run.ms).toBeLessThan(bounds.timeMs);
  expect(run.maxRssMb).toBeLessThan(bounds.rssMb);
  return run;
}

/** A one-line error as the CLI prints it: `genrep: …`, no stack frames, no raw control characters. */
export function isOneLineError(stderr: string): boolean {
  const lines = stderr.split('\n').filter((l) => l.length > 0);
  return (
    lines.length === 1 &&
    (lines[0] ?? '').startsWith('genrep: ') &&
    !/\n\s+at /.test(stderr) &&
    !/internal error/.test(stderr) &&
    // eslint-disable-next-line no-control-regex
    !/[\u0000-\u0009\u000b-\u001f\u007f-\u009f]/.test(stderr)
  );
}

export function writeTempFile(name: string, data: Uint8Array | string): { file: string; cleanup: () => void } {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'genrep-hostile-'));
  const file = path.join(dir, name);
  writeFileSync(file, data);
  return { file, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}
