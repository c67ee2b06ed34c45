#!/usr/bin/env python3
"""torchaudio side of `npm run bench:fbank`: times kaldi.fbank with BEATs' arguments on the benchmark's clips.

Usage: fbank_torchaudio.py CLIPS.f32 NUM_CLIPS NUM_SAMPLES OUT32.f32|- OUT64.f32|- [REPEATS]
Reads NUM_CLIPS float32 clips in [-1, 1), single thread, warms up, then times each clip (× 2^15 and fbank, as
BEATs.preprocess does), REPEATS rounds (default 1), keeping each clip's best time. Unless given '-', writes the features (clip after clip, as float32) computed in float32 —
what was timed — to OUT32.f32 and computed in float64 to OUT64.f32, for the cross-check. Prints one JSON line:
{"ms": [...], "torch": "...", "torchaudio": "..."}.

torch's time per clip depends on glibc malloc: its ~2 MB temporaries are mmap'ed and unmapped on every call until
malloc's dynamic threshold adapts, and the page faults cost more than the arithmetic. The benchmark runs this
script twice, with the default allocator and with MALLOC_MMAP_THRESHOLD_/MALLOC_TRIM_THRESHOLD_ set so memory is
reused (torch's best case).
"""
import json
import sys
import time

import numpy as np
import torch
import torchaudio
import torchaudio.compliance.kaldi as kaldi


def main():
    path, num_clips, num_samples, out32_path, out64_path = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4], sys.argv[5]
    repeats = int(sys.argv[6]) if len(sys.argv) > 6 else 1
    torch.set_num_threads(1)
    clips = torch.from_numpy(np.fromfile(path, dtype='<f4').reshape(num_clips, num_samples))

    def features(clip):
        return kaldi.fbank(clip.unsqueeze(0) * 2**15, num_mel_bins=128, sample_frequency=16000, frame_length=25, frame_shift=10)

    with torch.inference_mode():
        for i in range(min(10, num_clips)):
            features(clips[i])
        ms = [float('inf')] * num_clips
        for _ in range(repeats):
            for i in range(num_clips):
                start = time.perf_counter()
                features(clips[i])
                ms[i] = min(ms[i], (time.perf_counter() - start) * 1000)
        # Outputs are collected in separate, untimed passes: keeping them alive inside the timed loop stops torch's
        # allocator from reusing memory, and the page faults that follow triple the time per clip.
        if out32_path != '-':
            np.concatenate([features(clips[i]).numpy() for i in range(num_clips)]).astype('<f4').tofile(out32_path)
        if out64_path != '-':
            np.concatenate([features(clips[i].double()).numpy() for i in range(num_clips)]).astype('<f4').tofile(out64_path)
    print(json.dumps({'ms': ms, 'torch': torch.__version__, 'torchaudio': torchaudio.__version__}))


if __name__ == '__main__':
    main()
