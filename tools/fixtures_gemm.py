"""GEMM fixtures: torch.nn.functional.linear (weight [out, in], as checkpoints store it)."""
import torch
import torch.nn.functional as F

ACTS = {"none": lambda x: x, "relu": F.relu, "relu6": F.relu6, "gelu": F.gelu, "tanh": torch.tanh, "sigmoid": torch.sigmoid}


def cases():
    for m, k, n, act in [(1, 1, 1, "none"), (3, 7, 17, "relu"), (33, 64, 9, "gelu"), (5, 300, 33, "tanh"),
                         (64, 256, 64, "none"), (17, 33, 1, "sigmoid"), (8, 520, 24, "relu6")]:
        x = torch.randn(m, k)
        weight = torch.randn(n, k) / k ** 0.5
        bias = torch.randn(n)
        y = ACTS[act](F.linear(x, weight, bias))
        yield f"linear_{m}x{k}x{n}_{act}", "linear", {"activation": act}, {"x": x, "weight": weight, "bias": bias, "y": y}
