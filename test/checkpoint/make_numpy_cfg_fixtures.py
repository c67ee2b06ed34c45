#!/usr/bin/env python3
"""Writes the NumPy-cfg checkpoints: torch.save files whose cfg holds NumPy scalars and dtypes, as checkpoints saved
from training scripts that took hyper-parameters from NumPy do (issue 12, item 4).

Dev-only, like make_checkpoint_fixtures.py: tests read the committed files. Needs Debian's python3-torch and
python3-numpy, and reads ../fixtures/golden-beats-tiny/checkpoint.pt. Run from anywhere:

    /usr/bin/python3 test/checkpoint/make_numpy_cfg_fixtures.py

Writes to test/fixtures/checkpoint/:
  numpy-cfg.pt          {'cfg', 'model'}: cfg values of every numeric NumPy scalar type (float16/32/64, big-endian
                        float64, int8…int64, uint8…uint64, bool) and a bare np.dtype, pickle protocol 2 (bytes written
                        as _codecs.encode(text, 'latin1')), one 2x2 float tensor.
  numpy-cfg-p4.pt       the same with pickle_protocol=4 (bytes written as BINBYTES).
  numpy-cfg.json        what torch.load returns for cfg: numbers as Python gives them, the dtype as its name.
  beats-tiny-numpy-cfg.data.pkl
                        the data.pkl of golden-beats-tiny/checkpoint.pt re-saved with every cfg value turned into a
                        NumPy scalar (ints → int64, floats → float64, bools → bool_): same storages, same keys, so the
                        test rebuilds the whole checkpoint from the golden one's storages plus this pickle (the full
                        file is 470 KB; this keeps the fixture to a few KB).
Tests: test/checkpoint/numpyScalars.test.ts.
"""
import io
import json
import os
import zipfile

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, '..', 'fixtures', 'checkpoint')
TINY = os.path.join(HERE, '..', 'fixtures', 'golden-beats-tiny', 'checkpoint.pt')

CFG = {
    'f64': np.float64(0.1),
    'f64_big_endian': np.array([-2.5e-7], dtype='>f8')[0],
    'f32': np.float32(0.6),
    'f16': np.float16(-1.5),
    'i8': np.int8(-7),
    'i16': np.int16(-300),
    'i32': np.int32(123456),
    'i64': np.int64(-(2**53) + 1),
    'u8': np.uint8(250),
    'u16': np.uint16(65000),
    'u32': np.uint32(4000000000),
    'u64': np.uint64(2**53 - 1),
    'yes': np.bool_(True),
    'no': np.bool_(False),
    'dtype': np.dtype('int64'),
    'nested': {'lr': np.float64(3e-4), 'layers': [np.int64(1), np.int64(2)]},
}


def plain(v):
    if isinstance(v, dict):
        return {k: plain(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [plain(x) for x in v]
    if isinstance(v, np.dtype):
        return v.name
    if isinstance(v, np.bool_):
        return bool(v)
    if isinstance(v, np.integer):
        return int(v)
    if isinstance(v, np.floating):
        return float(v)  # the exact value of the stored float16/32, as a double
    return v


def main():
    model = {'w': torch.tensor([[1.0, 2.0], [3.0, 4.0]])}
    torch.save({'cfg': CFG, 'model': model}, os.path.join(OUT, 'numpy-cfg.pt'))
    torch.save({'cfg': CFG, 'model': model}, os.path.join(OUT, 'numpy-cfg-p4.pt'), pickle_protocol=4)
    loaded = torch.load(os.path.join(OUT, 'numpy-cfg.pt'))
    with open(os.path.join(OUT, 'numpy-cfg.json'), 'w') as f:
        json.dump({'cfg': plain(loaded['cfg'])}, f, indent=1, sort_keys=True)
        f.write('\n')

    tiny = torch.load(TINY)
    cfg = {}
    for k, v in tiny['cfg'].items():
        if isinstance(v, bool):
            cfg[k] = np.bool_(v)
        elif isinstance(v, int):
            cfg[k] = np.int64(v)
        elif isinstance(v, float):
            cfg[k] = np.float64(v)
        else:
            cfg[k] = v
    tiny['cfg'] = cfg
    buf = io.BytesIO()
    torch.save(tiny, buf)
    with zipfile.ZipFile(io.BytesIO(buf.getvalue())) as z:
        (pkl,) = [n for n in z.namelist() if n.endswith('/data.pkl')]
        data = z.read(pkl)
    with open(os.path.join(OUT, 'beats-tiny-numpy-cfg.data.pkl'), 'wb') as f:
        f.write(data)


if __name__ == '__main__':
    main()
