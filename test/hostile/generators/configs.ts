import type { HostileCase } from '../corpus';

/**
 * Hostile run configs for test/hostile/configs.test.ts (see test/fixtures/hostile/README.md). Each is copied into a
 * temporary folder next to a tiny dataset (`data/`), so `"root": "data"`, `"cacheDir": "cache"` and `"output": "out"`
 * resolve there. Configs naming system paths (`"output": "/etc/passwd"`) are built by the test itself.
 */
const utf8 = (text: string): Uint8Array => new Uint8Array(Buffer.from(text, 'utf8'));

/** The members every config here shares: fbank-stats features and a small MemMixup fit the test's dataset. */
const BASE = '"dataset": { "root": "data" }, "embedder": "fbank-stats", "mixup": { "K_s": 5, "lambda": 0.9 }';
/** A config that runs in well under a second on the test's one-machine dataset. */
const VALID = `${BASE}, "cacheDir": "cache", "output": "out"`;

/** A bracket run `depth` deep inside an otherwise valid config; parsing it recursively overflows the stack. */
function deepArray(depth: number): string {
  return `{ ${VALID}, "layers": ${'['.repeat(depth)}${']'.repeat(depth)} }\n`;
}

function deepObject(depth: number): string {
  return `{ ${VALID}, "name": ${'{"a":'.repeat(depth)}1${'}'.repeat(depth)} }\n`;
}

export const cases: HostileCase[] = [
  {
    file: 'configs/bom-crlf-comments.genrep.json',
    note:
      'UTF-8 byte-order mark, CRLF line ends and comments, as a Windows editor saves it; ' +
      'was refused as invalid JSON at 1:1',
    bytes: () => utf8(`\ufeff{\r\n  // saved by a Windows editor\r\n  ${VALID},\r\n  "K_n": 1\r\n}\r\n`),
  },
  {
    file: 'configs/duplicate-key.genrep.json',
    note: 'K_n given twice; the last silently won',
    bytes: () => utf8(`{\n  ${VALID},\n  "K_n": 1,\n  "K_n": 2\n}\n`),
  },
  {
    file: 'configs/duplicate-nested-key.genrep.json',
    note: 'mixup.K_s given twice inside its object; MemMixup was silently turned off by the second',
    bytes: () =>
      utf8(
        [
          '{',
          '  "dataset": { "root": "data" },',
          '  "embedder": "fbank-stats",',
          '  "mixup": {',
          '    "K_s": 5,',
          '    "lambda": 0.9,',
          '    "K_s": 0',
          '  },',
          '  "output": "out"',
          '}',
          '',
        ].join('\n'),
      ),
  },
  {
    file: 'configs/duplicate-key-escaped.genrep.json',
    note: 'K_n and its escaped spelling K\\u005fn are the same key after decoding; the last silently won',
    bytes: () => utf8(`{\n  ${VALID},\n  "K_n": 1,\n  "K\\u005fn": 3\n}\n`),
  },
  {
    file: 'configs/deep-array-32k.genrep.json',
    note:
      '32,000 nested arrays as "layers" (64 KB); parsing overflowed the stack: ' +
      '"Maximum call stack size exceeded", exit 70',
    bytes: () => utf8(deepArray(32_000)),
  },
  {
    file: 'configs/deep-object-10k.genrep.json',
    note: '10,000 nested objects as "name"; parsing overflowed the stack, exit 70',
    bytes: () => utf8(deepObject(10_000)),
  },
  {
    file: 'configs/depth-65.genrep.json',
    note: 'one level past the nesting limit (64), to pin where the limit is',
    bytes: () => utf8(deepArray(64)),
  },
  {
    file: 'configs/brackets-in-strings.genrep.json',
    note: 'brackets inside a string and a comment are not nesting; a valid config that runs',
    bytes: () => utf8(`{\n  // ${'{['.repeat(200)}\n  ${VALID},\n  "name": "${'['.repeat(500)}"\n}\n`),
  },
  {
    file: 'configs/utf16le.genrep.json',
    note: 'a valid config saved as UTF-16LE with its byte-order mark; read as garbage UTF-8',
    bytes: () => new Uint8Array(Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(`{ ${VALID} }\n`, 'utf16le')])),
  },
  {
    file: 'configs/escape-in-key.genrep.json',
    note: 'an unknown key holding a terminal escape sequence and a newline; the error must stay one printable line',
    bytes: () => utf8(`{\n  ${VALID},\n  "\\u001b[31mred\\nline": 1\n}\n`),
  },
  {
    file: 'configs/empty.genrep.json',
    note: 'an empty file',
    bytes: () => new Uint8Array(0),
  },
  {
    file: 'configs/output-is-dataset.genrep.json',
    note: '"output" naming the dataset folder; a run replaces its output folder as a whole, so it must refuse',
    bytes: () => utf8(`{ ${BASE}, "cacheDir": "cache", "output": "data" }\n`),
  },
  {
    file: 'configs/cache-inside-output.genrep.json',
    note: 'the feature cache inside the output folder, which each run replaces',
    bytes: () => utf8(`{ ${BASE}, "cacheDir": "out/cache", "output": "out" }\n`),
  },
];

/** Too big to commit (about 200 KB): made in the test's temp folder. */
export function deep100kConfig(kind: 'array' | 'object'): string {
  return kind === 'array' ? deepArray(100_000) : deepObject(100_000);
}
