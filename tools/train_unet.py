#!/usr/bin/env python3
"""Trains the U-Net that ships in models/shapes-unet: per-pixel background /
circle / square / triangle on the generated shapes data set of
tools/make_shapes.py (64×64 RGB).

    LD_LIBRARY_PATH=/usr/lib/x86_64-linux-gnu/openblas-pthread \\
      /usr/bin/python3 tools/train_unet.py --augment --large-share 0.25 --train-images 12000 \\
      --epochs 12 --base-channels 12 --threads 1 --out models/shapes-unet

(the shipped model's command; its config.json → training has it as run,
with the seeds and the figures it measured).

Writes OUT/config.json (the architecture, classes, input normalisation and
the training provenance: command, seeds, epochs, held-out mean IoU measured
here), OUT/model.safetensors (the state dict, tools/unet_torch.py's names),
the first --fixture-images held-out images with their labels, PyTorch's
argmax labels and two images' logits to FIXTURE (uint8 pixels, for
test/models/shapes-unet.test.ts), and the first four held-out images as PNG
under SAMPLES.
"""
import os
import sys
import time

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(__file__))
import make_shapes  # noqa: E402
import train_common  # noqa: E402
from safetensors_io import save, write_model_dir  # noqa: E402
from unet_torch import UNet, default_config  # noqa: E402


def confusion(truth, predicted, classes):
    return np.bincount(truth.ravel().astype(np.int64) * classes + predicted.ravel(), minlength=classes * classes).reshape(classes, classes)


def iou(matrix):
    """Per-class IoU (intersection / union over the whole set) and their mean, as src/metrics/segmentation.ts."""
    inter = np.diag(matrix).astype(np.float64)
    union = matrix.sum(0) + matrix.sum(1) - inter
    per_class = inter / np.maximum(union, 1)
    return per_class, float(per_class[union > 0].mean()), float(inter.sum() / matrix.sum())


def normalise(images, mean, std):
    """uint8 [N, H, W, 3] → float [N, 3, H, W], (x/255 − mean)/std per channel."""
    x = torch.from_numpy(images).float().div_(255).permute(0, 3, 1, 2)
    return (x - torch.tensor(mean).view(1, 3, 1, 1)) / torch.tensor(std).view(1, 3, 1, 1)


@torch.no_grad()
def predict(model, x, batch=100):
    model.eval()
    return torch.cat([model(x[i:i + batch]) for i in range(0, len(x), batch)])


def augment(x, y):
    """A random flip and quarter turn per batch: the classes do not change under them."""
    k = int(torch.randint(4, ()))
    x, y = torch.rot90(x, k, (2, 3)), torch.rot90(y, k, (1, 2))
    if torch.rand(()) < 0.5:
        x, y = x.flip(3), y.flip(2)
    return x, y


