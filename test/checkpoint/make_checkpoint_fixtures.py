#!/usr/bin/env python3
"""Writes test/fixtures/checkpoint/: small checkpoints saved by torch itself, and what torch.load returns for them.

Dev-only: the tests read the committed files and never run this or need torch. It needs torch alone (no reference
BEATs code), and reads ../fixtures/golden-beats-tiny/checkpoint.pt, so regenerate that one first if it changes
(test/beats/make_golden_beats_tiny.py). Run from anywhere:

    /usr/bin/python3 test/checkpoint/make_checkpoint_fixtures.py            # Debian python3-torch (1.13 made them)
    /usr/bin/python3 test/checkpoint/make_checkpoint_fixtures.py --out /tmp/ckpt   # elsewhere, to compare

Writes:
  dtypes.pt            torch.save of {'cfg', 'model', 'label_dict', 'note'}: storages of every dtype the reader
                       converts, and views (transposed, storage offset, stride 0, shared storage, 0-d, empty,
                       nn.Parameter) so the reader's view arithmetic is checked against torch's own.
  plain-state-dict.pt  torch.save of a bare state dict (no cfg).
  protocol4.pt         a small checkpoint saved with pickle_protocol=4 (FRAME, MEMOIZE, STACK_GLOBAL, short strings).
  legacy.pt            the same dict in the legacy (pre-1.6, non-zip) format.
  reference.json       what torch.load returns for each file, every tensor as float32 values in C order ('inf',
                       '-inf', 'nan' as strings), plus
                       checksums of every tensor of ../golden-beats-tiny/checkpoint.pt (float64 sums over the
                       float32 values).
Tests: test/checkpoint/golden.test.ts, dtypesAndViews.test.ts, pickle.test.ts.
"""
import argparse
import json
import math
import os
from collections import OrderedDict

import torch

FIXTURES = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), 'fixtures')
GOLDEN = os.path.join(FIXTURES, 'golden-beats-tiny', 'checkpoint.pt')


def as_float32_list(t):
    # JSON has no inf/nan: those are written as the strings 'inf', '-inf', 'nan'
    values = t.detach().to(torch.float32).contiguous().flatten().tolist()
    return [v if math.isfinite(v) else str(v) for v in values]


def describe(state):
    return {k: {'shape': list(v.shape), 'dtype': str(v.dtype).replace('torch.', ''), 'values': as_float32_list(v)}
            for k, v in state.items()}


def dtypes_checkpoint():
    g = torch.Generator().manual_seed(1234)
    base = torch.randn(24, generator=g)
    shared = torch.randn(3, 4, generator=g)
    param = torch.nn.Parameter(torch.randn(2, 2, generator=g))
    model = OrderedDict()
    model['float32'] = torch.randn(2, 3, generator=g)
    model['float16'] = torch.randn(3, 4, generator=g).half()
    model['float16_specials'] = torch.tensor([0.0, -0.0, 1e-7, 6e-8, 65504.0, float('inf'), -float('inf'), -2.5],
                                             dtype=torch.float16)
    model['bfloat16'] = torch.randn(5, generator=g).bfloat16()
    model['float64'] = torch.randn(2, 3, generator=g).double()
    model['int64'] = torch.tensor([0, -3, 2 ** 40, -(2 ** 24) - 1], dtype=torch.int64)
    model['int32'] = torch.tensor([7, -7, 2 ** 31 - 1], dtype=torch.int32)
    model['int16'] = torch.tensor([300, -300], dtype=torch.int16)
    model['int8'] = torch.tensor([-128, 127], dtype=torch.int8)
    model['uint8'] = torch.tensor([0, 255], dtype=torch.uint8)
    model['bool'] = torch.tensor([True, False, True])
    model['transposed'] = torch.randn(3, 4, generator=g).t()  # strides (1, 4)
    model['float16_transposed'] = torch.randn(2, 3, generator=g).half().t()
    model['offset_view'] = base[5:11].view(2, 3)  # storage offset 5 into a 24-element storage
    model['offset_strided'] = base.view(4, 6)[1:, ::2]  # offset 6, strides (6, 2)
    model['permuted_3d'] = torch.randn(2, 3, 4, generator=g).permute(2, 0, 1)  # shape (4, 2, 3), strides (1, 12, 4)
    model['sliced_4d'] = torch.randn(3, 4, 5, 2, generator=g)[1:, ::2, 1:4, :].transpose(1, 3)  # offset and odd strides
    model['expanded'] = torch.randn(1, 4, generator=g).expand(3, 4)  # stride 0
    model['shared_a'] = shared
    model['shared_b'] = shared.view(12)  # same storage as shared_a
    model['shared_c'] = shared[1]  # same storage, offset 4
    model['scalar'] = torch.tensor(3.25)
    model['empty'] = torch.zeros(0, 3)
    model['param'] = param  # pickled through torch._utils._rebuild_parameter
    model._metadata = OrderedDict([('', {'version': 1})])
    cfg = {'an_int': 16, 'a_float': 0.6, 'a_bool': True, 'none': None, 'text': 'gelu', 'a_list': [1, 2.5, 'x'],
           'a_tuple': (3, 4), 'nested': {'k': [True, False]}, 'big_int': 2 ** 70, 'negative': -5}
    return {'cfg': cfg, 'model': model, 'label_dict': {0: '/m/a', 1: '/m/b'}, 'note': 'extra top-level key'}


