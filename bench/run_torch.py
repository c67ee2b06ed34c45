#!/usr/bin/env python3
"""The GenRep study through a straightforward PyTorch transcription of the reference pipeline (bench only).

`npm run bench:run` runs the same synthetic study through `genrep run` and through this script and prints the time
ratio. Everything here is written from ../shared/spec/genrep-spec.md (sections 1-5), not copied from the reference
BEATs code: Kaldi fbank from torchaudio, BEATs as plain nn.Modules, temporal pooling, source/target memory banks,
MemMixup, kNN distance, domain normalisation and the DCASE 2023 metrics (sklearn). It is never a test or runtime
dependency of the product. Needs torch, torchaudio, numpy, sklearn and threadpoolctl (Debian: python3-torch,
python3-torchaudio, python3-sklearn; run it with the interpreter that has them, e.g. /usr/bin/python3).

    python3 bench/run_torch.py --data ROOT --weights DIR --layers all --K_n 1 --K_s 990 --lambda 0.9 \
        --dn on --threads 2 --out OUT

ROOT: a DCASE 2023-layout dataset (<root>/<machine type>/{train,test}/section_XX_<domain>_<split>_<label>_NNNN*.wav,
as `genrep synth` writes it). Weights: --weights DIR (cfg.json, manifest.json and raw float32 tensors, as
bench/torchWeights.ts writes them) or --checkpoint FILE.pt (a torch.save'd {'cfg', 'model'} dict).
OUT receives scores/<type>/layer<k>.csv (file name, score) and summary.json (metrics, stage timings, peak RSS).
"""
import argparse
import json
import math
import os
import pickle
import re
import resource
import sys
import time

# Debian's torch runs element-wise kernels on libgomp's pool and matrix products on OpenBLAS's own pthread pool. With
# libgomp's default spin-waiting, each pool's idle threads burn the cores the other pool needs: on 2 cores a BEATs
# forward at 2 threads took 1.3-3.4 s instead of ~0.7 s. It must be set before libgomp starts (before torch is
# imported); an OMP_WAIT_POLICY already in the environment wins.
os.environ.setdefault('OMP_WAIT_POLICY', 'PASSIVE')

import numpy as np
import torch
import torch.nn.functional as F
import torchaudio
import torchaudio.compliance.kaldi as ta_kaldi
from sklearn.metrics import roc_auc_score
from threadpoolctl import threadpool_limits

SAMPLE_RATE = 16000
CLIP_SAMPLES = 160000  # the reference reads the first 10 s, zero-padded at the end
FBANK_MEAN = 15.41663
FBANK_STD = 6.55582  # BEATs divides by 2·std (spec 1.2, a quirk of the reference)
MAX_FPR = 0.1
# BEATsConfig's defaults (spec 2.1); a checkpoint's cfg overrides them key by key, as the reference's does.
BEATS_DEFAULTS = {
    'input_patch_size': -1, 'embed_dim': 512, 'conv_bias': False, 'encoder_layers': 12, 'encoder_embed_dim': 768,
    'encoder_ffn_embed_dim': 3072, 'encoder_attention_heads': 12, 'activation_fn': 'gelu', 'layer_norm_first': False,
    'deep_norm': False, 'conv_pos': 128, 'conv_pos_groups': 16, 'relative_position_embedding': False,
    'num_buckets': 320, 'max_distance': 1280, 'gru_rel_pos': False,
}
# The DCASE 2023 labelled file name, as worker/src/datasets/fileNames.ts parses it.
LABELLED_2023 = re.compile(r'^section_(\d+)_(source|target)_(train|test)_(normal|anomaly)_(\d+)(?:_(.+?))?\.wav$',
                           re.IGNORECASE)


# ---------------------------------------------------------------------------------------------------------------
# BEATs (spec section 2), inference only: no dropout, no layer drop, no padding mask (always all-False for 10 s).

