#!/usr/bin/env python3
"""COCO mask RLE fixtures from pycocotools 2.0.11 (its maskApi.c):
test/fixtures/detection/mask-rle.json holds seeded cases with what
pycocotools.mask returns for them, for src/metrics/mask-rle.ts to match
exactly:

- polygons: convex, concave, self-intersecting, touching and crossing the
  image border, on coarse and fine fractional grids (where maskApi.c's
  `(int)(5*x+.5)` rounding ties), around 0 (truncation toward zero), and
  degenerate (repeated, collinear, sub-pixel) → frPyObjects per polygon and
  the merged mask (COCO.annToRLE), with area and toBbox;
- masks (column-major digit strings, a few with bytes 2) → encode;
- boxes → frPyObjects (frBbox);
- uncompressed RLEs with empty runs → compressed string, area, toBbox;
- merges (union and intersection) of 1 to 4 masks of one image;
- IoU matrices with crowd flags, including empty masks and a size mismatch.

    /work/venv/bin/python tools/fixtures_mask.py
"""
import json
import os
from importlib.metadata import version

import numpy as np
from pycocotools import mask as M

OUT = os.path.join(os.path.dirname(__file__), "..", "test", "fixtures", "detection", "mask-rle.json")


def text(rle):
    return rle["counts"].decode("ascii")


def measures(rle):
    return {"area": int(M.area(rle)), "bbox": [float(v) for v in M.toBbox(rle)]}


def points(rng, kind, h, w):
    """x, y of one polygon (3 to 11 points) of the given kind, as a flat list of floats."""
    n = int(rng.integers(3, 12))
    cx, cy = rng.uniform(0, w), rng.uniform(0, h)
    r = rng.uniform(0.5, 0.6 * max(h, w))
    if kind == "self_intersecting":
        xy = np.stack([rng.uniform(-0.2 * w, 1.2 * w, n), rng.uniform(-0.2 * h, 1.2 * h, n)], 1)
    elif kind == "degenerate":
        p = rng.uniform(0, [w, h])
        shapes = [
            np.repeat(p[None], n, 0),  # one point n times
            p + np.outer(np.arange(n), rng.uniform(-2, 2, 2)),  # collinear
            p + rng.uniform(0, 0.2, (n, 2)),  # within one pixel
            np.concatenate([np.repeat(p[None], 2, 0), p + rng.uniform(-3, 3, (n, 2))]),  # repeated vertex
        ]
        xy = shapes[int(rng.integers(len(shapes)))]
    else:
        angles = np.sort(rng.uniform(0, 2 * np.pi, n))
        radii = r * (rng.uniform(0.2, 1, n) if kind == "concave" else np.ones(n))
        if kind == "border":  # centre near an edge, large: crosses and touches the border
            cx, cy = rng.choice([0, w, rng.uniform(0, w)]), rng.choice([0, h, rng.uniform(0, h)])
            radii = radii * 1.5
        xy = np.stack([cx + radii * np.cos(angles), cy + radii * np.sin(angles)], 1)
        if kind == "border":  # some vertices exactly on the border lines
            snap = rng.random(xy.shape) < 0.3
            xy = np.where(snap, np.array([[0, 0]]) + (rng.random(xy.shape) < 0.5) * np.array([[w, h]]), xy)
    grid = rng.choice(["float", "tenth", "fifth", "half", "int"])
    if grid != "float":  # coordinates on a grid: 5*x+.5 lands exactly on .5 steps, ties decided by the truncation
        step = {"tenth": 0.1, "fifth": 0.2, "half": 0.5, "int": 1.0}[grid]
        xy = np.round(xy / step) * step
    return [float(v) for v in xy.flatten()]


def near_zero(rng, n):
    """A polygon within ±1 of the origin: (int)(5x+.5) truncates toward 0 where floor would not."""
    return [float(v) for v in np.round(rng.uniform(-1, 1, 2 * n), 2)]


def image_size(rng):
    return int(rng.choice([1, 2, 3, 7, 16, 33, 64, 120])), int(rng.choice([1, 2, 5, 16, 40, 64, 97]))


def polygon_cases(rng):
    kinds = ["convex", "concave", "self_intersecting", "border", "degenerate"]
    cases = []
    for c in range(150):
        h, w = image_size(rng) if c % 10 else (int(rng.integers(300, 500)), int(rng.integers(300, 700)))
        kind = kinds[c % len(kinds)]
        polys = [points(rng, kind, h, w) for _ in range(1 + int(rng.integers(3)) * (c % 3 == 0))]
        if c % 15 == 7:
            polys.append(near_zero(rng, int(rng.integers(3, 6))))
        rles = M.frPyObjects(polys, h, w)
        merged = M.merge(rles)
        cases.append({"kind": kind, "h": h, "w": w, "polygons": polys, "counts": [text(r) for r in rles],
                      "merged": text(merged), **measures(merged)})
    return cases


def random_mask(rng, h, w, c):
    if c % 6 == 0:
        return (rng.random((h, w)) < 0.5).astype(np.uint8)  # noise
    if c % 6 == 1:
        return np.full((h, w), c % 12 == 1, np.uint8)  # full or empty
    if c % 6 == 2:  # one pixel
        m = np.zeros((h, w), np.uint8)
        m[rng.integers(h), rng.integers(w)] = 1
        return m
    if c % 6 == 3:  # bytes 0, 1 and 2: encode starts a run at every change of byte
        return rng.integers(0, 3, (h, w)).astype(np.uint8)
    ys, xs = np.mgrid[:h, :w]  # blobs: long runs, columns alike
    cy, cx, r = rng.uniform(0, h), rng.uniform(0, w), rng.uniform(1, max(h, w))
    return (((ys - cy) ** 2 + (xs - cx) ** 2 < r * r) ^ (rng.random((h, w)) < 0.03)).astype(np.uint8)


