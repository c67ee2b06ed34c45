#!/usr/bin/env python3
"""Writes test/fixtures/golden-beats-tiny/: what the reference BEATs code and torchaudio compute for a tiny BEATs.

Dev-only: the tests read the committed files and never run this or need torch. It needs torch and torchaudio
(Debian: python3-torch, python3-torchaudio; torch 1.13 made the committed set) and the reference BEATs code, the
folder holding BEATs.py, backbone.py and modules.py (microsoft/unilm, beats/), whose location it takes as an
argument. Run from anywhere:

    # Every output again, from the committed inputs (checkpoint.pt, fbank_in/*, beats/input_wave):
    /usr/bin/python3 test/beats/make_golden_beats_tiny.py --reference /path/to/unilm/beats
    /usr/bin/python3 test/beats/make_golden_beats_tiny.py --reference /path/to/unilm/beats --out /tmp/golden

    # A new set: fresh random weights and synthetic clips, and the two DCASE 2023 clips the manifest names
    # (manifest.notes.real0 / real1, 16 kHz) from a folder:
    /usr/bin/python3 test/beats/make_golden_beats_tiny.py --reference /path/to/unilm/beats --fresh --clips DIR

A fresh set replaces checkpoint.pt, whose bytes other fixtures and tests depend on: regenerate
test/fixtures/checkpoint/ after it (test/checkpoint/make_checkpoint_fixtures.py records its checksums) and update
the sizes the download tests state (test/models/download.test.ts). Recomputing from the committed inputs changes
nothing but round-off from another torch version.

Format: manifest.json + raw little-endian float32 arrays, named '<group>__<name>.f32' for array '<group>/<name>'
(see test/fixtures/README.md). Tests: test/beats/golden.test.ts, test/fbank/golden.test.ts, test/embedders/.
"""
import argparse
import json
import os
import shutil
import sys
import time

import numpy as np
import torch
import torchaudio
import torchaudio.compliance.kaldi as ta_kaldi

FIXTURE = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), 'fixtures', 'golden-beats-tiny')
SAMPLE_RATE = 16000
CLIP_SAMPLES = 160000  # BEATs reads the first 10 s, zero-padded
FBANK_CASES = ['real0', 'real1', 'sine440_3s', 'noise_1s', 'silence_1s', 'short_1000']
BEATS_BATCH = ['real0', 'real1', 'sine440_3s']
REAL_CLIPS = {
    'real0': 'ToyCar_train_section_00_source_train_normal_0362_car_C2_spd_31V_mic_1.wav',
    'real1': 'fan_test_section_00_source_test_anomaly_0022_m-n_W.wav',
}
# The official BEATs architecture shrunk: 2 layers, C = 64, 4 heads, patch-embedding dim 32, 5 predictor classes.
TINY_CFG = {
    'input_patch_size': 16, 'embed_dim': 32, 'conv_bias': False, 'encoder_layers': 2, 'encoder_embed_dim': 64,
    'encoder_ffn_embed_dim': 128, 'encoder_attention_heads': 4, 'activation_fn': 'gelu', 'layer_norm_first': False,
    'deep_norm': True, 'relative_position_embedding': True, 'num_buckets': 320, 'max_distance': 800,
    'gru_rel_pos': True, 'conv_pos': 128, 'conv_pos_groups': 16, 'layer_wise_gradient_decay_ratio': 0.6,
    'dropout': 0.0, 'attention_dropout': 0.0, 'activation_dropout': 0.0, 'encoder_layerdrop': 0.0,
    'dropout_input': 0.0, 'finetuned_model': True, 'predictor_dropout': 0.0, 'predictor_class': 5,
}


def read_array(folder, manifest, name):
    entry = manifest['arrays'][name]
    return np.fromfile(os.path.join(folder, entry['file']), dtype='<f4').reshape(entry['shape'])


class Writer:
    def __init__(self, out):
        self.out = out
        self.arrays = {}

    def put(self, name, value):
        data = np.ascontiguousarray(np.asarray(value, dtype=np.float32))
        file = name.replace('/', '__') + '.f32'
        data.astype('<f4').tofile(os.path.join(self.out, file))
        self.arrays[name] = {'file': file, 'dtype': 'float32', 'shape': list(data.shape)}


def raw_fbank(wave):
    """BEATs.preprocess without the normalisation: Kaldi log-mel fbank of the waveform scaled to int16 range."""
    x = torch.from_numpy(np.asarray(wave, dtype=np.float32)).unsqueeze(0) * 2 ** 15
    return ta_kaldi.fbank(x, num_mel_bins=128, sample_frequency=SAMPLE_RATE, frame_length=25, frame_shift=10)


def to_clip(wave):
    clip = np.zeros(CLIP_SAMPLES, dtype=np.float32)
    n = min(len(wave), CLIP_SAMPLES)
    clip[:n] = wave[:n]
    return clip


def fresh_inputs(clips_dir, seed):
    rng = np.random.default_rng(seed)
    t = np.arange(3 * SAMPLE_RATE) / SAMPLE_RATE
    inputs = {
        'sine440_3s': 0.3 * np.sin(2 * np.pi * 440 * t),
        'noise_1s': 0.05 * rng.standard_normal(SAMPLE_RATE),
        'silence_1s': np.zeros(SAMPLE_RATE),
        'short_1000': 0.1 * rng.standard_normal(1000),
    }
    for case, name in REAL_CLIPS.items():
        wave, rate = torchaudio.load(os.path.join(clips_dir, name))
        if rate != SAMPLE_RATE:
            sys.exit(f'{name}: {rate} Hz, expected {SAMPLE_RATE}')
        inputs[case] = wave[0].numpy()
    return {case: np.asarray(inputs[case], dtype=np.float32) for case in FBANK_CASES}