def main():
    parser = train_common.parser(__doc__, out="models/shapes-unet", fixture="test/fixtures/shapes-unet/held-out.safetensors",
                                 samples="samples/images/shapes", epochs=14, batch=32, lr=3e-3, threads=2)
    parser.add_argument("--train-images", type=int, default=6000)
    parser.add_argument("--held-out-images", type=int, default=500)
    parser.add_argument("--fixture-images", type=int, default=20)
    parser.add_argument("--data-seed", type=int, default=1)
    parser.add_argument("--base-channels", type=int, default=8)
    parser.add_argument("--depth", type=int, default=3)
    parser.add_argument("--bottleneck-dilations", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--augment", action="store_true",
                        help="train on make_shapes.augmented (noise, sizes, paper, colours, grey drawn per image) "
                             "instead of the one training style")
    parser.add_argument("--large-share", type=float, default=0.0,
                        help="with --augment: the share of pictures whose shapes are all 14–32 px in radius")
    parser.add_argument("--variant-images", type=int, default=200, help="held-out images per style of make_shapes.VARIANTS")
    args = parser.parse_args()
    started = train_common.start(args)

    if args.augment:
        train_images, train_labels = make_shapes.augmented(args.train_images, args.data_seed, args.large_share)
    else:
        train_images, train_labels = make_shapes.generate(args.train_images, args.data_seed)
    held_images, held_labels = make_shapes.generate(args.held_out_images, make_shapes.HELD_OUT_SEED)
    assert args.data_seed != make_shapes.HELD_OUT_SEED
    pixels = train_images.reshape(-1, 3) / 255.0
    mean, std = pixels.mean(0).tolist(), pixels.std(0).tolist()
    x_train, y_train = normalise(train_images, mean, std), torch.from_numpy(train_labels).long()
    x_held = normalise(held_images, mean, std)
    classes = len(make_shapes.CLASSES)

    config = default_config(in_channels=3, classes=classes, base_channels=args.base_channels, depth=args.depth,
                            bottleneck_dilations=args.bottleneck_dilations)
    model = UNet(config)
    print(f"{sum(p.numel() for p in model.parameters())} parameters", flush=True)

    def report(epoch, loss):
        _, miou, _ = iou(confusion(held_labels, predict(model, x_held).argmax(1).numpy(), classes))
        print(f"epoch {epoch}: loss {loss:.4f}, held-out mean IoU {miou:.4f}, {(time.time() - started) / 60:.1f} min", flush=True)

    losses = train_common.fit(model, x_train, y_train, args, augment, report, pct_start=0.15)

    logits = predict(model, x_held)
    labels = logits.argmax(1).numpy().astype(np.uint8)
    per_class, miou, accuracy = iou(confusion(held_labels, labels, classes))
    minutes = (time.time() - started) / 60
    print(f"held-out: mean IoU {miou:.4f}, per class {np.round(per_class, 4).tolist()}, pixel accuracy {accuracy:.4f}")
    # Every style of make_shapes.VARIANTS on the held-out seed: measured once, at the end; nothing was chosen by it.
    variants, variant_fixture = {}, {}
    for name, style in make_shapes.VARIANTS.items():
        v_images, v_labels = make_shapes.generate(args.variant_images, make_shapes.HELD_OUT_SEED, **style)
        v_predicted = predict(model, normalise(v_images, mean, std)).argmax(1).numpy().astype(np.uint8)
        variants[name] = iou(confusion(v_labels, v_predicted, classes))[1]
        print(f"  {name}: mean IoU {variants[name]:.4f}", flush=True)
        if name != "style":
            variant_fixture[f"{name}_images"] = torch.from_numpy(v_images[:2])
            variant_fixture[f"{name}_torch_labels"] = torch.from_numpy(v_predicted[:2])

    config.update({
        "format_version": 1,
        "labels": make_shapes.CLASSES,
        "palette": make_shapes.PALETTE,
        "input": {"size": [make_shapes.SIZE, make_shapes.SIZE], "channels": 3, "mean": mean, "std": std, "invert": False,
                  "note": "x = (pixel / 255 − mean) / std per RGB channel"},
        "training": {
            "command": train_common.command(),
            "data": "tools/make_shapes.py" + (f" augmented, large_share {args.large_share}" if args.augment else ""), "data_seed": args.data_seed, "held_out_seed": make_shapes.HELD_OUT_SEED,
            "train_images": args.train_images, "held_out_images": args.held_out_images, "seed": args.seed,
            "epochs": args.epochs, "batch": args.batch, "lr": args.lr, "optimiser": "AdamW, one-cycle", "minutes": round(minutes, 1),
            "final_loss": losses[-1], "torch": torch.__version__,
            "held_out_mean_iou": miou, "held_out_iou": per_class.tolist(), "held_out_pixel_accuracy": accuracy,
            "variant_images": args.variant_images, "variant_mean_iou": variants,
        },
    })
    state = {k: v.float() for k, v in model.state_dict().items() if not k.endswith("num_batches_tracked")}
    write_model_dir(args.out, config, state, {"format": "pt", "generator": "tools/train_unet.py"})

    n = args.fixture_images
    _, fixture_miou, _ = iou(confusion(held_labels[:n], labels[:n], classes))
    os.makedirs(os.path.dirname(args.fixture), exist_ok=True)
    save(args.fixture, {
        "images": torch.from_numpy(held_images[:n]),  # uint8 [n, 64, 64, 3]
        "labels": torch.from_numpy(held_labels[:n]),  # uint8 [n, 64, 64], the truth
        "torch_labels": torch.from_numpy(labels[:n]),  # PyTorch's argmax
        "torch_logits": logits[:2].permute(0, 2, 3, 1).contiguous(),  # [2, 64, 64, classes], channels-last
        **variant_fixture,  # two images of each other style, with PyTorch's argmax
    }, {"generator": "tools/train_unet.py", "torch_mean_iou": str(fixture_miou), "held_out_seed": str(make_shapes.HELD_OUT_SEED)})
    make_shapes.write_samples(args.samples, 4)
    print(f"{minutes:.1f} min; model -> {args.out}, {n} held-out images (PyTorch mean IoU {fixture_miou:.4f}) -> {args.fixture}")


if __name__ == "__main__":
    main()
