#!/usr/bin/env python3
"""Mean IoU of U-Net model directories on every style of make_shapes.VARIANTS,
on a data seed of your choice: how a run is chosen without looking at the
held-out seed (make_shapes.HELD_OUT_SEED) that its reported figures use.

    LD_LIBRARY_PATH=/usr/lib/x86_64-linux-gnu/openblas-pthread \\
      /usr/bin/python3 tools/compare_unet.py --seed 3 models/shapes-unet /work/runs/shapes16

Seed 1 is the training data's and seed 2 the held-out one's: selection uses any other.
"""
import argparse
import json
import os
import sys

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(__file__))
import make_shapes  # noqa: E402
from safetensors_io import load  # noqa: E402
from train_unet import confusion, iou, normalise, predict  # noqa: E402
from unet_torch import UNet  # noqa: E402


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("dirs", nargs="+", help="model directories (config.json, model.safetensors)")
    parser.add_argument("--seed", type=int, default=3)
    parser.add_argument("--images", type=int, default=200, help="images per style")
    args = parser.parse_args()
    if args.seed in (1, make_shapes.HELD_OUT_SEED):
        parser.error(f"seed {args.seed} is the training or the held-out data's")
    torch.set_num_threads(2)
    styles = {name: make_shapes.generate(args.images, args.seed, **style) for name, style in make_shapes.VARIANTS.items()}
    classes = len(make_shapes.CLASSES)
    print("| model | " + " | ".join(styles) + " | lowest |")
    print("| --- |" + " ---: |" * (len(styles) + 1))
    for d in args.dirs:
        with open(os.path.join(d, "config.json")) as f:
            config = json.load(f)
        model = UNet(config)
        model.load_state_dict(load(os.path.join(d, "model.safetensors")))
        mean, std = config["input"]["mean"], config["input"]["std"]
        scores = []
        for images, labels in styles.values():
            predicted = predict(model, normalise(images, mean, std)).argmax(1).numpy().astype(np.uint8)
            scores.append(iou(confusion(labels, predicted, classes))[1])
        print(f"| {d} | " + " | ".join(f"{s:.3f}" for s in scores) + f" | {min(scores):.3f} |", flush=True)


if __name__ == "__main__":
    main()
