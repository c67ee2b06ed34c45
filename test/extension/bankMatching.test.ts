import { describe, expect, it } from 'vitest';
import {
  CHOICE_LABELS,
  choiceLabel,
  choosePrompt,
  embedderKind,
  groupFiles,
  matchingBanks,
  mergeJobs,
  needsOtherTypeConsent,
  otherBankDescription,
  planGroup,
  rootsByMachineType,
  type FileGroup,
} from '../../extension/src/bankMatching';
import type { BankFileHeader } from '../../worker/src/protocol/bankHeader';
import type { BankListing, ResolvedClip } from '../../worker/src/protocol/workerProtocol';

function clip(file: string, machineType: string | null, section: string | null = '00', root = '/d'): ResolvedClip {
  return {
    path: file,
    how: machineType === null ? 'unknown' : 'dataset',
    root: machineType === null ? null : root,
    machineType,
    section,
    domain: null,
    split: 'test',
    reason: machineType === null ? 'machine type unknown: outside every dataset root' : `in dataset root ${root}`,
  };
}

function bank(file: string, h: Partial<BankFileHeader>): BankListing {
  const header: BankFileHeader = {
    format: 'genrep-bank',
    embedder: 'fbank-stats:v1',
    layer: 1,
    pooling: 'temporal',
    dim: 256,
    dtype: 'float32',
    kind: 'domain',
    groups: ['source', 'target'],
    rowGroups: [[0, 4]],
    counts: { rows: 4, source: 4, target: 0, augmented: 0 },
    kn: 1,
    mixup: null,
    index: 'exact',
    hnsw: { m: 16, efConstruction: 200, efSearch: 64, randomSeed: 100 },
    ...h,
  };
  return { file, header };
}

const fan = bank('/b/fan-fbank-stats-L1.grbank', { machineType: 'fan', section: '00' });
const fanAll = bank('/b/fan-all.grbank', { machineType: 'fan' });
const fanBeats = bank('/b/fan-beats-L4.grbank', { machineType: 'fan', embedder: 'beats:abc', layer: 4 });
const legacy = bank('/b/old.grbank', {});
const roots = new Map([
  ['fan', ['/d']],
  ['pump', ['/d', '/e']],
]);
const opts = { embedder: 'fbank-stats', datasetRoots: roots };

describe('grouping the selected files by resolved machine type', () => {
  it('groups by type and section in selection order, every unknown file together', () => {
    const groups = groupFiles([
      clip('/d/pump/test/a.wav', 'pump'),
      clip('/x/1.wav', null),
      clip('/d/fan/test/b.wav', 'fan'),
      clip('/d/pump/test/c.wav', 'pump'),
      clip('/d/fan/test/s1.wav', 'fan', '01'),
      clip('/y/2.wav', null, '03'),
    ]);
    expect(groups.map((g) => [g.machineType, g.section, g.files.map((f) => f.path)])).toEqual([
      ['pump', '00', ['/d/pump/test/a.wav', '/d/pump/test/c.wav']],
      [null, null, ['/x/1.wav', '/y/2.wav']],
      ['fan', '00', ['/d/fan/test/b.wav']],
      ['fan', '01', ['/d/fan/test/s1.wav']],
    ]);
    expect(groups[0]!.root).toBe('/d');
    const mixed = groupFiles([clip('/d/pump/test/a.wav', 'pump'), clip('/e/pump/test/a.wav', 'pump', '00', '/e')]);
    expect(mixed[0]!.root).toBeNull();
  });
});

