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


PRIMARY = [[255, 0, 0], [0, 160, 0], [0, 0, 255], [255, 220, 0], [0, 0, 0]]

# The styles the segmenter is judged on (issue 25): its own, and what a user's pictures differ in.
VARIANTS = {
    "style": {},                                              # the training style: textured paper, σ 8 noise
    "noise20": {"noise": 20.0},
    "noise30": {"noise": 30.0},
    "grey": {"grey": True},
    "white": {"background": "white", "colours": "primary"},   # white paper, primary colours
    "small": {"radius": (3.5, 8.0)},                          # half the training size
    "large": {"radius": (14.0, 32.0)},                        # twice the training size
}


def _background(rng, kind="texture"):
    if kind == "white":
        return np.full((SIZE, SIZE, 3), 255, np.float32), np.full(3, 255.0)
    yy, xx = np.mgrid[0:SIZE, 0:SIZE].astype(np.float32)
    base = rng.uniform(40, 215, 3)
    image = np.broadcast_to(base, (SIZE, SIZE, 3)).astype(np.float32).copy()
    if kind == "plain":
        return image, base
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


def _luma(rgb):
    return 0.299 * rgb[0] + 0.587 * rgb[1] + 0.114 * rgb[2]


def _colour(rng, background, colours="any", grey=False):
    """A shape colour at least CONTRAST from the paper's (and 40 apart in luma when the picture goes grey)."""
    while True:
        colour = np.array(PRIMARY[int(rng.integers(len(PRIMARY)))], float) if colours == "primary" else rng.uniform(0, 255, 3)
        if np.linalg.norm(colour - background) >= CONTRAST and (not grey or abs(_luma(colour) - _luma(background)) >= 40):
            return colour


def _picture(rng, noise=8.0, radius=(7.0, 16.0), background="texture", colours="any", grey=False, log_radius=False):
    """One image [64, 64, 3] float and its labels."""
    image, base = _background(rng, background)
    labels = np.zeros((SIZE, SIZE), np.uint8)
    for _ in range(rng.integers(1, 5)):
        kind = int(rng.integers(1, 4))
        r = float(np.exp(rng.uniform(*np.log(radius)))) if log_radius else rng.uniform(*radius)
        cx, cy = rng.uniform(0.6 * r, SIZE - 0.6 * r, 2)
        mask = _mask(kind, cx, cy, r, rng.uniform(0, 2 * np.pi))
        image[mask] = _colour(rng, base, colours, grey)
        labels[mask] = kind
    if grey:
        image = np.repeat(_luma(image.transpose(2, 0, 1))[..., None], 3, axis=2)
    image += rng.normal(0, noise, image.shape)
    return image, labels


def generate(n, seed, **style):
    """images uint8 [n, 64, 64, 3], labels uint8 [n, 64, 64]; `style` as in VARIANTS (default the training style)."""
    rng = np.random.default_rng(seed)
    images = np.empty((n, SIZE, SIZE, 3), np.uint8)
    labels = np.zeros((n, SIZE, SIZE), np.uint8)
    for i in range(n):
        image, labels[i] = _picture(rng, **style)
        images[i] = np.clip(np.rint(image), 0, 255).astype(np.uint8)
    return images, labels


def augmented(n, seed, large_share=0.0):
    """Training images in styles drawn per image: noise σ 0–35, radius 3.5–32 (log-uniform), textured, plain or
    white paper, any or primary colours, a fifth in grey. A `large_share` of the pictures instead draws every
    shape's radius uniformly from 14–32 px (crowded pictures of big, overlapping, border-clipped shapes, which
    log-uniform radii seldom make); 0 draws nothing for it, so the pictures are those of the default."""
    rng = np.random.default_rng(seed)
    images = np.empty((n, SIZE, SIZE, 3), np.uint8)
    labels = np.zeros((n, SIZE, SIZE), np.uint8)
    for i in range(n):
        style = {
            "noise": float(rng.uniform(0, 35)),
            "radius": (3.5, 32.0) if rng.random() < 0.6 else (7.0, 16.0),
            "log_radius": True,
        }
        if large_share > 0 and rng.random() < large_share:
            style.update(radius=(14.0, 32.0), log_radius=False)
        style |= {
            "background": str(rng.choice(["texture", "plain", "white"], p=[0.6, 0.2, 0.2])),
            "colours": "primary" if rng.random() < 0.25 else "any",
            "grey": bool(rng.random() < 0.2),
        }
        image, labels[i] = _picture(rng, **style)
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
