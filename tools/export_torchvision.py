#!/usr/bin/env python3
"""Exports a torchvision classifier's state dict as a hibiki model directory
(config.json + model.safetensors), so weights you have — a torchvision
checkpoint (.pth) or torchvision's own pretrained weights on a machine that
can download them — run in `hibiki classify`:

    /usr/bin/python3 tools/export_torchvision.py mobilenet_v2 --weights mobilenet_v2.pth --out models/mobilenet-v2
    /usr/bin/python3 tools/export_torchvision.py densenet121 --pretrained --out models/densenet121

Architectures: mobilenet_v2 (`--width-mult`), densenet121/161/169/201. The
input section is ImageNet's (224×224, RGB, ImageNet mean and std); `--labels
FILE` (one name per line) names the classes.
"""
import argparse
import json
import os

import torch
import torchvision

from safetensors_io import save

DENSENETS = {  # torchvision's (growth_rate, block_config, num_init_features)
    "densenet121": (32, [6, 12, 24, 16], 64),
    "densenet161": (48, [6, 12, 36, 24], 96),
    "densenet169": (32, [6, 12, 32, 32], 64),
    "densenet201": (32, [6, 12, 48, 32], 64),
}


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("model", choices=["mobilenet_v2", *DENSENETS])
    p.add_argument("--weights", help="a state dict saved with torch.save (default: random, or --pretrained)")
    p.add_argument("--pretrained", action="store_true", help="torchvision's ImageNet weights (downloads them)")
    p.add_argument("--width-mult", type=float, default=1.0)
    p.add_argument("--num-classes", type=int, default=1000)
    p.add_argument("--labels", help="a text file with one class name per line")
    p.add_argument("--out", required=True)
    a = p.parse_args()

    kwargs = {"num_classes": a.num_classes}
    if a.model == "mobilenet_v2":
        kwargs["width_mult"] = a.width_mult
    model = getattr(torchvision.models, a.model)(weights="DEFAULT" if a.pretrained else None, **kwargs)
    if a.weights:
        model.load_state_dict(torch.load(a.weights, map_location="cpu"))
    model.eval()

    labels = open(a.labels).read().splitlines() if a.labels else [str(i) for i in range(a.num_classes)]
    weights = a.weights or ("torchvision DEFAULT" if a.pretrained else "random")
    write_model_dir(a.out, a.model, model, labels, weights, a.width_mult)


def write_model_dir(out, name, model, labels, weights, width_mult=1.0):
    """config.json + model.safetensors for a torchvision mobilenet_v2 or densenet in eval mode."""
    if name == "mobilenet_v2":
        config = {"architecture": "mobilenet_v2", "width_mult": width_mult}
    else:
        growth, blocks, init = DENSENETS[name]
        config = {"architecture": "densenet", "growth_rate": growth, "block_config": blocks, "num_init_features": init,
                  "bn_size": 4, "stem": "imagenet"}
    config.update({
        "format_version": 1, "num_classes": len(labels), "labels": labels,
        "input": {"size": [224, 224], "channels": 3, "mean": [0.485, 0.456, 0.406], "std": [0.229, 0.224, 0.225]},
        "provenance": {"torchvision": torchvision.__version__, "model": name, "weights": weights},
    })
    os.makedirs(out, exist_ok=True)
    tensors = {k: v.float().contiguous() for k, v in model.state_dict().items() if not k.endswith("num_batches_tracked")}
    save(os.path.join(out, "model.safetensors"), tensors)
    with open(os.path.join(out, "config.json"), "w") as f:
        json.dump(config, f, indent=2)
    print(f"{name}: {sum(t.numel() for t in tensors.values())} numbers -> {out}")


if __name__ == "__main__":
    main()
