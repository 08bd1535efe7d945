"""The WaveNet that hibiki runs (src/models/wavenet.ts), in PyTorch: the
definition the training script trains and the fixture script checks against.

Input samples are mu-law classes; a class embedding (a 1×1 convolution of the
one-hot input) starts the residual stream. Each layer: dilated causal conv
(kernel 2 by default) → + conditioning → tanh(filter) · σ(gate) → 1×1 residual
(added to the layer's input) and 1×1 skip. Skips summed → ReLU → 1×1 → ReLU →
1×1 → logits over the classes.
"""
import json
import math

import torch
import torch.nn as nn
import torch.nn.functional as F


class WaveNet(nn.Module):
    def __init__(self, config):
        super().__init__()
        self.config = config
        c = config
        self.embed = nn.Embedding(c["quantization_channels"], c["residual_channels"])
        self.dilations = [d for _ in range(c["stacks"]) for d in c["dilation_cycle"]]
        self.kernel = c["kernel_size"]
        D = c["dilation_channels"]
        self.convs = nn.ModuleList(
            nn.Conv1d(c["residual_channels"], 2 * D, self.kernel, dilation=d) for d in self.dilations)
        self.residuals = nn.ModuleList(nn.Conv1d(D, c["residual_channels"], 1) for _ in self.dilations)
        self.skips = nn.ModuleList(nn.Conv1d(D, c["skip_channels"], 1) for _ in self.dilations)
        self.global_classes = c.get("global_condition_classes", 0)
        if self.global_classes:
            # One embedding row per class holds every layer's bias for it: [classes, layers · 2D].
            self.condition = nn.Embedding(self.global_classes, len(self.dilations) * 2 * D)
        self.local_channels = c.get("local_condition_channels", 0)
        self.hop = c.get("local_condition_hop", 1)
        if self.local_channels:
            # Features at frame rate, repeated `hop` times to sample rate, then a 1×1 conv per layer.
            self.locals = nn.ModuleList(nn.Conv1d(self.local_channels, 2 * D, 1, bias=False) for _ in self.dilations)
        self.out1 = nn.Conv1d(c["skip_channels"], c["skip_channels"], 1)
        self.out2 = nn.Conv1d(c["skip_channels"], c["quantization_channels"], 1)

    def receptive_field(self):
        return (self.kernel - 1) * sum(self.dilations) + 1

    def forward(self, x, cond=None, local=None, local_per_sample=False):
        """x: [B, T] classes, cond: [B] global condition classes, local: [B, C_l, frames]
        (or [B, C_l, T] already at sample rate with local_per_sample) → logits [B, classes, T]."""
        h = self.embed(x).transpose(1, 2)  # (B, R, T)
        if self.local_channels and not local_per_sample:
            local = local.repeat_interleave(self.hop, dim=2)[:, :, : x.shape[1]]  # (B, C_l, T)
        D = self.config["dilation_channels"]
        c = self.condition(cond).view(x.shape[0], len(self.dilations), 2 * D, 1) if self.global_classes else None
        skips = 0
        for i, d in enumerate(self.dilations):
            z = self.convs[i](F.pad(h, ((self.kernel - 1) * d, 0)))  # (B, 2D, T)
            if c is not None:
                z = z + c[:, i]
            if self.local_channels:
                z = z + self.locals[i](local)
            g = torch.tanh(z[:, :D]) * torch.sigmoid(z[:, D:])
            skips = skips + self.skips[i](g)
            h = h + self.residuals[i](g)
        return self.out2(F.relu(self.out1(F.relu(skips))))

    def state_dict_for_hibiki(self):
        """Weights under the names src/models/wavenet.ts reads, in PyTorch's layouts."""
        sd = {"embed.weight": self.embed.weight}
        for i in range(len(self.dilations)):
            sd[f"layers.{i}.conv.weight"] = self.convs[i].weight
            sd[f"layers.{i}.conv.bias"] = self.convs[i].bias
            sd[f"layers.{i}.residual.weight"] = self.residuals[i].weight
            sd[f"layers.{i}.residual.bias"] = self.residuals[i].bias
            sd[f"layers.{i}.skip.weight"] = self.skips[i].weight
            sd[f"layers.{i}.skip.bias"] = self.skips[i].bias
            if self.local_channels:
                sd[f"layers.{i}.local.weight"] = self.locals[i].weight
        if self.global_classes:
            sd["condition.weight"] = self.condition.weight
        sd["out1.weight"] = self.out1.weight
        sd["out1.bias"] = self.out1.bias
        sd["out2.weight"] = self.out2.weight
        sd["out2.bias"] = self.out2.bias
        return {k: v.detach().contiguous() for k, v in sd.items()}


# The note clock (config "local_condition_features": "time_since_onset"; src/models/wavenet.ts computes the
# same): per frame of `hop` samples, with t = the frame's first sample after the onset, in seconds,
#   [1, exp(-t / 0.25), exp(-t / 1.5), min(t, 6) / 6]
# The first channel says the note is on (training's silence before the onset has all four at 0); the two
# exponentials tell the attack from the early and the late decay; the ramp says how far in, up to 6 s.
CLOCK_CHANNELS = 4
CLOCK_HORIZON = 6.0


def time_since_onset(frames, hop, sample_rate):
    """[C_l = 4, frames] float32 features of a note's first `frames` frames (frame 0 = the onset)."""
    t = torch.arange(frames, dtype=torch.float64) * hop / sample_rate
    return torch.stack([torch.ones_like(t), torch.exp(-t / 0.25), torch.exp(-t / 1.5),
                        t.clamp(max=CLOCK_HORIZON) / CLOCK_HORIZON]).float()


def mulberry32(seed):
    """hibiki's PRNG (src/runtime/rng.ts), so fixtures can sample exactly as hibiki does."""
    state = seed & 0xFFFFFFFF

    def imul(a, b):
        return (a * b) & 0xFFFFFFFF

    def next_u():
        nonlocal state
        state = (state + 0x6D2B79F5) & 0xFFFFFFFF
        t = state
        t = imul(t ^ (t >> 15), t | 1)
        t ^= (t + imul(t ^ (t >> 7), t | 61)) & 0xFFFFFFFF
        return ((t ^ (t >> 14)) & 0xFFFFFFFF) / 4294967296

    return next_u


def sample_class(logits, temperature, u, min_p=0.0):
    """hibiki's sampling rule: softmax(logits / T); with min_p > 0 the classes less likely than min_p times the
    likeliest weigh 0 (min-p sampling); then the first class whose CDF reaches u times the total and is above 0."""
    if temperature == 0:
        return int(torch.argmax(logits))
    p = torch.softmax(logits.double() / temperature, dim=0)
    if min_p > 0:
        p = torch.where(p >= min_p * p.max(), p, torch.zeros_like(p))
    cdf = torch.cumsum(p, 0)
    hits = ((cdf >= u * float(cdf[-1])) & (cdf > 0)).nonzero()
    return int(hits[0]) if hits.numel() else logits.shape[0] - 1


def load_config(path):
    with open(path) as f:
        return json.load(f)


def default_config():
    return {
        "architecture": "wavenet",
        "format_version": 1,
        "sample_rate": 8000,
        "quantization_channels": 256,
        "mu": 255,
        "residual_channels": 32,
        "dilation_channels": 32,
        "skip_channels": 64,
        "kernel_size": 2,
        "dilation_cycle": [2 ** i for i in range(8)],
        "stacks": 2,
        "global_condition_classes": 0,
    }


def log2(x):
    return math.log(x, 2)