describe('matching a group to a bank', () => {
  const fanGroup = groupFiles([clip('/d/fan/test/b.wav', 'fan')])[0]!;

  it('tells embedder kinds apart as the worker ids start', () => {
    expect(embedderKind('fbank-stats')).toBe('fbank-stats');
    expect(embedderKind('BEATs_iter3_plus_AS2M')).toBe('beats');
    expect(embedderKind('/m/ft1.pt')).toBe('beats');
    expect(embedderKind('/m/enc.ONNX')).toBe('onnx');
  });

  it('uses the bank of the same type and embedder, the same section before one of all sections', () => {
    expect(matchingBanks(fanGroup, [fanAll, fanBeats, legacy, fan], 'fbank-stats').map((b) => b.file)).toEqual([
      fan.file,
      fanAll.file,
    ]);
    expect(planGroup(fanGroup, [fanAll, fan, legacy], opts)).toMatchObject({ kind: 'score', bank: fan });
    expect(planGroup(fanGroup, [fanAll], opts)).toMatchObject({ kind: 'score', bank: fanAll });
    // With a BEATs model selected the fbank-stats banks do not fit.
    expect(planGroup(fanGroup, [fan, fanBeats], { ...opts, embedder: 'BEATs_iter3' })).toMatchObject({
      kind: 'score',
      bank: fanBeats,
    });
  });

  it('asks among banks that fit equally well, and prefers a bank of another section to none', () => {
    const fan2 = bank('/b/fan-fbank-stats-L1-b.grbank', { machineType: 'fan', section: '00' });
    const plan = planGroup(fanGroup, [fan2, fan, fanAll], opts);
    expect(plan.kind).toBe('pick');
    expect(plan.kind === 'pick' && plan.banks.map((b) => b.file)).toEqual([fan2.file, fan.file, fanAll.file]);
    const section1 = groupFiles([clip('/d/fan/test/s1.wav', 'fan', '01')])[0]!;
    expect(planGroup(section1, [fan], opts)).toMatchObject({ kind: 'score', bank: fan });
  });

  it('offers build / another bank / skip when no bank has the type, building from the files’ own root', () => {
    const pump = groupFiles([clip('/e/pump/test/a.wav', 'pump', '00', '/e')])[0]!;
    const plan = planGroup(pump, [fan, legacy], opts);
    expect(plan).toMatchObject({ kind: 'choose', choices: ['build', 'other', 'skip'], buildRoot: '/e' });
    expect(plan.kind === 'choose' && plan.otherBanks.map((b) => b.file)).toEqual([fan.file, legacy.file]);
    // No bank at all: nothing else to pick.
    expect(planGroup(pump, [], opts)).toMatchObject({ kind: 'choose', choices: ['build', 'skip'] });
    // A type no listed dataset has training clips for cannot be built here.
    const valve = groupFiles([{ ...clip('/x/valve/test/a.wav', 'valve'), how: 'file-name', root: null }])[0]!;
    expect(planGroup(valve, [fan], opts)).toMatchObject({ kind: 'choose', choices: ['other', 'skip'] });
    // Resolved from its path alone, the type's listed root is used.
    const outside = groupFiles([{ ...clip('/x/fan/test/a.wav', 'fan'), how: 'file-name', root: null }])[0]!;
    expect(planGroup(outside, [], opts)).toMatchObject({ kind: 'choose', buildRoot: '/d' });
    // A bank that does not record its type is never taken for the files' type.
    expect(planGroup(fanGroup, [legacy], opts)).toMatchObject({ kind: 'choose', choices: ['build', 'other', 'skip'] });
  });

  it('lets the user pick any bank for files of unknown type, those of the selected embedder first', () => {
    const unknown = groupFiles([clip('/x/1.wav', null)])[0]!;
    const plan = planGroup(unknown, [fanBeats, fan], opts);
    expect(plan.kind).toBe('pickAny');
    expect(plan.kind === 'pickAny' && plan.banks.map((b) => b.file)).toEqual([fan.file, fanBeats.file]);
  });
});

describe('what the choice says and what the worker is told', () => {
  const pump: FileGroup = groupFiles([clip('/d/pump/test/a.wav', 'pump'), clip('/d/pump/test/b.wav', 'pump')])[0]!;

  it('names the type in the labels, title and placeholder', () => {
    expect(choiceLabel('build', 'pump')).toBe('Build pump bank now');
    expect(choiceLabel('other', 'pump')).toBe(CHOICE_LABELS.other);
    expect(CHOICE_LABELS.other).toBe('Use another bank…');
    expect(choiceLabel('skip', 'pump')).toBe('Skip these files');
    expect(choosePrompt(pump, 'fbank-stats')).toEqual({
      title: 'No pump memory bank',
      placeHolder: 'No pump memory bank for fbank-stats in the bank folder: what should happen to the 2 pump files?',
    });
    expect(otherBankDescription(fan, 'pump')).toBe('fan — not pump · layer 1 · fbank-stats:v1');
    expect(otherBankDescription(legacy, 'pump')).toBe('machine type not recorded · layer 1 · fbank-stats:v1');
  });

  it('asks the worker to allow another type only when the bank records a different one', () => {
    expect(needsOtherTypeConsent(pump, fan)).toBe(true);
    expect(needsOtherTypeConsent(pump, legacy)).toBe(false);
    expect(needsOtherTypeConsent(groupFiles([clip('/x/1.wav', null)])[0]!, fan)).toBe(false);
  });

  it('merges groups headed for the same bank into one job', () => {
    const [a, b, c] = groupFiles([
      clip('/d/fan/test/a.wav', 'fan'),
      clip('/d/fan/test/b.wav', 'fan', '01'),
      clip('/d/pump/test/c.wav', 'pump'),
    ]);
    const jobs = mergeJobs([
      { group: a!, bank: fanAll, allowOther: false },
      { group: c!, bank: fanAll, allowOther: true },
      { group: b!, bank: fanAll, allowOther: false },
    ]);
    expect(jobs).toEqual([
      { bank: fanAll, files: ['/d/fan/test/a.wav', '/d/fan/test/b.wav'], allowOtherMachineType: false },
      { bank: fanAll, files: ['/d/pump/test/c.wav'], allowOtherMachineType: true },
    ]);
  });

  it('maps each machine type to the roots that list training clips for it', () => {
    expect(
      rootsByMachineType([
        {
          root: '/d',
          machines: [
            { machineType: 'fan', trainClips: 3 },
            { machineType: 'pump', trainClips: 0 },
          ],
        },
        {
          root: '/e',
          machines: [
            { machineType: 'pump', trainClips: 2 },
            { machineType: 'fan', trainClips: 1 },
          ],
        },
      ]),
    ).toEqual(
      new Map([
        ['fan', ['/d', '/e']],
        ['pump', ['/e']],
      ]),
    );
  });
});
