#!/usr/bin/env python3
"""Trains the DenseNet that ships in models/digits-densenet: handwritten
digits 0–9 from scikit-learn's digits data set (UCI optical recognition of
handwritten digits: 1797 images of 8×8 pixels, values 0–16, ink high).

The network is torchvision's DenseNet-BC with the stem made for 8×8 inputs
(`stem: "small"` in config.json, as src/models/densenet.ts reads it):
features.conv0 is a 3×3 stride-1 conv and features.pool0 is gone (an
nn.Identity, which has no parameters, so every state dict name stays
torchvision's).

    apt-get install python3-torch python3-torchvision python3-sklearn python3-pil
    LD_LIBRARY_PATH=/usr/lib/x86_64-linux-gnu/openblas-pthread \\
      /usr/bin/python3 tools/train_digits_densenet.py --out models/digits-densenet

Writes OUT/config.json (hyperparameters, the input convention, provenance
with the test accuracy measured here), OUT/model.safetensors, the whole test
split (pixels 0–16 as uint8, labels, PyTorch's logits) to FIXTURE for
test/models/digits-densenet.test.ts, and one test digit per label to
SAMPLES as dark ink on white, the way a user's image looks:
LABEL.png (8×8) and LABEL-32px.png (nearest-neighbour ×4).
"""
import os
import sys
import time

import numpy as np
import sklearn
import torch
import torchvision
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split
from torch import nn

sys.path.insert(0, os.path.dirname(__file__))
import digits_data  # noqa: E402
import train_common  # noqa: E402
from safetensors_io import save, write_model_dir  # noqa: E402


def build(args):
    model = torchvision.models.DenseNet(growth_rate=args.growth_rate, block_config=tuple(args.block_config),
                                        num_init_features=args.init_features, bn_size=args.bn_size, num_classes=10)
    model.features.conv0 = nn.Conv2d(1, args.init_features, 3, stride=1, padding=1, bias=False)
    model.features.pool0 = nn.Identity()
    return model


def write_samples(out, pixels, labels):
    """The first test image of each label, inverted to dark ink on white (255 − v·255/16)."""
    from PIL import Image

    os.makedirs(out, exist_ok=True)
    for digit in range(10):
        v = pixels[int(np.flatnonzero(labels == digit)[0])].astype(np.float64)
        image = Image.fromarray(np.rint(255 - v * 255 / 16).astype(np.uint8), "L")
        image.save(os.path.join(out, f"{digit}.png"))
        image.resize((32, 32), Image.NEAREST).save(os.path.join(out, f"{digit}-32px.png"))
    print(f"10 test digits -> {out}")


