#!/usr/bin/env python3
"""Parity fixtures for torchvision's mobilenet_v2 and densenet121 (Debian's
python3-torchvision 0.14), small enough to commit although the models are
14 and 32 MB: the convolution and Linear weights are not stored but drawn
from hibiki's seeded generator (mulberry32, src/runtime/rng.ts, replicated
here bit for bit), which the tests run again. What is stored per model in
test/fixtures/vision/NAME.safetensors:

  - the batch norms (weight, bias and running statistics calibrated on
    random batches: a fresh network's identity statistics would make the
    folding untested and the activations vanish);
  - torchvision's `logits` for the input Rng(input_seed).uniform(3·224·224, −1, 1)
    in NCHW order;
  - metadata `recipe`: JSON listing every generated tensor in order, with
    its seed, shape and range, and the torchvision config.

    /usr/bin/python3 tools/fixtures_vision.py
"""
import json
import math
import os

import numpy as np
import torch
import torchvision

from safetensors_io import save

OUT = os.path.join(os.path.dirname(__file__), "..", "test", "fixtures", "vision")
MASK = 0xFFFFFFFF


def mulberry32(seed, n):
    """The first n values of src/runtime/rng.ts's Rng(seed).next(), as float64."""
    state = (np.uint64(seed & MASK) + np.arange(1, n + 1, dtype=np.uint64) * np.uint64(0x6D2B79F5)) & np.uint64(MASK)
    t = state
    t = ((t ^ (t >> np.uint64(15))) * (t | np.uint64(1))) & np.uint64(MASK)
    t = t ^ ((t + (((t ^ (t >> np.uint64(7))) * (t | np.uint64(61))) & np.uint64(MASK))) & np.uint64(MASK))
    return ((t ^ (t >> np.uint64(14))) & np.uint64(MASK)).astype(np.float64) / 4294967296.0


def uniform(seed, n, lo, hi):
    """Rng(seed).uniform(n, lo, hi): lo + (hi − lo)·u in float64, rounded once to float32."""
    return (lo + (hi - lo) * mulberry32(seed, n)).astype(np.float32)


def fill_weights(model, base_seed):
    """Conv and Linear weights (and biases) from the generator; returns the recipe."""
    recipe = []
    for i, (name, p) in enumerate(model.state_dict().items()):
        if not (name.endswith(".weight") or name.endswith(".bias")) or p.dim() == 1 and is_norm(model, name):
            continue
        if p.dim() >= 2:  # conv or linear weight: uniform with He's variance, fan-in = in·kh·kw
            fan_in = int(np.prod(p.shape[1:]))
            hi = math.sqrt(6.0 / fan_in)
            lo = -hi
        else:
            lo, hi = -0.1, 0.1
        seed = base_seed + i
        p.copy_(torch.from_numpy(uniform(seed, p.numel(), lo, hi).reshape(tuple(p.shape))))
        recipe.append({"name": name, "seed": seed, "shape": list(p.shape), "lo": lo, "hi": hi})
    return recipe


def is_norm(model, name):
    module = model.get_submodule(name.rsplit(".", 1)[0])
    return isinstance(module, torch.nn.BatchNorm2d)


def calibrate(model, generator, batch):
    """BN weight/bias drawn from `generator`, running statistics measured on four batch() inputs (cumulative average)."""
    for m in model.modules():
        if isinstance(m, torch.nn.BatchNorm2d):
            m.weight.copy_(torch.rand(m.num_features, generator=generator) + 0.5)
            m.bias.copy_(torch.rand(m.num_features, generator=generator) * 0.4 - 0.2)
            m.reset_running_stats()
            m.momentum = None
    model.train()
    for _ in range(4):
        model(batch())
    model.eval()


def main():
    os.makedirs(OUT, exist_ok=True)
    torch.set_grad_enabled(False)
    specs = [
        ("mobilenet_v2", lambda: torchvision.models.mobilenet_v2(num_classes=1000), 1000),
        ("densenet121", lambda: torchvision.models.densenet121(num_classes=1000), 2000),
    ]
    for name, build, seed in specs:
        model = build()
        recipe = fill_weights(model, seed)
        g = torch.Generator().manual_seed(seed)
        calibrate(model, g, lambda: torch.rand(4, 3, 224, 224, generator=g) * 2 - 1)
        x_nchw = torch.from_numpy(uniform(seed - 1, 3 * 224 * 224, -1, 1).reshape(1, 3, 224, 224))
        logits = model(x_nchw)
        tensors = {k: v.float() for k, v in model.state_dict().items() if is_norm(model, k) and not k.endswith("num_batches_tracked")}
        tensors["logits"] = logits
        meta = {"recipe": json.dumps({"torchvision": torchvision.__version__, "model": name, "input_seed": seed - 1,
                                      "generated": recipe})}
        path = os.path.join(OUT, f"{name}.safetensors")
        save(path, tensors, meta)
        print(f"{name}: {len(recipe)} generated tensors, logits std {logits.std():.3f} -> {path} ({os.path.getsize(path) // 1024} KB)")


if __name__ == "__main__":
    main()
