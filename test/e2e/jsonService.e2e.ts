import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { createMessageConnection, StreamMessageReader, StreamMessageWriter } from 'vscode-jsonrpc/node';
import { describe, expect, it } from 'vitest';

/**
 * What VS Code's own JSON service does with *.genrep.json given the completion schema package.json names: no
 * diagnostic of its own (the worker's are the only ones), and completion that inserts valid values. It drives the
 * JSON language server shipped with code-server (installed into .e2e/ by scripts/e2e/setup.sh, which `npm run
 * test:e2e` runs first, or named by GENREP_JSON_SERVER). It lives in the end-to-end suite because that server comes
 * with code-server and is no dependency of ours; a missing server fails the test.
 */
const ROOT = path.resolve(__dirname, '..', '..');
const SERVER =
  process.env['GENREP_JSON_SERVER'] ??
  path.join(
    ROOT,
    '.e2e/code-server/node_modules/code-server/lib/vscode/extensions/json-language-features/server/dist/node/jsonServerMain.js',
  );
const SCHEMA = path.join(ROOT, 'schemas', 'run-config.completion.schema.json');
const URI = 'file:///ws/demo.genrep.json';

/** A config with a mistake of each kind the full schema would flag, comments and trailing commas. */
const TEXT = `// my run
{
  "dataset": { "root": "data", "layout": "dcase2042", },
  "K_n": "three",
  "colour": 1,
  "mixup": { "K_s": 5000 },
  "embedder": "",
  
}
`;

interface Item {
  label: string;
  insertText?: string;
  textEdit?: { newText: string };
}

async function withJsonServer<T>(
  text: string,
  use: (complete: (line: number, character: number) => Promise<[string, string][]>) => Promise<T>,
): Promise<{ diagnostics: { message: string }[]; value: T }> {
  const child = spawn(process.execPath, [SERVER, '--stdio'], { stdio: ['pipe', 'pipe', 'ignore'] });
  const connection = createMessageConnection(
    new StreamMessageReader(child.stdout),
    new StreamMessageWriter(child.stdin),
  );
  let diagnostics: { message: string }[] | undefined;
  let published: () => void = () => undefined;
  const firstDiagnostics = new Promise<void>((resolve) => (published = resolve));
  connection.onRequest('vscode/content', (uri: string) => readFileSync(new URL(uri), 'utf8'));
  connection.onRequest('workspace/configuration', () => [null]);
  connection.onRequest('client/registerCapability', () => null);
  connection.onNotification(
    'textDocument/publishDiagnostics',
    (p: { uri: string; diagnostics: { message: string }[] }) => {
      if (p.uri !== URI) return;
      diagnostics = p.diagnostics;
      published();
    },
  );
  connection.listen();
  try {
    await connection.sendRequest('initialize', {
      processId: process.pid,
      rootUri: null,
      capabilities: { textDocument: { completion: { completionItem: { snippetSupport: true } } } },
      initializationOptions: { handledSchemaProtocols: ['file'] },
    });
    await connection.sendNotification('initialized', {});
    await connection.sendNotification('workspace/didChangeConfiguration', {
      settings: {
        json: { validate: { enable: true }, schemas: [{ fileMatch: ['*.genrep.json'], url: `file://${SCHEMA}` }] },
      },
    });
    await connection.sendNotification('textDocument/didOpen', {
      textDocument: { uri: URI, languageId: 'jsonc', version: 1, text },
    });
    await firstDiagnostics;
    const value = await use(async (line, character) => {
      const result = await connection.sendRequest<{ items: Item[] } | Item[]>('textDocument/completion', {
        textDocument: { uri: URI },
        position: { line, character },
      });
      const items = Array.isArray(result) ? result : result.items;
      return items.map((i) => [i.label, i.textEdit?.newText ?? i.insertText ?? '']);
    });
    return { diagnostics: diagnostics ?? [], value };
  } finally {
    connection.dispose();
    child.kill();
  }
}

describe("VS Code's JSON service on a run config, with the completion schema", () => {
  it('is installed with code-server', () => {
    expect(existsSync(SERVER), `${SERVER} is missing: run \`npm run e2e:setup\``).toBe(true);
  });

  it('reports nothing of its own, and completes threads with 4 and embedder with every known encoder', async () => {
    const { diagnostics, value } = await withJsonServer(TEXT, async (complete) => ({
      embedder: await complete(6, 15),
      keys: await complete(7, 2),
    }));
    expect(diagnostics).toEqual([]);
    expect(value.embedder.map(([label]) => label)).toEqual(
      expect.arrayContaining(['fbank-stats', 'beats', 'beats_ft1', 'beats_ft2', 'beats_iter3']),
    );
    const keys = new Map(value.keys);
    expect(keys.get('threads')).toBe('"threads": 4');
    expect(keys.get('lowShot')).toBe('"lowShot": {$1}');
    expect(keys.get('cacheDir')).toBe('"cacheDir": "$1"');
  }, 30_000);
});
