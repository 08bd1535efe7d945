#!/usr/bin/env python3
"""Writes the PyTorch parity fixtures in test/fixtures/.

    /usr/bin/python3 tools/fixtures.py            # every family
    /usr/bin/python3 tools/fixtures.py conv pool  # some

Each family module tools/fixtures_<family>.py has `cases()`, yielding
(name, op, params, tensors): inputs and weights as hibiki receives them
(activations channels-last, weights in PyTorch's own layout, which hibiki's
loaders convert) and PyTorch's outputs, permuted channels-last. They go to
test/fixtures/<family>.safetensors as "<name>.<tensor>", with the case list
(name, op, params) as JSON in the metadata. Seeded: reruns give the same files.
"""
import importlib
import json
import os
import sys

import torch

sys.path.insert(0, os.path.dirname(__file__))
from safetensors_io import save  # noqa: E402

FAMILIES = ["gemm", "conv", "pool", "norm", "activation", "attention"]
OUT_DIR = os.path.join(os.path.dirname(__file__), "..", "test", "fixtures")


def nhwc(t):
    """NCHW -> NHWC, the layout hibiki computes in."""
    return t.permute(0, 2, 3, 1).contiguous()


def write_family(family):
    torch.manual_seed(1234)
    module = importlib.import_module(f"fixtures_{family}")
    tensors, cases = {}, []
    for name, op, params, case_tensors in module.cases():
        cases.append({"name": name, "op": op, "params": params})
        for key, t in case_tensors.items():
            tensors[f"{name}.{key}"] = t.detach().float() if t.is_floating_point() else t.detach()
    path = os.path.join(OUT_DIR, f"{family}.safetensors")
    save(path, tensors, {"cases": json.dumps(cases), "torch": torch.__version__, "generator": "tools/fixtures.py"})
    print(f"{path}: {len(cases)} cases, {os.path.getsize(path)} bytes")


if __name__ == "__main__":
    torch.set_num_threads(1)
    os.makedirs(OUT_DIR, exist_ok=True)
    for family in sys.argv[1:] or FAMILIES:
        write_family(family)
