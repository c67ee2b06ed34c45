import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  formatAttributeTokens,
  parseAttributeTokens,
  parseDcase2020Name,
  parseDcase2023Name,
} from '../../worker/src/datasets';

/** Real DCASE 2023 dev names, stored as `<type>_<split>_<original name>`. */
const DEV_NAMES = readFileSync(path.join(__dirname, '..', 'fixtures', 'datasets', 'dcase2023-dev-names.txt'), 'utf8')
  .trim()
  .split('\n');

describe('DCASE 2023 names', () => {
  it('parses every real dev name: split, domain, label, section and attributes', () => {
    expect(DEV_NAMES).toHaveLength(28);
    for (const line of DEV_NAMES) {
      const [, , split, name = ''] = /^(\w+?)_(train|test)_(section_.*)$/.exec(line) ?? [];
      const parsed = parseDcase2023Name(name);
      expect(parsed?.kind, line).toBe('labelled');
      if (parsed?.kind !== 'labelled') continue;
      expect(parsed.split).toBe(split);
      expect(parsed.section).toBe('00');
      expect(name).toContain(`_${parsed.domain}_${parsed.split}_${parsed.label}_${parsed.index}`);
      // The attributes give back the name's tail.
      expect(name.endsWith(`_${formatAttributeTokens(parsed.attributes)}.wav`), line).toBe(true);
    }
  });

  it('keeps key_value pairs, including values with dots and keys with dashes', () => {
    expect(parseDcase2023Name('section_00_source_train_normal_0362_car_C2_spd_31V_mic_1.wav')).toEqual({
      kind: 'labelled',
      section: '00',
      domain: 'source',
      split: 'train',
      label: 'normal',
      index: '0362',
      attributes: { car: 'C2', spd: '31V', mic: '1' },
    });
    expect(parseDcase2023Name('section_00_target_test_anomaly_0040_volt_1.5_wt_130.wav')).toMatchObject({
      attributes: { volt: '1.5', wt: '130' },
    });
    expect(parseDcase2023Name('section_00_source_test_anomaly_0022_m-n_W.wav')).toMatchObject({
      attributes: { 'm-n': 'W' },
    });
    expect(parseDcase2023Name('section_00_source_train_normal_0000_noAttribute.wav')).toMatchObject({ attributes: {} });
    expect(parseDcase2023Name('section_00_source_train_normal_0000.wav')).toMatchObject({ attributes: {} });
    expect(parseAttributeTokens('strength_1_ambient')).toEqual({ strength: '1', ambient: '' });
  });

  it('recognises eval names and rejects names of other schemes', () => {
    expect(parseDcase2023Name('section_00_0199.wav')).toEqual({ kind: 'eval', section: '00', index: '0199' });
    expect(parseDcase2023Name('normal_id_00_00000000.wav')).toBeUndefined();
    expect(parseDcase2023Name('section_00_sauce_train_normal_0000.wav')).toBeUndefined();
  });
});

describe('DCASE 2020 names', () => {
  it('reads label and machine ID', () => {
    expect(parseDcase2020Name('normal_id_02_00000123.wav')).toEqual({
      kind: 'labelled',
      label: 'normal',
      section: '02',
      index: '00000123',
    });
    expect(parseDcase2020Name('anomaly_id_06_00000001.wav')).toMatchObject({ label: 'anomaly', section: '06' });
    expect(parseDcase2020Name('id_05_00000000.wav')).toEqual({ kind: 'eval', section: '05', index: '00000000' });
    expect(parseDcase2020Name('section_00_0000.wav')).toBeUndefined();
  });
});
