#!/usr/bin/env python3
"""The models of `npm run bench:peers`, each exported from one set of PyTorch
weights to every engine's format, with PyTorch's answer to check them by:

    LD_LIBRARY_PATH=/usr/lib/x86_64-linux-gnu/openblas-pthread \\
      /usr/bin/python3 tools/export_peers.py            # or: tools/export_peers.py sgemm mobilenet_v2

writes bench/peers/models/CASE/ (not committed: DenseNet-121 alone is 32 MB):

    model.onnx         for onnxruntime-web and onnxruntime-node (opset 13)
    config.json,
    model.safetensors  a hibiki model directory (where the case is a model)
    io.safetensors     the inputs and PyTorch's outputs; metadata "case" (JSON)

Cases (issue 9's rows): sgemm_256/512/1024 (A · B, B a constant);
mobilenet_v2 and densenet121 at 224×224 (torchvision, random weights with
batch norms calibrated on random batches, as tools/fixtures_vision.py);
wavenet (the shipped models/wavenet-piano: 16 layers, 32 channels,
teacher-forced over 16,000 samples).
"""
import json
import os
import sys

import torch

sys.path.insert(0, os.path.dirname(__file__))
from safetensors_io import save  # noqa: E402

ROOT = os.path.join(os.path.dirname(__file__), "..")
OUT = os.path.join(ROOT, "bench", "peers", "models")


def write_case(name, model, inputs, outputs, case, input_names, output_names, dynamic_axes=None):
    """model.onnx and io.safetensors for one case; returns its directory."""
    out = os.path.join(OUT, name)
    os.makedirs(out, exist_ok=True)
    torch.onnx.export(model, tuple(inputs.values()), os.path.join(out, "model.onnx"), opset_version=13,
                      input_names=input_names, output_names=output_names, dynamic_axes=dynamic_axes or {})
    tensors = {**{k: v.contiguous() for k, v in inputs.items()}, **{k: v.contiguous() for k, v in outputs.items()}}
    save(os.path.join(out, "io.safetensors"), tensors, {"case": json.dumps(case)})
    print(f"{name}: {', '.join(f'{k} {list(v.shape)}' for k, v in tensors.items())} -> {out}", flush=True)
    return out


class MatMulConstant(torch.nn.Module):
    def __init__(self, b):
        super().__init__()
        self.b = torch.nn.Parameter(b, requires_grad=False)

    def forward(self, a):
        return a @ self.b


def sgemm():
    for n in (256, 512, 1024):
        g = torch.Generator().manual_seed(n)
        a = torch.rand(n, n, generator=g) * 2 - 1
        b = torch.rand(n, n, generator=g) * 2 - 1
        model = MatMulConstant(b)
        write_case(f"sgemm_{n}", model, {"a": a}, {"c": model(a), "b": b}, {"kind": "sgemm", "n": n}, ["a"], ["c"])


def vision(name, seed):
    import torchvision
    from export_torchvision import write_model_dir
    from fixtures_vision import calibrate

    torch.manual_seed(seed)
    model = getattr(torchvision.models, name)(num_classes=1000)
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        calibrate(model, g, lambda: torch.rand(4, 3, 224, 224, generator=g) * 2 - 1)
    x = torch.rand(1, 3, 224, 224, generator=g) * 2 - 1  # already normalised: the engines all take NCHW floats
    with torch.no_grad():
        logits = model(x)
    out = write_case(name, model, {"x": x}, {"logits": logits}, {"kind": "classifier", "model": name}, ["x"], ["logits"])
    write_model_dir(out, name, model, [str(i) for i in range(1000)], f"random (seed {seed}), batch norms calibrated")


def wavenet():
    from wavenet_bench import load_model

    model = load_model(os.path.join(ROOT, "models", "wavenet-piano"))
    g = torch.Generator().manual_seed(16000)
    x = torch.randint(0, 256, (1, 16000), generator=g)
    cond = torch.tensor([12])
    with torch.no_grad():
        logits = model(x, cond)
    out = write_case("wavenet", model, {"x": x, "cond": cond}, {"logits": logits},
                     {"kind": "wavenet", "model": "models/wavenet-piano", "samples": 16000}, ["x", "cond"], ["logits"])
    for f in ("config.json", "model.safetensors"):
        with open(os.path.join(ROOT, "models", "wavenet-piano", f), "rb") as src, open(os.path.join(out, f), "wb") as dst:
            dst.write(src.read())


CASES = {"sgemm": sgemm, "mobilenet_v2": lambda: vision("mobilenet_v2", 7), "densenet121": lambda: vision("densenet121", 8),
         "wavenet": wavenet}


def main():
    torch.set_num_threads(1)
    for name in sys.argv[1:] or CASES:
        if name not in CASES:
            sys.exit(f"unknown case {name!r}; cases: {', '.join(CASES)}")
        CASES[name]()


if __name__ == "__main__":
    main()