def jsonable(value):
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) > 2 ** 53:
        return str(value)  # JSON numbers lose it; the reference keeps the decimal text
    return value


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--out', default=os.path.join(FIXTURES, 'checkpoint'),
                        help='folder to write (default: %(default)s)')
    out = parser.parse_args().out
    os.makedirs(out, exist_ok=True)
    reference = {'generator': 'test/checkpoint/make_checkpoint_fixtures.py', 'torch': torch.__version__,
                 'how': 'written by running the generator with /usr/bin/python3 (Debian python3-torch): each entry is '
                        'what torch.load returned for that file, tensors as float32 values in C order; for '
                        'golden-beats-tiny, float64 sums of each tensor\'s float32 values'}

    ck = dtypes_checkpoint()
    torch.save(ck, os.path.join(out, 'dtypes.pt'))
    loaded = torch.load(os.path.join(out, 'dtypes.pt'))
    reference['dtypes.pt'] = {'cfg': jsonable(loaded['cfg']), 'label_dict': jsonable(loaded['label_dict']),
                              'extra_keys': ['note'], 'tensors': describe(loaded['model'])}

    g = torch.Generator().manual_seed(99)
    net = torch.nn.Sequential(torch.nn.Linear(3, 2), torch.nn.LayerNorm(2))
    with torch.no_grad():
        for p in net.parameters():
            p.copy_(torch.randn(p.shape, generator=g))
    torch.save(net.state_dict(), os.path.join(out, 'plain-state-dict.pt'))
    reference['plain-state-dict.pt'] = {'tensors': describe(torch.load(os.path.join(out, 'plain-state-dict.pt')))}

    p4 = {'cfg': {'name': 'p4', 'sizes': (2, 3), 'ratio': 0.25}, 'model': net.state_dict(), 'label_dict': {0: 'x'}}
    torch.save(p4, os.path.join(out, 'protocol4.pt'), pickle_protocol=4)
    loaded = torch.load(os.path.join(out, 'protocol4.pt'))
    reference['protocol4.pt'] = {'cfg': jsonable(loaded['cfg']), 'label_dict': jsonable(loaded['label_dict']),
                                 'tensors': describe(loaded['model'])}

    torch.save({'cfg': {'a': 1}, 'model': net.state_dict()}, os.path.join(out, 'legacy.pt'),
               _use_new_zipfile_serialization=False)

    golden = torch.load(GOLDEN)
    checksums = {}
    for k, v in golden['model'].items():
        x = v.detach().to(torch.float64).flatten()
        checksums[k] = {'shape': list(v.shape), 'sum': x.sum().item(), 'sum_sq': (x * x).sum().item(),
                        'first': x[:4].tolist(), 'last': x[-1].item()}
    reference['golden-beats-tiny/checkpoint.pt'] = {'label_dict': jsonable(golden['label_dict']), 'tensors': checksums}

    with open(os.path.join(out, 'reference.json'), 'w') as f:
        json.dump(reference, f, indent=1, allow_nan=False)
        f.write('\n')


if __name__ == '__main__':
    main()
