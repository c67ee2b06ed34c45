#!/usr/bin/env python3
"""Writes test/fixtures/fbank/: torchaudio.compliance.kaldi.fbank outputs for option sets beyond BEATs' defaults.

Run from the repository root with a Python that has torch + torchaudio (Debian: python3-torchaudio):
    /usr/bin/python3 test/fbank/make_torchaudio_fixtures.py
Every reference is computed in float64 from the float32 input that is stored beside it, so it reflects the
algorithm rather than float32 round-off. Format: manifest.json + raw little-endian float32, as golden-beats-tiny.
"""
import json
import os

import numpy as np
import torch
import torchaudio
import torchaudio.compliance.kaldi as kaldi

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, 'fixtures', 'fbank')
GOLDEN = os.path.join(ROOT, 'fixtures', 'golden-beats-tiny')

# One short synthetic clip in int16 scale: two tones, noise, a DC offset and a step, so DC removal, pre-emphasis
# and every window matter. 4321 samples: not a multiple of any frame shift used below.
rng = np.random.default_rng(1234)
n = 4321
t = np.arange(n) / 16000.0
clip = (3000 * np.sin(2 * np.pi * 440 * t) + 1500 * np.sin(2 * np.pi * 3125.5 * t) + 800 * rng.standard_normal(n) + 700)
clip[2000:] += 2500
clip = clip.astype(np.float32)

CASES = {
    'defaults': {},
    'hanning': {'window_type': 'hanning'},
    'hamming': {'window_type': 'hamming'},
    'rectangular': {'window_type': 'rectangular'},
    'blackman': {'window_type': 'blackman'},
    'blackman_coeff_0.3': {'window_type': 'blackman', 'blackman_coeff': 0.3},
    'snip_edges_false': {'snip_edges': False},
    'snip_edges_false_shift_7.5': {'snip_edges': False, 'frame_length': 20.0, 'frame_shift': 7.5},
    'snip_edges_false_negative_pad': {'snip_edges': False, 'frame_length': 10.0, 'frame_shift': 25.0},
    'no_round_to_power_of_two': {'round_to_power_of_two': False},
    'no_round_27ms': {'round_to_power_of_two': False, 'frame_length': 27.0},
    'no_round_prime_half': {'round_to_power_of_two': False, 'frame_length': 25.25, 'sample_frequency': 8000.0, 'num_mel_bins': 15},
    'no_preemphasis_no_dc': {'preemphasis_coefficient': 0.0, 'remove_dc_offset': False},
    'preemphasis_1': {'preemphasis_coefficient': 1.0},
    'low_high_freq': {'low_freq': 100.0, 'high_freq': 6000.0, 'num_mel_bins': 40},
    'high_freq_negative': {'high_freq': -1000.0, 'num_mel_bins': 30},
    'low_freq_0': {'low_freq': 0.0, 'num_mel_bins': 64},
    'linear_fbank': {'use_log_fbank': False},
    'magnitude': {'use_power': False},
    'energy': {'use_energy': True},
    'energy_htk': {'use_energy': True, 'htk_compat': True},
    'energy_windowed_no_floor': {'use_energy': True, 'raw_energy': False, 'energy_floor': 0.0},
    'energy_floor_high': {'use_energy': True, 'energy_floor': 1e9},
    'subtract_mean': {'subtract_mean': True, 'use_energy': True},
    'sample_frequency_8000': {'sample_frequency': 8000.0, 'num_mel_bins': 40},
    'frame_40ms_shift_13ms': {'frame_length': 40.0, 'frame_shift': 13.0, 'num_mel_bins': 80},
    'beats_args': {'num_mel_bins': 128, 'sample_frequency': 16000.0, 'frame_length': 25.0, 'frame_shift': 10.0},
}


def main():
    os.makedirs(OUT, exist_ok=True)
    arrays = {}

    def put(name, array):
        array = np.ascontiguousarray(array, dtype=np.float32)
        file = name.replace('/', '__') + '.f32'
        array.astype('<f4').tofile(os.path.join(OUT, file))
        arrays[name] = {'file': file, 'dtype': 'float32', 'shape': list(array.shape)}

    put('clip', clip)
    wave = torch.from_numpy(clip.astype(np.float64)).unsqueeze(0)
    for name, options in CASES.items():
        put(f'out/{name}', kaldi.fbank(wave, **options).numpy())

    # The golden sine's first second in float64: the float32 golden output is round-off below ~20 nats under
    # each frame's peak, so this is the reference for the whole dynamic range.
    sine = np.fromfile(os.path.join(GOLDEN, 'fbank_in__sine440_3s.f32'), dtype='<f4')[:16000]
    sine_wave = torch.from_numpy(sine.astype(np.float64) * 32768).unsqueeze(0)
    put('sine440_1s_float64', kaldi.fbank(sine_wave, **CASES['beats_args']).numpy())

    manifest = {
        'producer': f'torch {torch.__version__}, torchaudio {torchaudio.__version__}, float64; test/fbank/make_torchaudio_fixtures.py',
        'input': "'clip' (int16 scale) for every out/<case>; sine440_1s_float64 from golden-beats-tiny fbank_in/sine440_3s[:16000] * 32768",
        'cases': CASES,
        'arrays': arrays,
    }
    with open(os.path.join(OUT, 'manifest.json'), 'w') as f:
        json.dump(manifest, f, indent=1)


if __name__ == '__main__':
    main()
