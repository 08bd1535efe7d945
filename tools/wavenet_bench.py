#!/usr/bin/env python3
"""PyTorch eager baseline for bench/wavenet.bench.ts: incremental WaveNet
generation with per-layer queues (the same algorithm hibiki runs), one
thread, on the weights of a hibiki model directory. Prints JSON.

    LD_LIBRARY_PATH=/usr/lib/x86_64-linux-gnu/openblas-pthread \\
      /usr/bin/python3 tools/wavenet_bench.py MODEL_DIR --samples 2000 --batch 1
"""
import argparse
import json
import os
import sys
import time

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(__file__))
from safetensors_io import load  # noqa: E402
from wavenet_torch import WaveNet  # noqa: E402


def load_model(path, config=None):
    """The model in a hibiki directory; with `config`, that architecture instead (e.g. the same network with local
    conditioning added: layers the weights lack start at zero, so the model starts as it was)."""
    if config is None:
        with open(os.path.join(path, "config.json")) as f:
            config = json.load(f)
    model = WaveNet(config).eval()
    sd = load(os.path.join(path, "model.safetensors"))
    with torch.no_grad():
        model.embed.weight.copy_(sd["embed.weight"])
        for i in range(len(model.dilations)):
            for part, module in (("conv", model.convs[i]), ("residual", model.residuals[i]), ("skip", model.skips[i])):
                module.weight.copy_(sd[f"layers.{i}.{part}.weight"])
                module.bias.copy_(sd[f"layers.{i}.{part}.bias"])
            if model.local_channels:
                model.locals[i].weight.copy_(sd.get(f"layers.{i}.local.weight", torch.zeros_like(model.locals[i].weight)))
        if model.global_classes:
            model.condition.weight.copy_(sd["condition.weight"])
        for name in ("out1", "out2"):
            getattr(model, name).weight.copy_(sd[f"{name}.weight"])
            getattr(model, name).bias.copy_(sd[f"{name}.bias"])
    return model


@torch.no_grad()
def generate(model, samples, batch, temperature=1.0):
    c = model.config
    D, K = c["dilation_channels"], model.kernel
    layers = len(model.dilations)
    taps = [[m.weight[:, :, j] for j in range(K)] for m in model.convs]  # [2D, R] each
    res = [(m.weight[:, :, 0], m.bias) for m in model.residuals]
    skp = [(m.weight[:, :, 0], m.bias) for m in model.skips]
    cond = torch.zeros(batch, dtype=torch.long)
    bias = [model.convs[i].bias + (model.condition(cond).view(batch, layers, 2 * D)[:, i] if model.global_classes else 0)
            for i in range(layers)]
    queues = [torch.zeros((K - 1) * d, batch, c["residual_channels"]) for d in model.dilations]
    x = torch.full((batch,), c["quantization_channels"] // 2, dtype=torch.long)
    for t in range(samples):
        h = model.embed(x)
        skips = 0
        for i, d in enumerate(model.dilations):
            n = (K - 1) * d
            z = bias[i] + F.linear(h, taps[i][K - 1])
            for j in range(K - 1):
                z = z + F.linear(queues[i][(t - (K - 1 - j) * d) % n], taps[i][j])
            queues[i][t % n] = h
            g = torch.tanh(z[:, :D]) * torch.sigmoid(z[:, D:])
            skips = skips + F.linear(g, *skp[i])
            h = h + F.linear(g, *res[i])
        o = F.relu(F.linear(F.relu(skips), model.out1.weight[:, :, 0], model.out1.bias))
        logits = F.linear(o, model.out2.weight[:, :, 0], model.out2.bias)
        x = torch.multinomial(torch.softmax(logits / temperature, -1), 1)[:, 0]
    return x


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("model")
    parser.add_argument("--samples", type=int, default=2000)
    parser.add_argument("--batch", type=int, default=1)
    args = parser.parse_args()
    torch.set_num_threads(1)
    model = load_model(args.model)
    generate(model, 50, args.batch)  # warm-up
    started = time.perf_counter()
    generate(model, args.samples, args.batch)
    seconds = time.perf_counter() - started
    sr = model.config["sample_rate"]
    print(json.dumps({"engine": f"PyTorch {torch.__version__} eager, 1 thread", "samples": args.samples, "batch": args.batch,
                      "seconds": seconds, "msPerSample": seconds * 1000 / args.samples,
                      "realTimeFactor": args.samples * args.batch / sr / seconds}))


if __name__ == "__main__":
    main()
