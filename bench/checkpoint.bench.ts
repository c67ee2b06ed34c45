/**
 * `npm run bench:checkpoint`: time and peak memory to read a full-size BEATs checkpoint (the state dict the reference
 * BEATs module creates, docs/beats.md "Checks"; 90.7 M float32 parameters ≈ 346 MiB, relative_attention_bias shared
 * by all layers as in the official files),
 * written once to a temporary file in torch.save's zip layout; each read runs in a fresh process so its peak RSS is
 * its own. Options: --runs N (default 3), --keep (leave the file).
 */
import { fork } from 'node:child_process';
import { randomFillSync } from 'node:crypto';
import { closeSync, mkdtempSync, openSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { crc32 } from 'node:zlib';
import type * as CheckpointModule from '../worker/src/checkpoint';
import { builtWorker } from './builtWorker';

const { readCheckpoint } = builtWorker<typeof CheckpointModule>('checkpoint');

function argument(name: string, fallback: number): number {
  const i = process.argv.indexOf(name);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
}

/**
 * The keys and shapes the reference BEATs module creates (docs/beats.md, "Checks") for the fine-tuned iter3+ model
 * (12 layers, 768/3072, 527 classes).
 */
function beatsShapes(): [string, number[]][] {
  const shapes: [string, number[]][] = [
    ['post_extract_proj.weight', [768, 512]],
    ['post_extract_proj.bias', [768]],
    ['patch_embedding.weight', [512, 1, 16, 16]],
    ['encoder.pos_conv.0.bias', [768]],
    ['encoder.pos_conv.0.weight_g', [1, 1, 128]],
    ['encoder.pos_conv.0.weight_v', [768, 48, 128]],
  ];
  for (let i = 0; i < 12; i++) {
    const l = `encoder.layers.${i}.`;
    shapes.push([`${l}self_attn.grep_a`, [1, 12, 1, 1]], [`${l}self_attn.relative_attention_bias.weight`, [320, 12]]);
    for (const p of ['k', 'v', 'q', 'out'])
      shapes.push([`${l}self_attn.${p}_proj.weight`, [768, 768]], [`${l}self_attn.${p}_proj.bias`, [768]]);
    shapes.push([`${l}self_attn.grep_linear.weight`, [8, 64]], [`${l}self_attn.grep_linear.bias`, [8]]);
    shapes.push([`${l}self_attn_layer_norm.weight`, [768]], [`${l}self_attn_layer_norm.bias`, [768]]);
    shapes.push(
      [`${l}fc1.weight`, [3072, 768]],
      [`${l}fc1.bias`, [3072]],
      [`${l}fc2.weight`, [768, 3072]],
      [`${l}fc2.bias`, [768]],
    );
    shapes.push([`${l}final_layer_norm.weight`, [768]], [`${l}final_layer_norm.bias`, [768]]);
  }
  shapes.push(
    ['encoder.layer_norm.weight', [768]],
    ['encoder.layer_norm.bias', [768]],
    ['layer_norm.weight', [512]],
    ['layer_norm.bias', [512]],
  );
  shapes.push(['predictor.weight', [527, 768]], ['predictor.bias', [527]]);
  return shapes;
}

/** Protocol-2 pickle bytes, the subset torch.save writes for {'cfg': {...}, 'model': OrderedDict}. */
class Pickle {
  readonly out: number[] = [0x80, 2];
  str(s: string): this {
    const b = Buffer.from(s);
    this.out.push(0x58, b.length & 0xff, (b.length >> 8) & 0xff, 0, 0, ...b);
    return this;
  }
  int(n: number): this {
    this.out.push(0x4a, n & 0xff, (n >>> 8) & 0xff, (n >>> 16) & 0xff, (n >>> 24) & 0xff);
    return this;
  }
  op(...bytes: number[]): this {
    this.out.push(...bytes);
    return this;
  }
  global(module: string, name: string): this {
    this.out.push(0x63, ...Buffer.from(`${module}\n${name}\n`));
    return this;
  }
  tensor(key: string, numel: number, shape: number[]): this {
    this.global('torch._utils', '_rebuild_tensor_v2')
      .op(0x28, 0x28)
      .str('storage')
      .global('torch', 'FloatStorage')
      .str(key)
      .str('cpu')
      .int(numel)
      .op(0x74, 0x51);
    this.int(0).op(0x28);
    for (const n of shape) this.int(n);
    this.op(0x74, 0x28);
    let stride = 1;
    const strides = shape.map(() => 0);
    for (let d = shape.length - 1; d >= 0; d--) {
      strides[d] = stride;
      stride *= shape[d]!;
    }
    for (const s of strides) this.int(s);
    this.op(0x74, 0x89).global('collections', 'OrderedDict').op(0x29, 0x52, 0x74, 0x52);
    return this;
  }
}

/**
 * The fields a zip local header and its central-directory record share, in the same order from "version needed to
 * extract" (at `at`: 4 in the local header, 6 in the central record) to the name length, for a stored entry with no
 * flags, time or extra field (those stay zero).
 */
function writeSharedZipFields(header: Buffer, at: number, crc: number, size: number, nameLength: number): void {
  header.writeUInt16LE(20, at); // version needed to extract
  header.writeUInt32LE(crc, at + 10);
  header.writeUInt32LE(size, at + 14); // compressed
  header.writeUInt32LE(size, at + 18); // uncompressed
  header.writeUInt16LE(nameLength, at + 22);
}

/** Writes the checkpoint entry by entry (stored), never holding more than one storage. */
function writeBeatsCheckpoint(file: string): { bytes: number; params: number } {
  const shapes = beatsShapes();
  const pickle = new Pickle().op(0x7d, 0x28).str('cfg').op(0x7d).str('encoder_layers').int(12).op(0x73);
  pickle.str('model').global('collections', 'OrderedDict').op(0x29, 0x52, 0x28);
  const storages: [string, number][] = [];
  let sharedKey: string | undefined;
  let params = 0;
  for (const [name, shape] of shapes) {
    const numel = shape.reduce((a, b) => a * b, 1);
    let key = String(storages.length);
    if (name.endsWith('relative_attention_bias.weight')) {
      if (sharedKey === undefined) storages.push([(sharedKey = key), numel]);
      else key = sharedKey;
    } else {
      storages.push([key, numel]);
    }
    pickle.str(name).tensor(key, numel, shape);
    params += numel;
  }
  pickle.op(0x75, 0x75, 0x2e);

  const fd = openSync(file, 'w');
  let offset = 0;
  const central: Buffer[] = [];
  const entry = (name: string, data: Uint8Array): void => {
    const nameBytes = Buffer.from(`beats/${name}`);
    const crc = crc32(data);
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    writeSharedZipFields(local, 4, crc, data.length, nameBytes.length);
    const cd = Buffer.alloc(46);
    cd.writeUInt32LE(0x02014b50, 0);
    cd.writeUInt16LE(20, 4); // version made by
    writeSharedZipFields(cd, 6, crc, data.length, nameBytes.length);
    cd.writeUInt32LE(offset, 42);
    central.push(cd, nameBytes);
    offset += writeSync(fd, local) + writeSync(fd, nameBytes) + writeSync(fd, data);
  };
  entry('data.pkl', Uint8Array.from(pickle.out));
  for (const [key, numel] of storages) {
    const values = new Float32Array(numel);
    randomFillSync(values);
    // random bits include NaNs; scale into small finite weights instead
    for (let i = 0; i < numel; i++) values[i] = (values[i]! % 1) * 0.02 || 0;
    entry(`data/${key}`, new Uint8Array(values.buffer));
  }
  entry('version', Buffer.from('3\n'));
  const cdBytes = Buffer.concat(central);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(central.length / 2, 8);
  end.writeUInt16LE(central.length / 2, 10);
  end.writeUInt32LE(cdBytes.length, 12);
  end.writeUInt32LE(offset, 16);
  writeSync(fd, cdBytes);
  writeSync(fd, end);
  closeSync(fd);
  return { bytes: offset + cdBytes.length + end.length, params };
}

/** One measured read, in a fresh process so its peak RSS is this read's alone. */
async function child(file: string, sha256: boolean): Promise<void> {
  const baseline = process.resourceUsage().maxRSS;
  const t0 = process.hrtime.bigint();
  const cpu0 = process.cpuUsage();
  const ck = await readCheckpoint(file, { sha256 });
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  const cpu = process.cpuUsage(cpu0);
  const cpuSeconds = (cpu.user + cpu.system) / 1e6;
  const held = [...ck.tensors.values()].reduce((s, t) => s + t.data.byteLength, 0);
  process.send!({
    seconds,
    cpuSeconds,
    tensors: ck.tensors.size,
    held,
    baselineKiB: baseline,
    maxRssKiB: process.resourceUsage().maxRSS,
  });
}

interface ChildReport {
  seconds: number;
  cpuSeconds: number;
  tensors: number;
  held: number;
  baselineKiB: number;
  maxRssKiB: number;
}

function measure(file: string, sha256: boolean): Promise<ChildReport> {
  return new Promise((resolve, reject) => {
    const proc = fork(__filename, ['--child', file, ...(sha256 ? ['--sha256'] : [])]);
    proc.on('message', (m) => resolve(m as ChildReport));
    proc.on('error', reject);
    proc.on('exit', (code) => code !== 0 && reject(new Error(`measuring process exited with ${code}`)));
  });
}

async function main(): Promise<void> {
  const childAt = process.argv.indexOf('--child');
  if (childAt >= 0) return child(process.argv[childAt + 1]!, process.argv.includes('--sha256'));
  const runs = argument('--runs', 3);
  const dir = mkdtempSync(path.join(tmpdir(), 'genrep-bench-ckpt-'));
  const file = path.join(dir, 'beats.pt');
  try {
    const { bytes, params } = writeBeatsCheckpoint(file);
    const mib = bytes / 2 ** 20;
    console.log(
      `file: ${mib.toFixed(1)} MiB, ${params} parameters (${((params * 4) / 2 ** 20).toFixed(1)} MiB as float32)`,
    );
    for (let run = 0; run <= runs; run++) {
      const hash = run === runs;
      const r = await measure(file, hash);
      console.log(
        `${hash ? 'with sha256' : `run ${run + 1}`}: ${r.seconds.toFixed(2)} s wall (${(mib / r.seconds).toFixed(0)} MiB/s), ${r.cpuSeconds.toFixed(2)} s CPU, ${r.tensors} tensors holding ` +
          `${(r.held / 2 ** 20).toFixed(1)} MiB; peak RSS ${(r.maxRssKiB / 1024).toFixed(0)} MiB, ` +
          `${((r.maxRssKiB - r.baselineKiB) / 1024).toFixed(0)} MiB above the process before reading`,
      );
    }
  } finally {
    if (!process.argv.includes('--keep')) rmSync(dir, { recursive: true, force: true });
    else console.log(`kept ${file}`);
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
