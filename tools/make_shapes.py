#!/usr/bin/env python3
"""The shapes segmentation data set: 64×64 RGB images of circles, squares and
triangles on a noisy textured background, with a label per pixel
(0 background, 1 circle, 2 square, 3 triangle). Seeded: `generate(n, seed)`
gives the same images every time; the training and held-out splits are
different seeds (tools/train_unet.py).

Each image: a background of a random base colour under three random
gratings and smooth blotchy low-frequency noise; then 1–4 shapes, each of a random
class, size (radius 7–16 px), position (possibly clipped by the border),
rotation and colour (kept at least CONTRAST away from the background's
colour, so that every shape is visible), drawn in order, so later shapes
cover earlier ones and the label map shows what is visible; then pixel
noise over everything. Edges are hard (no anti-aliasing): every pixel is
exactly one class.

    /usr/bin/python3 tools/make_shapes.py --samples samples/images/shapes

writes a few held-out images as PNG with their label maps (indexed PNGs,
pixel value = class, colours PALETTE), and prints the class frequencies.
"""
import argparse
import os

import numpy as np
from scipy import ndimage

SIZE = 64
CLASSES = ["background", "circle", "square", "triangle"]
PALETTE = [[0, 0, 0], [230, 25, 75], [60, 180, 75], [0, 130, 200]]  # per class, for the label PNGs
CONTRAST = 90  # minimum RGB distance between a shape's colour and the background's
HELD_OUT_SEED = 2


def _background(rng):
    yy, xx = np.mgrid[0:SIZE, 0:SIZE].astype(np.float32)
    base = rng.uniform(40, 215, 3)
    image = np.broadcast_to(base, (SIZE, SIZE, 3)).astype(np.float32).copy()
    for _ in range(3):
        angle = rng.uniform(0, np.pi)
        freq = rng.uniform(0.05, 0.4)
        phase = rng.uniform(0, 2 * np.pi)
        wave = np.sin(freq * (np.cos(angle) * xx + np.sin(angle) * yy) + phase)
        image += wave[..., None] * rng.uniform(-22, 22, 3)
    coarse = rng.normal(0, 18, (9, 9, 3))
    image += ndimage.zoom(coarse, (SIZE / 9, SIZE / 9, 1), order=1)  # smooth blotches, ~7 px apart
    return image, base


def _mask(kind, cx, cy, r, angle):
    """Pixels (centres at +0.5) inside the shape."""
    yy, xx = np.mgrid[0:SIZE, 0:SIZE].astype(np.float64) + 0.5
    dx, dy = xx - cx, yy - cy
    if kind == 1:
        return dx * dx + dy * dy <= r * r
    c, s = np.cos(angle), np.sin(angle)
    u, v = c * dx + s * dy, -s * dx + c * dy
    if kind == 2:
        half = 0.85 * r
        return (np.abs(u) <= half) & (np.abs(v) <= half)
    # equilateral triangle with circumradius 1.2 r: inside all three edges, each at distance 0.6 r from the centre
    inside = np.ones((SIZE, SIZE), bool)
    for k in range(3):
        a = 2 * np.pi * k / 3
        inside &= np.cos(a) * u + np.sin(a) * v <= 0.6 * r
    return inside


def _colour(rng, background):
    while True:
        colour = rng.uniform(0, 255, 3)
        if np.linalg.norm(colour - background) >= CONTRAST:
            return colour


def generate(n, seed):
    """images uint8 [n, 64, 64, 3], labels uint8 [n, 64, 64]."""
    rng = np.random.default_rng(seed)
    images = np.empty((n, SIZE, SIZE, 3), np.uint8)
    labels = np.zeros((n, SIZE, SIZE), np.uint8)
    for i in range(n):
        image, base = _background(rng)
        for _ in range(rng.integers(1, 5)):
            kind = int(rng.integers(1, 4))
            r = rng.uniform(7, 16)
            cx, cy = rng.uniform(0.6 * r, SIZE - 0.6 * r, 2)
            mask = _mask(kind, cx, cy, r, rng.uniform(0, 2 * np.pi))
            image[mask] = _colour(rng, base)
            labels[i][mask] = kind
        image += rng.normal(0, 8, image.shape)
        images[i] = np.clip(np.rint(image), 0, 255).astype(np.uint8)
    return images, labels


def write_samples(out, count):
    """The first `count` held-out images as shapes-K.png and their label maps as shapes-K-labels.png."""
    from PIL import Image

    os.makedirs(out, exist_ok=True)
    images, labels = generate(count, HELD_OUT_SEED)
    palette = [v for rgb in PALETTE for v in rgb]
    for k in range(count):
        Image.fromarray(images[k], "RGB").save(os.path.join(out, f"shapes-{k}.png"), optimize=True)
        label = Image.fromarray(labels[k], "P")
        label.putpalette(palette)
        label.save(os.path.join(out, f"shapes-{k}-labels.png"), optimize=True)
    print(f"{count} held-out images and label maps -> {out}")


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--samples", help="write held-out PNGs and label maps here")
    parser.add_argument("--count", type=int, default=4)
    args = parser.parse_args()
    _, labels = generate(200, 1)
    freq = np.bincount(labels.ravel(), minlength=len(CLASSES)) / labels.size
    print("class frequencies:", {c: round(float(f), 3) for c, f in zip(CLASSES, freq)})
    if args.samples:
        write_samples(args.samples, args.count)


if __name__ == "__main__":
    main()
