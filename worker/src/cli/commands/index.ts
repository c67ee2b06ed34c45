import type { Command } from 'commander';
import { registerModelCommand } from './model';
import { registerInfoCommand } from './info';

/** Each command lives in its own module and registers itself here; the order is the order `--help` lists them. */
export function registerCommands(program: Command): void {
  registerModelCommand(program);
  registerInfoCommand(program);
}
