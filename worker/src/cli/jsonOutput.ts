import { writeFileAtomic } from '../io/atomicWrite';

/** A command's JSON result as one line: written atomically to `out` when given (its --out), else to stdout. */
export async function writeJsonResult(value: unknown, out: string | undefined): Promise<void> {
  const text = `${JSON.stringify(value)}\n`;
  if (out !== undefined) await writeFileAtomic(out, text);
  else process.stdout.write(text);
}
