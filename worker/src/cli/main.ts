import { Command, CommanderError } from 'commander';
import { escapeControl, GenrepError } from '../errors';
import { fsError, isFsError } from '../io/fsErrors';
import { registerCommands } from './commands';

/** Builds the `genrep` program; exported so tests drive the same parser the binary uses. */
export function buildProgram(): Command {
  const program = new Command('genrep')
    .description('GenRep anomalous sound detection: WAV reading, Kaldi fbank, BEATs features, kNN scoring')
    .exitOverride()
    .configureOutput({ outputError: (str, write) => write(str) });
  registerCommands(program);
  return program;
}

/** Runs the CLI and returns the exit code; every failure becomes one clear line on stderr. */
export async function main(argv: string[]): Promise<number> {
  const program = buildProgram();
  try {
    await program.parseAsync(argv);
    return 0;
  } catch (err) {
    if (err instanceof CommanderError) {
      // commander already printed its message (usage errors, --help, --version).
      return err.exitCode;
    }
    if (err instanceof GenrepError) {
      process.stderr.write(`genrep: ${err.message}\n`);
      return err.code === 'INTERNAL' ? 70 : 1;
    }
    if (isFsError(err)) {
      // A filesystem failure that no command mapped itself (ENOSPC mid-write, say) is still the user's to fix.
      const path = (err as NodeJS.ErrnoException).path ?? '(unknown path)';
      process.stderr.write(`genrep: ${fsError(err, path).message}\n`);
      return 1;
    }
    process.stderr.write(
      `genrep: internal error: ${escapeControl(err instanceof Error ? err.message : String(err))}\n`,
    );
    if (process.env['GENREP_DEBUG'] && err instanceof Error && err.stack) process.stderr.write(`${err.stack}\n`);
    return 70;
  }
}