def digits(mask):
    return "".join(str(v) for v in mask.flatten(order="F"))


def mask_cases(rng):
    cases = []
    for c in range(90):
        h, w = (image_size(rng) if c % 3 else (int(rng.integers(1, 40)), int(rng.integers(1, 40)))) if c % 15 else (64, 80)
        mask = random_mask(rng, h, w, c)
        rle = M.encode(np.asfortranarray(mask))
        cases.append({"h": h, "w": w, "mask": digits(mask), "counts": text(rle), **measures(rle)})
    return cases


def bbox_cases(rng):
    cases = []
    for c in range(60):
        h, w = image_size(rng)
        x, y = rng.uniform(-0.3 * w, w), rng.uniform(-0.3 * h, h)
        bw, bh = rng.uniform(0, 0.8 * w), rng.uniform(0, 0.8 * h)
        box = [x, y, bw, bh]
        if c % 3 == 0:
            box = [float(v) for v in np.round(np.array(box) * 2) / 2]
        if c % 10 == 1:
            box[2 + c % 2] = 0.0  # zero width or height
        rle = M.frPyObjects(np.array([box]), h, w)[0]  # a list of boxes is not accepted by 2.0.11
        cases.append({"h": h, "w": w, "bbox": [float(v) for v in box], "counts": text(rle), **measures(rle)})
    return cases


def uncompressed_cases(rng):
    fixed = [(3, 3, [3, 0, 2, 4]), (3, 3, [9, 0]), (3, 3, [9]), (3, 3, [0, 9]), (3, 3, [2, 2, 5]),
             (2, 2, [0, 0, 0, 4]), (4, 5, [1, 0, 0, 3, 0, 16]), (1, 1, [1]), (1, 1, [0, 1])]
    cases = []
    for c in range(40):
        if c < len(fixed):
            h, w, counts = fixed[c]
        else:  # random runs, some empty, summing to h*w
            h, w = image_size(rng)
            cuts = np.sort(rng.integers(0, h * w + 1, int(rng.integers(1, 12))))
            counts = [int(v) for v in np.diff(np.concatenate([[0], cuts, [h * w]]))]
        rle = M.frPyObjects({"counts": counts, "size": [h, w]}, h, w)
        cases.append({"h": h, "w": w, "runs": counts, "counts": text(rle), **measures(rle)})
    return cases


def some_rles(rng, h, w, n):
    """n compressed RLEs of one h×w image: polygons, boxes, masks and the empty mask."""
    out = []
    for i in range(n):
        pick = int(rng.integers(5))
        if pick == 0:
            out.append(M.frPyObjects([points(rng, "concave", h, w)], h, w)[0])
        elif pick == 1:
            box = [rng.uniform(-2, w), rng.uniform(-2, h), rng.uniform(0, w), rng.uniform(0, h)]
            out.append(M.frPyObjects(np.array([box]), h, w)[0])
        elif pick == 2:
            out.append(M.encode(np.asfortranarray(random_mask(rng, h, w, 4 + 2 * i))))
        elif pick == 3:
            out.append(M.encode(np.asfortranarray(random_mask(rng, h, w, 0))))
        else:
            out.append(M.encode(np.zeros((h, w), np.uint8, order="F")))
    return out


def merge_cases(rng):
    cases = []
    for c in range(50):
        h, w = image_size(rng)
        rles = some_rles(rng, h, w, 1 + c % 4)
        cases.append({"h": h, "w": w, "counts": [text(r) for r in rles],
                      "union": text(M.merge(rles)), "intersection": text(M.merge(rles, intersect=1))})
    return cases


def iou_cases(rng):
    cases = []
    for c in range(50):
        h, w = image_size(rng) if c % 5 else (int(rng.integers(40, 80)), int(rng.integers(40, 80)))
        dt, gt = some_rles(rng, h, w, c % 7), some_rles(rng, h, w, (c * 3) % 6)
        if c % 4 == 0 and gt:  # a detection identical to a ground truth
            dt.append(gt[0])
        if c % 9 == 8 and dt and gt:  # a detection of a larger image: IoU −1 where boxes overlap
            dt.append(M.frPyObjects([[0.0, 0.0, 0.0, h, w, h, w, 0.0]], h + 1, w + 1)[0])
        iscrowd = [int(v) for v in rng.random(len(gt)) < 0.4]
        ious = M.iou(dt, gt, iscrowd)
        cases.append({"dt": [{"size": [int(s) for s in r["size"]], "counts": text(r)} for r in dt],
                      "gt": [{"size": [int(s) for s in r["size"]], "counts": text(r)} for r in gt],
                      "iscrowd": iscrowd, "iou": np.asarray(ious).tolist()})
    return cases


def main():
    rng = np.random.default_rng(2011)
    fixture = {
        "generator": "tools/fixtures_mask.py",
        "provenance": f"pycocotools {version('pycocotools')} (cocoapi common/maskApi.c), numpy {np.__version__}",
        "polygons": polygon_cases(rng),
        "masks": mask_cases(rng),
        "bboxes": bbox_cases(rng),
        "uncompressed": uncompressed_cases(rng),
        "merges": merge_cases(rng),
        "ious": iou_cases(rng),
    }
    with open(OUT, "w") as f:
        json.dump(fixture, f, separators=(",", ":"))
        f.write("\n")


if __name__ == "__main__":
    main()