def main():
    parser = train_common.parser(__doc__, out="models/digits-densenet", fixture="test/fixtures/digits-densenet/test-split.safetensors",
                                 samples="samples/images/digits", epochs=20, batch=128, lr=3e-3, threads=1)
    parser.add_argument("--split-seed", type=int, default=0)
    parser.add_argument("--test-fraction", type=float, default=0.2)
    parser.add_argument("--growth-rate", type=int, default=12)
    parser.add_argument("--block-config", type=int, nargs="+", default=[4, 4])
    parser.add_argument("--init-features", type=int, default=24)
    parser.add_argument("--bn-size", type=int, default=4)
    parser.add_argument("--handwritten-variants", type=int, default=6,
                        help="augmented pictures per training digit (see tools/digits_data.py augment)")
    parser.add_argument("--typed-variants", type=int, default=8, help="augmented pictures per training font and digit")
    args = parser.parse_args()
    started = train_common.start(args)
    rng = np.random.default_rng(args.seed)

    digits = load_digits()
    pixels = digits.images.astype(np.uint8)  # [1797, 8, 8], 0–16
    train_px, test_px, train_y, test_y = train_test_split(
        pixels, digits.target, test_size=args.test_fraction, random_state=args.split_seed, stratify=digits.target)

    def picture(px):
        """A data set digit as a user's picture: 8×8 grey, dark ink on white (as samples/images/digits)."""
        grey = np.rint(255 - px.astype(np.float64) * 255 / 16).astype(np.uint8)
        return np.repeat(grey[..., None], 3, axis=2)

    # Training pictures: every training digit as is, then augmented; every training font's digits as typed, then
    # augmented. All go through the preprocessing hibiki runs (fit_ink) to the 8×8 ink map the network reads.
    maps, labels = [], []
    for px, y in zip(train_px, train_y):
        maps.append(digits_data.ink_fit(picture(px)))
        labels.append(y)
        for _ in range(args.handwritten_variants):
            pic = digits_data.augment(px / 16.0, rng)
            if pic is not None:
                maps.append(digits_data.ink_fit(pic))
                labels.append(y)
    faces = digits_data.font_split()["train"]
    for _, _, file in faces:
        for d in range(10):
            glyph = 1 - digits_data.typed(file, d, size=int(rng.integers(24, 57))) / 255.0
            maps.append(digits_data.ink_fit(digits_data.colourise(glyph, rng, "plain")))
            labels.append(d)
            for _ in range(args.typed_variants):
                pic = digits_data.augment(glyph, rng)
                if pic is not None:
                    maps.append(digits_data.ink_fit(pic))
                    labels.append(d)
    maps = np.stack(maps).astype(np.float32)
    mean, std = float(maps.mean()), float(maps.std())
    print(f"{len(maps)} training pictures ({len(train_px)} digits, {len(faces)} fonts), "
          f"{(time.time() - started) / 60:.1f} min to make", flush=True)

    def inputs(ink):
        return ((torch.from_numpy(np.asarray(ink, np.float32)) - mean) / std).unsqueeze(1)

    x_train, y_train = inputs(maps), torch.from_numpy(np.array(labels)).long()
    test_ink = np.stack([digits_data.ink_fit(picture(px)) for px in test_px])
    x_test, y_test = inputs(test_ink), torch.from_numpy(test_y).long()

    model = build(args)

    def report(epoch, loss):
        if epoch % 10 == 0 or epoch == args.epochs:
            model.eval()
            with torch.no_grad():
                accuracy = float((model(x_test).argmax(1) == y_test).float().mean())
            print(f"epoch {epoch}: loss {loss:.4f}, test accuracy {accuracy:.4f}", flush=True)

    train_common.fit(model, x_train, y_train, args, lambda x, y: (x, y), report)
    model.eval()
    with torch.no_grad():
        logits = model(x_test)
    correct = int((logits.argmax(1) == y_test).sum())
    accuracy = correct / len(y_test)
    minutes = (time.time() - started) / 60
    config = {
        "architecture": "densenet",
        "format_version": 1,
        "growth_rate": args.growth_rate,
        "block_config": args.block_config,
        "num_init_features": args.init_features,
        "bn_size": args.bn_size,
        "num_classes": 10,
        "stem": "small",
        "labels": [str(d) for d in range(10)],
        "input": {
            "size": [8, 8], "channels": 1, "mean": [mean], "std": [std], "fit_ink": True,
            "note": "fit_ink: the ink is found against the border's colour (any polarity or colour), its bounding box "
                    "scaled to fit 8×8 and centred (tools/digits_data.py ink_fit; src/models/image-input.ts); "
                    "x = (ink − mean) / std with ink 0–1.",
        },
        "training": {
            "command": train_common.command(),
            "data": "sklearn.datasets.load_digits", "sklearn": sklearn.__version__,
            "split": f"train_test_split(test_size={args.test_fraction}, random_state={args.split_seed}, stratify=target)",
            "train_images": len(x_train), "test_images": len(x_test), "seed": args.seed, "epochs": args.epochs,
            "batch": args.batch, "lr": args.lr, "optimiser": "AdamW, one-cycle",
            "augmentation": "tools/digits_data.py augment: rotation ±12°, shear ±0.25, stroke thickened or thinned, "
                            "aspect 0.8–1.25, margins, sizes 8–96 px, plain/inverted/colour, noise",
            "pictures": len(x_train), "handwritten_variants": args.handwritten_variants,
            "typed_variants": args.typed_variants, "train_fonts": len(faces),
            "font_packages": digits_data.FONT_PACKAGES,
            "minutes": round(minutes, 2), "torch": torch.__version__, "torchvision": torchvision.__version__,
            "test_accuracy": accuracy, "test_correct": correct,
        },
    }
    state = {k: v.float() for k, v in model.state_dict().items() if not k.endswith("num_batches_tracked")}
    write_model_dir(args.out, config, state, {"format": "pt", "generator": "tools/train_digits_densenet.py"})
    os.makedirs(os.path.dirname(args.fixture), exist_ok=True)
    save(args.fixture, {
        "pixels": torch.from_numpy(test_px),  # uint8 [n, 8, 8], 0–16
        "labels": torch.from_numpy(test_y.astype(np.uint8)),
        "ink": torch.from_numpy(test_ink.astype(np.float32)),  # [n, 8, 8]: fit_ink of each as a picture
        "torch_logits": logits,  # [n, 10]
    }, {"generator": "tools/train_digits_densenet.py", "torch_accuracy": str(accuracy)})
    write_samples(args.samples, test_px, test_y)
    print(f"test accuracy {accuracy:.4f} ({correct}/{len(y_test)}), {minutes:.1f} min -> {args.out}, {args.fixture}")


if __name__ == "__main__":
    main()
