import { readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import Ajv from 'ajv';
import { beforeAll, describe, expect, it } from 'vitest';
import { PAPER_DEFAULTS } from '../../worker/src/protocol/vocabulary';
import { PROTOCOL_VERSION, WORKER_REQUESTS } from '../../worker/src/protocol/workerProtocol';
import { formatJson, generateProtocolSchemas, METHODS_FILE, SCHEMA_DIR, SCHEMA_FILE } from './generateProtocolSchemas';

const update = process.env['UPDATE_PROTOCOL_SCHEMAS'] === '1';
let generated: ReturnType<typeof generateProtocolSchemas>;

beforeAll(() => {
  generated = generateProtocolSchemas();
  if (update) {
    writeFileSync(path.join(SCHEMA_DIR, SCHEMA_FILE), formatJson(generated.schema));
    writeFileSync(path.join(SCHEMA_DIR, METHODS_FILE), formatJson(generated.methods));
  }
});

describe('schemas/protocol', () => {
  it('is what the TypeScript protocol declares (regenerate with UPDATE_PROTOCOL_SCHEMAS=1)', () => {
    expect(readFileSync(path.join(SCHEMA_DIR, SCHEMA_FILE), 'utf8')).toBe(formatJson(generated.schema));
    expect(readFileSync(path.join(SCHEMA_DIR, METHODS_FILE), 'utf8')).toBe(formatJson(generated.methods));
  });

  it('lists every method with params and result definitions that exist', () => {
    const schema = generated.schema as { definitions: Record<string, unknown> };
    const requests = (generated.methods as { requests: Record<string, { params: string; result: string }> }).requests;
    expect(Object.keys(requests).sort()).toEqual(Object.keys(WORKER_REQUESTS).sort());
    for (const { params, result } of Object.values(requests)) {
      for (const ref of [params, result]) {
        const name = ref.split('#/definitions/')[1]!;
        expect(schema.definitions[name], ref).toBeDefined();
      }
    }
  });

  it('gives every job method a workDoneToken for progress, and no other method one', () => {
    const schema = generated.schema as { definitions: Record<string, { properties?: Record<string, unknown> }> };
    const requests = (generated.methods as { requests: Record<string, { params: string; job: boolean }> }).requests;
    for (const [method, { params, job }] of Object.entries(requests)) {
      const definition = schema.definitions[params.split('#/definitions/')[1]!]!;
      expect('workDoneToken' in (definition.properties ?? {}), method).toBe(job);
    }
  });

  it('accepts valid params and rejects malformed ones (the checks a worker in another language would make)', () => {
    const ajv = new Ajv({ strict: false });
    ajv.addSchema(generated.schema);
    const id = (generated.schema as { $id: string }).$id;
    const runParams = ajv.compile({ $ref: `${id}#/definitions/RunParams` });
    expect(runParams({ configFile: '/x/a.genrep.json', workDoneToken: 'tok-1' })).toBe(true);
    expect(runParams({ configFile: 3 })).toBe(false);
    expect(runParams({ configFile: '/x', extra: true })).toBe(false);
    const build = ajv.compile({ $ref: `${id}#/definitions/BuildBankParams` });
    const ok = {
      root: '/d',
      machineType: 'fan',
      embedder: 'fbank-stats',
      layer: 1,
      pooling: 'temporal',
      K_n: 1,
      mixup: null,
      out: '/b/fan.grbank',
    };
    expect(build(ok)).toBe(true);
    expect(build({ ...ok, pooling: 'sideways' })).toBe(false);
    expect(build({ ...ok, embedder: { kind: 'beats', checkpoint: '/m/BEATs.pt' } })).toBe(true);
    const progress = ajv.compile({ $ref: `${id}#/definitions/ProgressParams` });
    expect(
      progress({ token: 1, value: { kind: 'report', percentage: 40, stage: 'extract', done: 4, total: 10 } }),
    ).toBe(true);
    expect(progress({ token: 1, value: { kind: 'middle' } })).toBe(false);
  });

  it("carries the paper's defaults in initialize, as the worker sends them (the extension keeps no copy)", () => {
    const ajv = new Ajv({ strict: false });
    ajv.addSchema(generated.schema);
    const id = (generated.schema as { $id: string }).$id;
    const initializeResult = ajv.compile({ $ref: `${id}#/definitions/InitializeResult` });
    const genrep = { protocolVersion: PROTOCOL_VERSION, pid: 1, methods: Object.keys(WORKER_REQUESTS) };
    const result = { capabilities: {}, serverInfo: { name: 'genrep-worker', version: '0' }, genrep };
    expect(initializeResult({ ...result, genrep: { ...genrep, paperDefaults: PAPER_DEFAULTS } })).toBe(true);
    expect(initializeResult(result)).toBe(false);
    expect(
      initializeResult({ ...result, genrep: { ...genrep, paperDefaults: { ...PAPER_DEFAULTS, dn: 'sideways' } } }),
    ).toBe(false);
  });
});