def fresh_checkpoint(BEATs, BEATsConfig, seed):
    torch.manual_seed(seed)
    model = BEATs(BEATsConfig(TINY_CFG))
    # Every parameter perturbed, so no LayerNorm gain, gate or bias is trivially 0 or 1.
    with torch.no_grad():
        for p in model.parameters():
            p.add_(0.1 * torch.randn_like(p))
    labels = {i: f'/m/label{i}' for i in range(TINY_CFG['predictor_class'])}
    return {'cfg': dict(TINY_CFG), 'model': model.state_dict(), 'label_dict': labels}


def hidden_states(model, batch):
    """Encoder input (after the positional convolution and LayerNorm) and every block's output, [B, tokens, C]."""
    captured = {}
    hooks = [model.encoder.layer_norm.register_forward_hook(lambda m, i, o: captured.__setitem__(0, o))]
    for k, layer in enumerate(model.encoder.layers, start=1):
        # A block returns (x, attn, pos_bias) with x as [tokens, B, C].
        hooks.append(layer.register_forward_hook(lambda m, i, o, k=k: captured.__setitem__(k, o[0].transpose(0, 1))))
    started = time.perf_counter()
    with torch.no_grad():
        model.extract_features(batch)
    seconds = time.perf_counter() - started
    for hook in hooks:
        hook.remove()
    return [captured[k].detach().numpy() for k in sorted(captured)], seconds


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--reference', required=True, help='folder with the reference BEATs.py and backbone.py')
    parser.add_argument('--out', default=FIXTURE, help='folder to write (default: %(default)s)')
    parser.add_argument('--fresh', action='store_true', help='new random weights and inputs instead of the committed')
    parser.add_argument('--clips', help='with --fresh: folder holding the two DCASE clips the manifest names')
    parser.add_argument('--seed', type=int, default=1, help='with --fresh: seed of the weights and synthetic clips')
    args = parser.parse_args()
    if args.fresh and not args.clips:
        parser.error('--fresh needs --clips')
    sys.path.insert(0, os.path.abspath(args.reference))
    from BEATs import BEATs, BEATsConfig  # the reference code, from --reference

    os.makedirs(args.out, exist_ok=True)
    with open(os.path.join(FIXTURE, 'manifest.json')) as f:
        committed = json.load(f)
    checkpoint_file = os.path.join(args.out, 'checkpoint.pt')
    if args.fresh:
        inputs = fresh_inputs(args.clips, args.seed)
        torch.save(fresh_checkpoint(BEATs, BEATsConfig, args.seed), checkpoint_file)
        seed = args.seed
    else:
        inputs = {case: read_array(FIXTURE, committed, f'fbank_in/{case}') for case in FBANK_CASES}
        if os.path.abspath(args.out) != os.path.abspath(FIXTURE):
            shutil.copyfile(os.path.join(FIXTURE, 'checkpoint.pt'), checkpoint_file)
        seed = committed['seed']

    ck = torch.load(checkpoint_file)
    model = BEATs(BEATsConfig(ck['cfg']))
    model.load_state_dict(ck['model'])
    model.eval()

    out = Writer(args.out)
    for case in FBANK_CASES:
        out.put(f'fbank_in/{case}', inputs[case])
        out.put(f'fbank_out/{case}', raw_fbank(inputs[case]).numpy())
    wave = np.stack([to_clip(inputs[case]) for case in BEATS_BATCH])
    out.put('beats/input_wave', wave)
    batch = torch.from_numpy(wave)
    out.put('beats/fbank_norm', model.preprocess(batch).numpy())
    layers, seconds = hidden_states(model, batch)
    C = ck['cfg']['encoder_embed_dim']
    patches_t = 998 // ck['cfg']['input_patch_size']
    for k, hidden in enumerate(layers):
        out.put(f'beats/layer{k}', hidden)
        if k > 0:
            # Mean over the time patches of [B, T', F', C] (token t·F' + f), flattened f·C + c.
            grid = hidden.reshape(hidden.shape[0], patches_t, -1, C)
            out.put(f'beats/pooled_temporal/layer{k}', grid.mean(axis=1).reshape(hidden.shape[0], -1))

    notes = dict(committed['notes'])
    notes.update({'real0': REAL_CLIPS['real0'], 'real1': REAL_CLIPS['real1'], 'beats_batch': BEATS_BATCH,
                  'torch_forward_seconds_batch': seconds})
    manifest = {
        'generator': 'test/beats/make_golden_beats_tiny.py (reference PyTorch BEATs + '
                     'torchaudio.compliance.kaldi.fbank)',
        'torch': torch.__version__, 'torchaudio': torchaudio.__version__, 'seed': seed, 'size': 'tiny',
        'arrays': out.arrays,
        'checkpoint': {'file': 'checkpoint.pt', 'cfg': ck['cfg'],
                       'state_dict': {k: list(v.shape) for k, v in ck['model'].items()}},
        'notes': notes,
    }
    with open(os.path.join(args.out, 'manifest.json'), 'w') as f:
        json.dump(manifest, f, indent=1)
        f.write('\n')


if __name__ == '__main__':
    main()
