import type { Command } from 'commander';
import { registerModelCommand } from './model';
import { registerModelConvertCommand } from './modelConvert';
import { registerEmbedCommand } from './embed';
import { registerInfoCommand } from './info';
import { registerFbankCommand } from './fbank';
import { registerRunCommand } from './run';
import { registerDemoCommand } from './demo';
import { registerScoreFeaturesCommand } from './scoreFeatures';
import { registerMetricsCommand } from './metrics';
import { registerSynthCommand } from './synth';
import { registerBankCommand } from './bank';
import { registerScoreCommand } from './score';
import { registerExplainCommand } from './explain';

/** Each command lives in its own module and registers itself here; the order is the order `--help` lists them. */
export function registerCommands(program: Command): void {
  registerModelConvertCommand(registerModelCommand(program));
  registerEmbedCommand(program);
  registerInfoCommand(program);
  registerFbankCommand(program);
  registerRunCommand(program);
  registerDemoCommand(program);
  registerBankCommand(program);
  registerScoreCommand(program);
  registerExplainCommand(program);
  registerScoreFeaturesCommand(program);
  registerMetricsCommand(program);
  registerSynthCommand(program);
}
