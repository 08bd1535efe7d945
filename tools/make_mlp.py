#!/usr/bin/env python3
"""Writes a small MLP model directory and its PyTorch parity fixture.

    /usr/bin/python3 tools/make_mlp.py OUT_DIR [--sizes 16,64,64,8] [--seed 7]

OUT_DIR gets config.json and model.safetensors (nn.Linear layout,
layers.{i}.weight / layers.{i}.bias); OUT_DIR/parity.safetensors holds
seeded inputs and the PyTorch model's outputs for them.
"""
import argparse
import json
import os
import sys

import torch

sys.path.insert(0, os.path.dirname(__file__))
from safetensors_io import save  # noqa: E402

ACTS = {"relu": torch.nn.ReLU, "gelu": torch.nn.GELU, "tanh": torch.nn.Tanh, "sigmoid": torch.nn.Sigmoid}

parser = argparse.ArgumentParser()
parser.add_argument("out")
parser.add_argument("--sizes", default="16,64,64,8")
parser.add_argument("--activation", default="gelu")
parser.add_argument("--seed", type=int, default=7)
args = parser.parse_args()

torch.manual_seed(args.seed)
sizes = [int(s) for s in args.sizes.split(",")]
layers = [torch.nn.Linear(a, b) for a, b in zip(sizes, sizes[1:])]
modules = []
for i, layer in enumerate(layers):
    modules.append(layer)
    if i < len(layers) - 1:
        modules.append(ACTS[args.activation]())
net = torch.nn.Sequential(*modules).eval()

os.makedirs(args.out, exist_ok=True)
with open(os.path.join(args.out, "config.json"), "w") as f:
    json.dump({"architecture": "mlp", "sizes": sizes, "activation": args.activation, "output_activation": "none",
               "format_version": 1}, f, indent=2)
    f.write("\n")
weights = {}
for i, layer in enumerate(layers):
    weights[f"layers.{i}.weight"] = layer.weight.detach()
    weights[f"layers.{i}.bias"] = layer.bias.detach()
save(os.path.join(args.out, "model.safetensors"), weights, {"generator": "tools/make_mlp.py"})

x = torch.randn(37, sizes[0])
with torch.no_grad():
    y = net(x)
save(os.path.join(args.out, "parity.safetensors"), {"x": x, "y": y}, {"torch": torch.__version__})
print(f"{args.out}: sizes {sizes}, {sum(p.numel() for p in net.parameters())} parameters")
