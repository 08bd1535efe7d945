#!/usr/bin/env python3
"""The models of `npm run bench:peers`, each exported from one set of PyTorch
weights to every engine's format, with PyTorch's answer to check them by:

    LD_LIBRARY_PATH=/usr/lib/x86_64-linux-gnu/openblas-pthread \\
      /usr/bin/python3 tools/export_peers.py            # or: tools/export_peers.py sgemm mobilenet_v2

writes bench/peers/models/CASE/ (not committed: DenseNet-121 alone is 32 MB):

    model.onnx         for onnxruntime-web and onnxruntime-node (opset 13; 14 for the Transformer)
    config.json,
    model.safetensors  a hibiki model directory (where the case is a model)
    io.safetensors     the inputs and PyTorch's outputs; metadata "case" (JSON)

Cases (issue 9's rows): sgemm_256/512/1024 (A · B, B a constant);
mobilenet_v2 and densenet121 at 224×224 (torchvision, random weights with
batch norms calibrated on random batches, as tools/fixtures_vision.py);
wavenet (the shipped models/wavenet-piano: 16 layers, 32 channels,
teacher-forced over 16,000 samples); mha (nn.MultiheadAttention, d 256,
8 heads, self-attention over 128 tokens); transformer (tools/transformer_torch.py,
3 + 3 layers, d 256, 8 heads, d_ff 1024, vocabularies of 1,000: the
teacher-forced forward of 8 sentences of 32 tokens).
"""
import json
import os
import sys

import torch

sys.path.insert(0, os.path.dirname(__file__))
from safetensors_io import save  # noqa: E402

ROOT = os.path.join(os.path.dirname(__file__), "..")
OUT = os.path.join(ROOT, "bench", "peers", "models")


def write_case(name, model, inputs, outputs, case, input_names, output_names, opset=13):
    """model.onnx and io.safetensors for one case; returns its directory."""
    out = os.path.join(OUT, name)
    os.makedirs(out, exist_ok=True)
    torch.onnx.export(model, tuple(inputs.values()), os.path.join(out, "model.onnx"), opset_version=opset,
                      input_names=input_names, output_names=output_names)
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


def mha():
    torch.manual_seed(256)
    model = torch.nn.MultiheadAttention(256, 8, batch_first=True).eval()
    with torch.no_grad():
        model.in_proj_bias.uniform_(-0.5, 0.5)
        model.out_proj.bias.uniform_(-0.5, 0.5)

    class SelfAttention(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.mha = model

        def forward(self, x):
            return self.mha(x, x, x, need_weights=False)[0]

    x = torch.randn(1, 128, 256)
    module = SelfAttention().eval()
    with torch.no_grad():
        y = module(x)
    # exported with grad enabled: under no_grad torch 1.13 traces the fused fast path, which opset 13 lacks
    out = write_case("mha", module, {"x": x}, {"y": y}, {"kind": "mha", "heads": 8}, ["x"], ["y"])
    save(os.path.join(out, "model.safetensors"), {k: v.detach().contiguous() for k, v in module.state_dict().items()})


def transformer():
    from transformer_torch import Transformer, default_config

    config = {**default_config(), "heads": 8}
    torch.manual_seed(1000)
    model = Transformer(config).eval()
    g = torch.Generator().manual_seed(32)
    src = torch.randint(4, 1000, (8, 32), generator=g)
    src[:, -1] = config["eos_id"]
    tgt = torch.randint(4, 1000, (8, 32), generator=g)
    tgt[:, 0] = config["bos_id"]
    with torch.no_grad():
        logits = model(src, tgt)
    out = write_case("transformer", model, {"src": src, "tgt": tgt}, {"logits": logits}, {"kind": "transformer"},
                     ["src", "tgt"], ["logits"], opset=14)  # the causal mask's triu needs opset 14
    save(os.path.join(out, "model.safetensors"), {k: v.detach().contiguous() for k, v in model.state_dict().items()})
    with open(os.path.join(out, "config.json"), "w") as f:
        json.dump(config, f, indent=2)


CASES = {"sgemm": sgemm, "mobilenet_v2": lambda: vision("mobilenet_v2", 7), "densenet121": lambda: vision("densenet121", 8),
         "wavenet": wavenet, "mha": mha, "transformer": transformer}


def main():
    torch.set_num_threads(1)
    for name in sys.argv[1:] or CASES:
        if name not in CASES:
            sys.exit(f"unknown case {name!r}; cases: {', '.join(CASES)}")
        CASES[name]()


if __name__ == "__main__":
    main()
