import * as path from 'node:path';
import { writeFileAtomic } from '../io/atomicWrite';
import type { VariantResult } from '../protocol/results';

/**
 * The DCASE Task 2 submission files for one variant, as the official evaluator reads them: per machine type and
 * section, `anomaly_score_<type>_section_<XX>_test.csv` (`<file>,<score>`) and `decision_result_…` (`<file>,<0|1>`),
 * no header, test clips in dataset order. Returns the file names written.
 */
export async function writeSubmission(outputDir: string, variant: VariantResult): Promise<string[]> {
  const written: string[] = [];
  for (const machine of variant.machines) {
    for (const section of machine.sections) {
      const files = machine.files.filter((f) => f.section === section);
      if (files.length === 0) continue;
      const scoreName = `anomaly_score_${machine.machineType}_section_${section}_test.csv`;
      const decisionName = `decision_result_${machine.machineType}_section_${section}_test.csv`;
      await writeFileAtomic(path.join(outputDir, scoreName), files.map((f) => `${f.name},${f.score}\n`).join(''));
      await writeFileAtomic(path.join(outputDir, decisionName), files.map((f) => `${f.name},${f.decision}\n`).join(''));
      written.push(scoreName, decisionName);
    }
  }
  return written;
}
