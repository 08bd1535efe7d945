"""The U-Net (Ronneberger et al., 2015) that src/models/unet.ts runs, in PyTorch.

An encoder of `depth` levels, each a conv block followed by a 2×2 max pool,
a bottleneck of dilated 3×3 convs, and a decoder that mirrors the encoder:
at each level it upsamples ×2, joins the encoder's output of that level (the
skip) and runs a conv block; a 1×1 conv gives per-pixel class logits.

Channels: level i has c_i = base_channels · 2^i, the bottleneck c_depth.

  - conv block: (3×3 conv, padding = dilation → BN → ReLU) per dilation;
    encoder and decoder blocks use [1, 1], the bottleneck
    `bottleneck_dilations` (e.g. [1, 2, 4]: atrous convs that widen the
    receptive field at the coarsest level without pooling further).
  - upsample "transposed": ConvTranspose2d(c_{i+1} → c_i, 2×2, stride 2).
    upsample "unpool": a 1×1 conv c_{i+1} → c_i, then MaxUnpool2d(2) with
    the indices of level i's pooling (SegNet): every value goes back where
    its maximum came from, the rest is zero, and the block's 3×3 convs fill
    the sparse map in.
  - skip "concat": [upsampled, skip] (2·c_i channels) into the block (U-Net);
    skip "add": upsampled + skip (c_i channels), FCN's element-wise fusion.
    The upsampling already maps to c_i, the skip's width, so the add needs
    no channel-matching conv of its own.

Inputs must have H and W divisible by 2^depth (the decoder must meet every
skip at its exact size); the model raises otherwise.

State dict names (config.json's `bottleneck_dilations` has D entries):

    down.{i}.conv1 .bn1 .conv2 .bn2        i = 0 … depth−1
    bottleneck.conv{j} .bn{j}              j = 1 … D
    up.{i}.upconv                          ConvTranspose2d or the 1×1 before unpooling
    up.{i}.conv1 .bn1 .conv2 .bn2          the decoder block of level i
    classifier                             1×1 conv c_0 → classes
"""
import torch
from torch import nn
import torch.nn.functional as F

UPSAMPLE = ("transposed", "unpool")
SKIP = ("concat", "add")


def default_config(**overrides):
    config = {
        "architecture": "unet",
        "in_channels": 3,
        "classes": 2,
        "base_channels": 16,
        "depth": 3,
        "upsample": "transposed",
        "skip": "concat",
        "bottleneck_dilations": [1, 1],
    }
    config.update(overrides)
    return config


class ConvBlock(nn.Module):
    """(3×3 conv with padding = dilation → BN → ReLU) for each dilation: conv1, bn1, conv2, bn2, …"""

    def __init__(self, cin, cout, dilations):
        super().__init__()
        self.dilations = list(dilations)
        for j, d in enumerate(self.dilations, 1):
            setattr(self, f"conv{j}", nn.Conv2d(cin if j == 1 else cout, cout, 3, padding=d, dilation=d, bias=False))
            setattr(self, f"bn{j}", nn.BatchNorm2d(cout))

    def forward(self, x):
        for j in range(1, len(self.dilations) + 1):
            x = F.relu(getattr(self, f"bn{j}")(getattr(self, f"conv{j}")(x)))
        return x


class Up(ConvBlock):
    """Upsample ×2 to c_i channels, join the skip, then the decoder block."""

    def __init__(self, cin, cout, upsample, skip):
        super().__init__(2 * cout if skip == "concat" else cout, cout, [1, 1])
        self.upsample, self.skip = upsample, skip
        self.upconv = nn.ConvTranspose2d(cin, cout, 2, stride=2) if upsample == "transposed" else nn.Conv2d(cin, cout, 1)

    def forward(self, x, skip, indices):
        if self.upsample == "transposed":
            x = self.upconv(x)
        else:
            x = F.max_unpool2d(self.upconv(x), indices, 2, output_size=skip.shape[-2:])
        x = torch.cat([x, skip], 1) if self.skip == "concat" else x + skip
        return super().forward(x)


class UNet(nn.Module):
    def __init__(self, config):
        super().__init__()
        assert config["upsample"] in UPSAMPLE and config["skip"] in SKIP, config
        self.config = config
        base, depth = config["base_channels"], config["depth"]
        widths = [base * 2 ** i for i in range(depth + 1)]
        self.down = nn.ModuleList(ConvBlock(config["in_channels"] if i == 0 else widths[i - 1], widths[i], [1, 1]) for i in range(depth))
        self.bottleneck = ConvBlock(widths[depth - 1], widths[depth], config["bottleneck_dilations"])
        self.up = nn.ModuleList(Up(widths[i + 1], widths[i], config["upsample"], config["skip"]) for i in range(depth))
        self.classifier = nn.Conv2d(widths[0], config["classes"], 1)

    def forward(self, x):
        step = 2 ** self.config["depth"]
        if x.shape[-2] % step or x.shape[-1] % step:
            raise ValueError(f"input {tuple(x.shape[-2:])} is not divisible by 2^depth = {step}")
        skips, indices = [], []
        for block in self.down:
            x = block(x)
            skips.append(x)
            x, where = F.max_pool2d(x, 2, return_indices=True)
            indices.append(where)
        x = self.bottleneck(x)
        for i in reversed(range(len(self.up))):
            x = self.up[i](x, skips[i], indices[i])
        return self.classifier(x)
