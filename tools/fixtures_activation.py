"""Activation and elementwise fixtures: torch's own functions on wide-ranging inputs."""
import torch
import torch.nn.functional as F

ACTS = {"relu": F.relu, "relu6": F.relu6, "gelu": F.gelu, "tanh": torch.tanh, "sigmoid": torch.sigmoid}


def cases():
    # Values across the ranges where the approximations differ most: near 0,
    # the knees of sigmoid/tanh, and far tails where they saturate.
    x = torch.cat([torch.linspace(-20, 20, 401), torch.randn(199) * 4, torch.tensor([0.0, -0.0, 1e-7, -1e-7])])
    for name, fn in ACTS.items():
        yield f"{name}_604", name, {}, {"x": x, "y": fn(x)}
    for rows, c in [(1, 1), (3, 7), (5, 33)]:
        xg = torch.randn(rows, 2 * c) * 3
        y = torch.tanh(xg[:, :c]) * torch.sigmoid(xg[:, c:])
        yield f"gated_tanh_{rows}x{c}", "gated_tanh", {}, {"x": xg, "y": y}
    for rows, n in [(1, 1), (3, 7), (4, 17), (2, 1000)]:
        xs = torch.randn(rows, n) * 10
        yield f"softmax_{rows}x{n}", "softmax", {"log": False}, {"x": xs, "y": F.softmax(xs, dim=-1)}
        yield f"log_softmax_{rows}x{n}", "softmax", {"log": True}, {"x": xs, "y": F.log_softmax(xs, dim=-1)}
