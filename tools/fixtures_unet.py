#!/usr/bin/env python3
"""Parity fixtures for src/models/unet.ts: one small U-Net (tools/unet_torch.py)
per variant that takes a different path through the engine — transposed
convolution or max unpooling, concatenated or added skips, plain or dilated
bottleneck, odd channel counts, non-square inputs, N = 2.

Each goes to test/fixtures/unet/NAME.safetensors: the whole state dict
(random weights; batch norms with random affine parameters and running
statistics calibrated on random batches, so the folding is tested and the
activations neither vanish nor explode — see tools/fixtures_vision.py),
`x` [N, H, W, C] and PyTorch's `logits` [N, H, W, classes], channels-last,
and the config.json fields as metadata `config`.

    LD_LIBRARY_PATH=/usr/lib/x86_64-linux-gnu/openblas-pthread /usr/bin/python3 tools/fixtures_unet.py
"""
import json
import os

import torch

from fixtures_vision import calibrate
from safetensors_io import save
from unet_torch import UNet, default_config

OUT = os.path.join(os.path.dirname(__file__), "..", "test", "fixtures", "unet")

# name: (config fields, input [N, H, W])
VARIANTS = {
    "transposed-concat": (dict(in_channels=3, classes=3, base_channels=4, depth=2), [2, 16, 16]),
    "transposed-concat-dilated": (dict(in_channels=1, classes=5, base_channels=3, depth=3, bottleneck_dilations=[2, 4]), [2, 24, 16]),
    "unpool-concat": (dict(in_channels=3, classes=4, base_channels=3, depth=2, upsample="unpool"), [2, 16, 12]),
    "unpool-add-dilated": (dict(in_channels=2, classes=3, base_channels=4, depth=2, upsample="unpool", skip="add",
                                bottleneck_dilations=[2, 3]), [2, 16, 16]),
    "transposed-add": (dict(in_channels=3, classes=2, base_channels=5, depth=1, skip="add"), [2, 8, 10]),
    "transposed-add-dilated": (dict(in_channels=5, classes=3, base_channels=4, depth=2, skip="add",
                                    bottleneck_dilations=[1, 2, 4]), [2, 16, 16]),
}


def main():
    torch.set_num_threads(1)
    torch.set_grad_enabled(False)
    os.makedirs(OUT, exist_ok=True)
    total = 0
    for seed, (name, (fields, (n, h, w))) in enumerate(VARIANTS.items(), 1):
        torch.manual_seed(seed)
        generator = torch.Generator().manual_seed(seed)
        config = default_config(**fields)
        model = UNet(config)
        shape = (n, config["in_channels"], h, w)
        calibrate(model, generator, lambda: torch.randn(shape, generator=generator))
        x = torch.randn(shape, generator=generator)
        logits = model(x)
        tensors = {k: v.float() for k, v in model.state_dict().items() if not k.endswith("num_batches_tracked")}
        tensors["x"] = x.permute(0, 2, 3, 1).contiguous()
        tensors["logits"] = logits.permute(0, 2, 3, 1).contiguous()
        path = os.path.join(OUT, f"{name}.safetensors")
        save(path, tensors, {"config": json.dumps(config), "torch": torch.__version__, "generator": "tools/fixtures_unet.py"})
        size = os.path.getsize(path)
        total += size
        print(f"{name}: logits std {logits.std():.3f} -> {path} ({size // 1024} KB)")
    print(f"{total // 1024} KB in all")


if __name__ == "__main__":
    main()
