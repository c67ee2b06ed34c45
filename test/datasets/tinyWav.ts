import { promises as fsp } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { encodeWavPcm16 } from '../../worker/src/audio';

/** 0.1 s of a quiet 440 Hz tone: discovery never decodes audio, but the files are real WAVs anyway. */
const TINY = (() => {
  const samples = new Float32Array(1600);
  for (let i = 0; i < samples.length; i++) samples[i] = 0.1 * Math.sin((2 * Math.PI * 440 * i) / 16000);
  return encodeWavPcm16(samples, 16000);
})();

export async function writeTinyWavs(root: string, relPaths: string[]): Promise<void> {
  const dirs = new Set(relPaths.map((p) => path.dirname(path.join(root, p))));
  for (const dir of dirs) await fsp.mkdir(dir, { recursive: true });
  await Promise.all(relPaths.map((p) => fsp.writeFile(path.join(root, p), TINY)));
}

const created: string[] = [];

/** A fresh temporary folder, removed by removeTempDirs (call it from afterAll). */
export async function tempDir(prefix: string): Promise<string> {
  const dir = await fsp.mkdtemp(path.join(os.tmpdir(), `genrep-${prefix}-`));
  created.push(dir);
  return dir;
}

/** A fresh temporary folder (see tempDir) holding a tiny WAV at each of `relPaths`. */
export async function tinyWavTree(prefix: string, relPaths: string[]): Promise<string> {
  const root = await tempDir(prefix);
  await writeTinyWavs(root, relPaths);
  return root;
}

export async function removeTempDirs(): Promise<void> {
  await Promise.all(created.splice(0).map((d) => fsp.rm(d, { recursive: true, force: true })));
}

export function range(n: number): number[] {
  return Array.from({ length: n }, (_, i) => i);
}

export const pad = (n: number, width: number): string => String(n).padStart(width, '0');