class PositionalConv(torch.nn.Module):
    """Grouped convolution over tokens with a weight-normalised kernel (spec 2.4 step 2), before its GELU."""

    def __init__(self, channels, kernel, groups):
        super().__init__()
        self.kernel = kernel
        self.groups = groups
        self.weight_g = torch.nn.Parameter(torch.empty(1, 1, kernel))
        self.weight_v = torch.nn.Parameter(torch.empty(channels, channels // groups, kernel))
        self.bias = torch.nn.Parameter(torch.empty(channels))

    def forward(self, x):  # x: (B, L, C)
        # Weight norm over dims (0, 1) for each kernel tap, no epsilon, as torch's weight_norm(dim=2).
        weight = self.weight_g * self.weight_v / self.weight_v.norm(dim=(0, 1), keepdim=True)
        y = F.conv1d(x.transpose(1, 2), weight, self.bias, padding=self.kernel // 2, groups=self.groups)
        if self.kernel % 2 == 0:
            y = y[:, :, :-1]  # an even kernel with padding K/2 yields one step too many ("SamePad")
        return y.transpose(1, 2)


class Attention(torch.nn.Module):
    """Multi-head self-attention with BEATs' gated relative-position bias (spec 2.4 step 5)."""

    def __init__(self, channels, heads, gated):
        super().__init__()
        self.heads = heads
        self.q_proj = torch.nn.Linear(channels, channels)
        self.k_proj = torch.nn.Linear(channels, channels)
        self.v_proj = torch.nn.Linear(channels, channels)
        self.out_proj = torch.nn.Linear(channels, channels)
        self.gated = gated
        if gated:
            self.grep_linear = torch.nn.Linear(channels // heads, 8)
            self.grep_a = torch.nn.Parameter(torch.empty(1, heads, 1, 1))

    def forward(self, x, position_bias):  # x: (B, L, C); position_bias: (H, L, L) or None
        B, L, C = x.shape
        H, d = self.heads, C // self.heads
        q = self.q_proj(x).view(B, L, H, d).transpose(1, 2)
        k = self.k_proj(x).view(B, L, H, d).transpose(1, 2)
        v = self.v_proj(x).view(B, L, H, d).transpose(1, 2)
        logits = q @ k.transpose(-1, -2) / math.sqrt(d)
        if position_bias is not None:
            if self.gated:
                # The gate reads the unscaled query (bias included): two sigmoids of sums of four outputs each.
                z = self.grep_linear(q).view(B, H, L, 2, 4).sum(-1)
                g_a, g_b = torch.sigmoid(z).split(1, dim=-1)  # each (B, H, L, 1): one gate per head and query
                gate = g_a * (g_b * self.grep_a - 1) + 2
                logits = logits + gate * position_bias
            else:
                logits = logits + position_bias
        attn = torch.softmax(logits, dim=-1)
        return self.out_proj((attn @ v).transpose(1, 2).reshape(B, L, C))


class Block(torch.nn.Module):
    """Post-LayerNorm transformer block with BEATs' deep-norm residual scaling α."""

    def __init__(self, cfg, alpha):
        super().__init__()
        C = cfg['encoder_embed_dim']
        self.alpha = alpha
        self.self_attn = Attention(C, cfg['encoder_attention_heads'], bool(cfg['gru_rel_pos']))
        self.self_attn_layer_norm = torch.nn.LayerNorm(C)
        self.fc1 = torch.nn.Linear(C, cfg['encoder_ffn_embed_dim'])
        self.fc2 = torch.nn.Linear(cfg['encoder_ffn_embed_dim'], C)
        self.final_layer_norm = torch.nn.LayerNorm(C)

    def forward(self, x, position_bias):
        x = self.self_attn_layer_norm(self.alpha * x + self.self_attn(x, position_bias))
        return self.final_layer_norm(self.alpha * x + self.fc2(F.gelu(self.fc1(x))))


def relative_buckets(tokens, num_buckets, max_distance):
    """Bucket of every (query i, key j) offset r = j − i (spec 2.4 step 4), generalised from 320 / 800."""
    r = torch.arange(tokens)[None, :] - torch.arange(tokens)[:, None]
    half = num_buckets // 2
    exact = half // 2
    a = r.abs()
    far = exact + (torch.log(a.float().clamp(min=1) / exact) / math.log(max_distance / exact) * (half - exact)).long()
    far = far.clamp(max=half - 1)
    return (r > 0).long() * half + torch.where(a < exact, a, far)


class Encoder(torch.nn.Module):
    def __init__(self, cfg):
        super().__init__()
        C = cfg['encoder_embed_dim']
        # In a Sequential so that the state-dict keys are the reference's (encoder.pos_conv.0.weight_g, ...).
        self.pos_conv = torch.nn.Sequential(PositionalConv(C, cfg['conv_pos'], cfg['conv_pos_groups']))
        self.layer_norm = torch.nn.LayerNorm(C)
        alpha = (2 * cfg['encoder_layers']) ** 0.25 if cfg['deep_norm'] else 1.0
        self.layers = torch.nn.ModuleList(Block(cfg, alpha) for _ in range(cfg['encoder_layers']))
        self.relative = bool(cfg['relative_position_embedding'])
        if self.relative:
            self.num_buckets = cfg['num_buckets']
            self.max_distance = cfg['max_distance']
            # The reference registers one table under every layer but reads layer 0's only; kept per layer so the
            # state dict loads strictly, then ignored above layer 0.
            for layer in self.layers:
                layer.self_attn.relative_attention_bias = torch.nn.Embedding(cfg['num_buckets'],
                                                                             cfg['encoder_attention_heads'])

    def forward(self, x, last):
        """Hidden states of blocks 0..last: entry 0 is the encoder input after the positional conv and LayerNorm."""
        x = self.layer_norm(x + F.gelu(self.pos_conv(x)))
        bias = None
        if self.relative:
            buckets = relative_buckets(x.shape[1], self.num_buckets, self.max_distance)
            bias = self.layers[0].self_attn.relative_attention_bias(buckets).permute(2, 0, 1)  # (H, L, L)
        states = [x]
        for layer in self.layers[:last]:
            x = layer(x, bias)
            states.append(x)
        return states


class Beats(torch.nn.Module):
    def __init__(self, cfg):
        super().__init__()
        if cfg['layer_norm_first'] or cfg['activation_fn'] != 'gelu':
            sys.exit('cfg: only the post-LayerNorm, GELU encoder of the released checkpoints is transcribed')
        E, C, p = cfg['embed_dim'], cfg['encoder_embed_dim'], cfg['input_patch_size']
        self.patch = p
        self.patch_embedding = torch.nn.Conv2d(1, E, p, stride=p, bias=bool(cfg['conv_bias']))
        self.layer_norm = torch.nn.LayerNorm(E)
        self.post_extract_proj = torch.nn.Linear(E, C) if E != C else None
        self.encoder = Encoder(cfg)

    def forward(self, fbank, last):
        """fbank: normalised (B, 998, 128) → hidden states (B, tokens, C) of blocks 0..last, tokens t·F' + f."""
        x = self.patch_embedding(fbank.unsqueeze(1))  # (B, E, T', F')
        self.grid = x.shape[2:]
        x = self.layer_norm(x.flatten(2).transpose(1, 2))
        if self.post_extract_proj is not None:
            x = self.post_extract_proj(x)
        return self.encoder(x, last)


def temporal_pool(hidden, grid):
    """Mean over time patches of (B, T', F', C), flattened f·C + c (spec section 3)."""
    B, _, C = hidden.shape
    return hidden.view(B, grid[0], grid[1], C).mean(dim=1).reshape(B, -1)


def load_model(args):
    if args.checkpoint:
        try:
            ck = torch.load(args.checkpoint, map_location='cpu', weights_only=True)
        except (TypeError, pickle.UnpicklingError):
            # torch < 1.13 has no weights_only, and 1.13's restricted unpickler refuses the float in BEATs' cfg
            # (layer_wise_gradient_decay_ratio); a bench reads checkpoints it was given, so fall back to torch.load.
            ck = torch.load(args.checkpoint, map_location='cpu')
        cfg, state = dict(ck['cfg']), ck['model']
    else:
        with open(os.path.join(args.weights, 'cfg.json')) as f:
            cfg = json.load(f)
        with open(os.path.join(args.weights, 'manifest.json')) as f:
            manifest = json.load(f)
        state = {}
        for key, entry in manifest['arrays'].items():
            data = np.fromfile(os.path.join(args.weights, entry['file']), dtype='<f4')
            state[key] = torch.from_numpy(data.reshape(entry['shape']))
    # The fine-tuned head (predictor.*) is never used by GenRep; everything else must load strictly.
    state = {k: v for k, v in state.items() if not k.startswith('predictor.')}
    cfg = {**BEATS_DEFAULTS, **cfg}
    model = Beats(cfg)
    model.load_state_dict(state, strict=True)
    return model.eval(), cfg


# ---------------------------------------------------------------------------------------------------------------
# Audio and fbank (spec section 1)

def read_clip(path, channel):
    wave, rate = torchaudio.load(path)
    if rate != SAMPLE_RATE:
        sys.exit(f'{path}: {rate} Hz, expected {SAMPLE_RATE}')
    wave = wave.mean(dim=0) if channel == 'mean' else wave[int(channel)]
    clip = torch.zeros(CLIP_SAMPLES)
    n = min(wave.shape[0], CLIP_SAMPLES)
    clip[:n] = wave[:n]
    return clip


def beats_fbank(clip):
    fb = ta_kaldi.fbank(clip.unsqueeze(0) * 2 ** 15, num_mel_bins=128, sample_frequency=SAMPLE_RATE,
                        frame_length=25, frame_shift=10)
    return (fb - FBANK_MEAN) / (2 * FBANK_STD)


# ---------------------------------------------------------------------------------------------------------------
# Dataset

def discover(root):
    """{machine type: {'train': [...], 'test': [...]}}, each clip (name, path, domain, label), sorted by name."""
    machines = {}
    for machine in sorted(os.listdir(root)):
        if not os.path.isdir(os.path.join(root, machine, 'train')):
            continue
        splits = {}
        for split in ('train', 'test'):
            folder = os.path.join(root, machine, split)
            clips = []
            for name in sorted(os.listdir(folder)):
                if not name.lower().endswith('.wav'):
                    continue
                m = LABELLED_2023.match(name)
                if not m:
                    sys.exit(f'{os.path.join(folder, name)}: not a labelled DCASE 2023 file name')
                clips.append((name, os.path.join(folder, name), m.group(2).lower(), m.group(4).lower()))
            splits[split] = clips
        machines[machine] = splits
    if not machines:
        sys.exit(f'{root}: no <machine type>/train folders')
    return machines


# ---------------------------------------------------------------------------------------------------------------
# Scoring (spec section 4) and metrics (spec section 5)

def knn_distance(queries, bank, k):
    """Mean Euclidean (sqrt) distance to the k nearest bank rows."""
    return torch.cdist(queries, bank).topk(k, dim=1, largest=False).values.mean(dim=1)


def score_layer(train, train_domains, test, K_n, K_s, lam, dn):
    source = train[[d == 'source' for d in train_domains]]
    target = train[[d == 'target' for d in train_domains]]
    if K_s > 0:
        if K_s > source.shape[0]:
            sys.exit(f'K_s = {K_s} is larger than the source bank ({source.shape[0]} clips)')
        # MemMixup: each target row with its K_s nearest sources, i-major, appended after the originals.
        nearest = torch.cdist(target, source).topk(K_s, dim=1, largest=False).indices
        augs = lam * target[:, None, :] + (1 - lam) * source[nearest]
        target = torch.cat([target, augs.reshape(-1, train.shape[1])])
    d_source = knn_distance(test, source, K_n)
    d_target = knn_distance(test, target, K_n)
    if dn:
        # Transductive DN: statistics of the test clips' distances, population std (ddof 0).
        d_source = (d_source - d_source.mean()) / d_source.std(unbiased=False)
        d_target = (d_target - d_target.mean()) / d_target.std(unbiased=False)
    return torch.minimum(d_source, d_target).double().numpy()


def metrics(scores, labels, domains):
    labels = np.asarray(labels)
    domains = np.asarray(domains)

    def domain_auc(domain):
        keep = (labels == 1) | (domains == domain)
        return roc_auc_score(labels[keep], scores[keep])

    auc_source, auc_target = domain_auc('source'), domain_auc('target')
    pauc = roc_auc_score(labels, scores, max_fpr=MAX_FPR)
    eps = np.finfo(np.float64).eps
    official = 3 / sum(1 / max(v, eps) for v in (auc_source, auc_target, pauc))
    return {'auc': float(roc_auc_score(labels, scores)), 'pauc': float(pauc), 'auc_source': float(auc_source),
            'auc_target': float(auc_target), 'official': float(official)}


# ---------------------------------------------------------------------------------------------------------------

def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--data', required=True, help='DCASE 2023-layout dataset root')
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument('--weights', help='folder with cfg.json, manifest.json and float32 tensors')
    source.add_argument('--checkpoint', help='a BEATs .pt ({cfg, model})')
    parser.add_argument('--layers', default='all', help="comma-separated layer numbers (1-based) or 'all'")
    parser.add_argument('--K_n', type=int, default=1)
    parser.add_argument('--K_s', type=int, default=990, help='MemMixup source neighbours (0 = off)')
    parser.add_argument('--lambda', dest='lam', type=float, default=0.9)
    parser.add_argument('--dn', choices=['on', 'off'], default='on', help='transductive DN or none')
    parser.add_argument('--threads', type=int, default=2)
    parser.add_argument('--batch', type=int, default=1)
    parser.add_argument('--channel', default='0', help="channel index or 'mean' (the product's default: 0)")
    parser.add_argument('--score-dtype', choices=['float32', 'float64'], default='float32',
                        help='kNN arithmetic: float32 as the reference; float64 to compare scores with genrep closely')
    parser.add_argument('--out', required=True)
    args = parser.parse_args()

    started = time.perf_counter()
    torch.set_num_threads(args.threads)
    # Debian's torch does its matrix products in OpenBLAS, whose own thread pool ignores set_num_threads and takes
    # every core; without this limit "--threads 1" would still multiply on all cores (threadpoolctl comes with sklearn).
    threadpool_limits(limits=args.threads)
    model, cfg = load_model(args)
    n_layers = cfg['encoder_layers']
    layers = list(range(1, n_layers + 1)) if args.layers == 'all' else [int(s) for s in args.layers.split(',')]
    if any(k < 1 or k > n_layers for k in layers):
        sys.exit(f'--layers: layers 1..{n_layers} exist, got {args.layers}')
    dtype = torch.float64 if args.score_dtype == 'float64' else torch.float32
    timings = dict.fromkeys(['decodeSec', 'fbankSec', 'encoderSec', 'scoringSec', 'writeSec'], 0.0)
    machines = discover(args.data)
    results = {}
    clips_done = 0

    def extract(clips):
        """Pooled features of every requested layer, {layer: (n, F'·C)}; clips go through in batches of --batch."""
        pooled = {k: [] for k in layers}
        for i in range(0, len(clips), args.batch):
            t0 = time.perf_counter()
            waves = [read_clip(path, args.channel) for _, path, _, _ in clips[i:i + args.batch]]
            t1 = time.perf_counter()
            fbank = torch.stack([beats_fbank(w) for w in waves])
            t2 = time.perf_counter()
            with torch.inference_mode():
                states = model(fbank, max(layers))
                for k in layers:
                    pooled[k].append(temporal_pool(states[k], model.grid))
            t3 = time.perf_counter()
            timings['decodeSec'] += t1 - t0
            timings['fbankSec'] += t2 - t1
            timings['encoderSec'] += t3 - t2
        return {k: torch.cat(v) for k, v in pooled.items()}

    for machine, split in machines.items():
        train = extract(split['train'])
        test = extract(split['test'])
        clips_done += len(split['train']) + len(split['test'])
        results[machine] = {}
        for k in layers:
            t0 = time.perf_counter()
            with torch.inference_mode():
                scores = score_layer(train[k].to(dtype), [c[2] for c in split['train']], test[k].to(dtype),
                                     args.K_n, args.K_s, args.lam, args.dn == 'on')
            results[machine][str(k)] = metrics(scores, [int(c[3] == 'anomaly') for c in split['test']],
                                               [c[2] for c in split['test']])
            t1 = time.perf_counter()
            folder = os.path.join(args.out, 'scores', machine)
            os.makedirs(folder, exist_ok=True)
            with open(os.path.join(folder, f'layer{k}.csv'), 'w') as f:
                f.writelines(f'{c[0]},{s!r}\n' for c, s in zip(split['test'], scores.tolist()))
            timings['scoringSec'] += t1 - t0
            timings['writeSec'] += time.perf_counter() - t1

    timings['totalSec'] = time.perf_counter() - started
    summary = {
        'metrics': results, 'timings': timings, 'clips': clips_done, 'threads': args.threads,
        'peakRssBytes': resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024, 'torch': torch.__version__,
    }
    with open(os.path.join(args.out, 'summary.json'), 'w') as f:
        json.dump(summary, f, indent=1)
        f.write('\n')


if __name__ == '__main__':
    main()
