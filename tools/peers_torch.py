#!/usr/bin/env python3
"""PyTorch (CPU, OpenBLAS) on one case of `npm run bench:peers`: what
researchers run, at its best on Debian's build: each model both eager and
traced and frozen (torch.jit.freeze, which lets oneDNN fuse convolutions),
and the faster of the two is reported ("mode"). Frozen helps the convnets
(MobileNet v2 eager takes the build's slow depthwise path) and hurts the
Transformer.
The decoding loops (wavenet_step, transformer_greedy) run eager only.
Checks the output against io.safetensors first, then prints
one JSON line like bench/peers/run.ts: {engine, threads, case, ms (best of four medians),
perSecond, maxError, rssMiB}.

    LD_LIBRARY_PATH=/usr/lib/x86_64-linux-gnu/openblas-pthread \\
      /usr/bin/python3 tools/peers_torch.py CASE [THREADS]
"""
import json
import os
import resource
import statistics
import sys
import time

import torch

sys.path.insert(0, os.path.dirname(__file__))
from safetensors_io import load  # noqa: E402

MODELS = os.path.join(os.path.dirname(__file__), "..", "bench", "peers", "models")


class SelfAttention(torch.nn.Module):
    def __init__(self, mha):
        super().__init__()
        self.mha = mha

    def forward(self, x):
        return self.mha(x, x, x, need_weights=False)[0]


def main():
    case, threads = sys.argv[1], int(sys.argv[2]) if len(sys.argv) > 2 else 1
    torch.set_num_threads(threads)
    torch.set_grad_enabled(False)
    d = os.path.join(MODELS, case)
    io = load(os.path.join(d, "io.safetensors"))
    with open(os.path.join(d, "io.safetensors"), "rb") as f:
        header = json.loads(f.read(int.from_bytes(f.read(8), "little")))
    meta = json.loads(header["__metadata__"]["case"])
    if meta["kind"] == "sgemm":
        a, b = io["a"], io["b"]
        call, expected = (lambda: a @ b), io["c"]
    elif meta["kind"] == "classifier":
        import torchvision
        model = getattr(torchvision.models, meta["model"])(num_classes=1000).eval()
        model.load_state_dict(load(os.path.join(d, "model.safetensors")), strict=False)
        x = io["x"]
        call, expected = (lambda: model(x)), io["logits"]
    elif meta["kind"] == "mha":
        model = torch.nn.MultiheadAttention(256, meta["heads"], batch_first=True).eval()
        model.load_state_dict({k[len("mha."):]: v for k, v in load(os.path.join(d, "model.safetensors")).items()})
        x = io["x"]
        call, expected = (lambda: model(x, x, x, need_weights=False)[0]), io["y"]
    elif meta["kind"] == "transformer":
        from transformer_torch import Transformer
        with open(os.path.join(d, "config.json")) as f:
            model = Transformer(json.load(f)).eval()
        model.load_state_dict(load(os.path.join(d, "model.safetensors")))
        call, expected = (lambda: model(io["src"], io["tgt"])), io["logits"]
    elif meta["kind"] == "transformer_greedy":
        from transformer_torch import Transformer, greedy_search
        with open(os.path.join(d, "config.json")) as f:
            model = Transformer(json.load(f)).eval()
        model.load_state_dict(load(os.path.join(d, "model.safetensors")))
        src, T = io["src"], meta["max_length"]

        def call():
            out = torch.full((src.shape[0], T), -1.0)
            for b, (tokens, _) in enumerate(greedy_search(model, src, [T] * src.shape[0])):
                out[b, :len(tokens)] = torch.tensor(tokens, dtype=torch.float)
            return out
        expected = io["greedy"]
    elif meta["kind"] == "wavenet_step":
        from export_peers import WaveNetStep, wavenet_sampled
        from wavenet_bench import load_model
        step = WaveNetStep(load_model(d)).eval()
        call = lambda: wavenet_sampled(step, meta["samples"], torch.tensor([meta["condition"]]), meta["seed"]).float()  # noqa: E731
        expected = io["classes"]
    else:
        from wavenet_bench import load_model
        model = load_model(d)
        call, expected = (lambda: model(io["x"], io["cond"])), io["logits"]
    modes = {"eager": call}
    # The decoding loops (greedy, sampled) run eager: tracing would freeze their Python control flow.
    if meta["kind"] in ("classifier", "wavenet", "mha", "transformer"):
        inputs = {"classifier": lambda: (io["x"],), "wavenet": lambda: (io["x"], io["cond"]), "mha": lambda: (io["x"],),
                  "transformer": lambda: (io["src"], io["tgt"])}[meta["kind"]]()
        module = model if meta["kind"] != "mha" else SelfAttention(model)
        frozen = torch.jit.freeze(torch.jit.trace(module.eval(), inputs))
        modes["frozen"] = lambda: frozen(*inputs)
    error = 0.0
    for f in modes.values():
        got = f()
        error = max(error, float((got - expected).abs().max() / max(1.0, float(expected.abs().max()))))
    if not error <= 1e-3:
        sys.exit(f"pytorch on {case}: output differs from the exported one by {error}")
    best, mode = float("inf"), None
    for name, f in modes.items():
        for _ in range(2):
            f()
        # four windows of 0.5 s and the best window's median, as bench/peers/run.ts
        for _ in range(4):
            times, spent = [], 0.0
            while len(times) < 3 or spent < 0.5:
                started = time.perf_counter()
                f()
                times.append(time.perf_counter() - started)
                spent += times[-1]
            if statistics.median(times) < best:
                best, mode = statistics.median(times), name
    ms = best * 1000
    print(json.dumps({"engine": "pytorch", "threads": threads, "case": case, "ms": ms, "perSecond": 1000 / ms,
                      "maxError": error, "mode": mode, "rssMiB": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))


if __name__ == "__main__":
    main()
