#!/usr/bin/env python3
"""COCO evaluation fixtures from pycocotools 2.0.11 (the PyPI wheel; Debian
has no package): test/fixtures/detection/coco-oracle.json holds seeded cases
that exercise every rule of COCOeval — crowd regions, the small/medium/large
area ranges (with ground-truth "area" fields that differ from the box area),
more than 100 detections per image, tied scores and tied IoUs, categories
with no ground truth or no detections, images with no ground truth — for
iouType "bbox" and "segm" (polygons, uncompressed and compressed RLE), with
the 12 summary numbers and the AP per category pycocotools gives.

Cases with custom maxDets also record what pycocotools' summarize() prints
(-1 where it looks up maxDets=100) and the numbers it would print if it
honoured the maxDets it was given (read from the same eval arrays by index).

    python3 -m venv --system-site-packages /work/venv
    /work/venv/bin/pip install pycocotools==2.0.11
    /work/venv/bin/python tools/fixtures_coco.py
"""
import contextlib
import copy
import io
import json
import os

import numpy as np
from pycocotools import mask as mask_utils
from pycocotools.coco import COCO
from pycocotools.cocoeval import COCOeval

OUT = os.path.join(os.path.dirname(__file__), "..", "test", "fixtures", "detection", "coco-oracle.json")


def polygon(rng, cx, cy, radius, points):
    """A star-ish polygon around (cx, cy): concave, fractional coordinates."""
    angles = np.sort(rng.uniform(0, 2 * np.pi, points))
    radii = radius * rng.uniform(0.4, 1.0, points)
    return [float(round(v, 2)) for a, r in zip(angles, radii) for v in (cx + r * np.cos(a), cy + r * np.sin(a))]


def box_of(poly):
    xs, ys = poly[0::2], poly[1::2]
    return [min(xs), min(ys), max(xs) - min(xs), max(ys) - min(ys)]


def jitter_box(rng, box, amount):
    x, y, w, h = box
    return [float(round(v, 2)) for v in (x + rng.normal(0, amount * w), y + rng.normal(0, amount * h),
                                         max(0.0, w * rng.uniform(1 - amount, 1 + amount)),
                                         max(0.0, h * rng.uniform(1 - amount, 1 + amount)))]


def make_case(rng, iou_type, images, categories, objects, false_positives, crowd_rate, tie_scores, many=False):
    """Random images, ground truth and detections. Sizes span all three area ranges."""
    gt = {"images": [], "annotations": [], "categories": [{"id": c, "name": f"class{c}"} for c in categories]}
    dts = []
    ann_id = 1
    for i in range(images):
        img_id = int(rng.integers(1, 10_000)) * 10 + i  # unsorted, sparse ids
        h, w = int(rng.integers(100, 640)), int(rng.integers(100, 640))
        gt["images"].append({"id": img_id, "height": h, "width": w})
        if rng.random() < 0.15:
            objects_here = 0  # an image with no ground truth
        else:
            objects_here = int(rng.integers(1, objects + 1))
        for _ in range(objects_here):
            cat = int(rng.choice(categories[:-1]))  # the last category never has ground truth
            size = float(np.exp(rng.uniform(np.log(3), np.log(min(h, w) * 0.6))))
            cx, cy = rng.uniform(0, w), rng.uniform(0, h)
            crowd = int(rng.random() < crowd_rate)
            ann = {"id": ann_id, "image_id": img_id, "category_id": cat, "iscrowd": crowd}
            ann_id += 1
            if iou_type == "bbox":
                box = [float(round(v, 2)) for v in (cx - size / 2, cy - size / 2, size * rng.uniform(0.5, 1.5), size)]
                ann["bbox"] = box
                # COCO's "area" is the mask area, usually smaller than the box: the area ranges use it
                ann["area"] = float(round(box[2] * box[3] * rng.uniform(0.5, 1.0), 3))
            else:
                poly = polygon(rng, cx, cy, size / 2, int(rng.integers(3, 9)))
                rle = mask_utils.merge(mask_utils.frPyObjects([poly], h, w))
                form = rng.integers(0, 3) if not crowd else 1
                if form == 0:
                    ann["segmentation"] = [poly]
                elif form == 1:  # uncompressed RLE, as COCO stores crowd regions
                    m = mask_utils.decode(rle)
                    flat = m.flatten(order="F")
                    counts, value, run = [], 0, 0
                    for px in flat:
                        if px != value:
                            counts.append(run)
                            value, run = px, 0
                        run += 1
                    counts.append(run)
                    ann["segmentation"] = {"size": [h, w], "counts": [int(c) for c in counts]}
                else:
                    ann["segmentation"] = {"size": [h, w], "counts": rle["counts"].decode()}
                ann["area"] = float(mask_utils.area(rle))
                ann["bbox"] = [float(v) for v in mask_utils.toBbox(rle)]
            gt["annotations"].append(ann)
            for _ in range(int(rng.integers(0, 3))):  # zero, one or two detections per object
                det = {"image_id": img_id, "category_id": cat}
                if iou_type == "bbox":
                    det["bbox"] = jitter_box(rng, ann["bbox"], 0.08)
                else:
                    src = ann["segmentation"]
                    base = src[0] if isinstance(src, list) else polygon(rng, cx, cy, size / 2, 6)
                    moved = [v + rng.normal(0, 0.03 * size) for v in base]
                    det["segmentation"] = rle_string(mask_utils.merge(mask_utils.frPyObjects([moved], h, w)))
                dts.append(det)
        for _ in range(int(rng.integers(0, false_positives + 1)) + (120 if many and i == 0 else 0)):
            cat = int(rng.choice(categories))
            size = float(rng.uniform(3, min(h, w) * 0.5))
            x, y = rng.uniform(0, w - size), rng.uniform(0, h - size)
            det = {"image_id": img_id, "category_id": cat}
            if iou_type == "bbox":
                det["bbox"] = [float(round(v, 2)) for v in (x, y, size, size * rng.uniform(0.5, 1.5))]
            else:
                det["segmentation"] = rle_string(mask_utils.frPyObjects([[x, y, x + size, y, x + size, y + size, x, y + size]], h, w)[0])
            dts.append(det)
    for d in dts:  # few distinct scores when tie_scores: ties inside and across images
        d["score"] = float(rng.integers(1, 5) / 4) if tie_scores else float(round(rng.random(), 6))
    order = rng.permutation(len(dts))
    return gt, [dts[k] for k in order]


def rle_string(rle):
    return {"size": [int(v) for v in rle["size"]], "counts": rle["counts"].decode()}


def evaluate(gt, dts, iou_type, max_dets):
    coco_gt = COCO()
    coco_gt.dataset = copy.deepcopy(gt)
    with contextlib.redirect_stdout(io.StringIO()):
        coco_gt.createIndex()
        coco_dt = coco_gt.loadRes(copy.deepcopy(dts)) if dts else COCO()
        if not dts:  # loadRes cannot take an empty list; an empty result set is still a valid input
            coco_dt.dataset = {"images": gt["images"], "categories": gt["categories"], "annotations": []}
            coco_dt.createIndex()
        e = COCOeval(coco_gt, coco_dt, iou_type)
        e.params.maxDets = max_dets
        e.evaluate()
        e.accumulate()
        printed = io.StringIO()
        with contextlib.redirect_stdout(printed):
            e.summarize()
    precision, recall = e.eval["precision"], e.eval["recall"]

    def mean(values):
        v = values[values > -1]
        return float(np.mean(v)) if v.size else -1.0

    def ap(t=None, a=0, m=-1, k=slice(None)):
        p = precision[:, :, k, a, m] if t is None else precision[t, :, k, a, m]
        return mean(p)

    def ar(a=0, m=-1):
        return mean(recall[:, :, a, m])

    # The 12 numbers with every lookup by index: the last maxDets where pycocotools assumes 100.
    honoured = [ap(), ap(0), ap(5), ap(None, 1), ap(None, 2), ap(None, 3), ar(0, 0), ar(0, 1), ar(0, 2), ar(1), ar(2), ar(3)]
    per_category = {str(c): ap(k=k) for k, c in enumerate(e.params.catIds)}
    return [float(s) for s in e.stats], honoured, per_category, printed.getvalue()


def main():
    rng = np.random.default_rng(20261128)
    specs = [
        # name, iouType, images, categories, objects per image, false positives, crowd rate, tied scores, >100 dets
        ("bbox-random", "bbox", 12, [1, 2, 3, 7], 5, 4, 0.0, False, False),
        ("bbox-crowd", "bbox", 10, [1, 2, 5], 6, 3, 0.3, False, False),
        ("bbox-ties", "bbox", 10, [1, 2, 3], 5, 4, 0.1, True, False),
        ("bbox-many-detections", "bbox", 4, [1, 2], 8, 10, 0.1, False, True),
        ("bbox-dense", "bbox", 6, [3, 4], 12, 2, 0.2, True, False),
        ("segm-random", "segm", 8, [1, 2, 3], 4, 3, 0.0, False, False),
        ("segm-crowd", "segm", 8, [1, 4], 5, 3, 0.3, True, False),
    ]
    cases = []
    for name, iou_type, images, cats, objects, fps, crowd, ties, many in specs:
        gt, dts = make_case(rng, iou_type, images, cats, objects, fps, crowd, ties, many)
        for max_dets in ([1, 10, 100], [1, 5, 20]) if iou_type == "bbox" else ([1, 10, 100],):
            stats, honoured, per_category, printed = evaluate(gt, dts, iou_type, max_dets)
            cases.append({"name": name, "iouType": iou_type, "maxDets": max_dets, "gt": gt, "detections": dts,
                          "pycocotools_stats": stats, "expected_stats": honoured,
                          "expected_per_category_AP": per_category, "pycocotools_summary": printed.rstrip("\n")})
    # Segmentation results that also carry a box: loadRes then takes every result's area from its box.
    gt, dts = make_case(rng, "segm", 6, [1, 2], 4, 3, 0.1, False, False)
    for d in dts:
        d["bbox"] = [float(v) for v in mask_utils.toBbox({"size": d["segmentation"]["size"], "counts": d["segmentation"]["counts"].encode()})]
    stats, honoured, per_category, printed = evaluate(gt, dts, "segm", [1, 10, 100])
    cases.append({"name": "segm-with-boxes", "iouType": "segm", "maxDets": [1, 10, 100], "gt": gt, "detections": dts,
                  "pycocotools_stats": stats, "expected_stats": honoured, "expected_per_category_AP": per_category,
                  "pycocotools_summary": printed.rstrip("\n")})
    with open(OUT, "w") as f:
        json.dump({"schema_version": 1,
                   "provenance": "tools/fixtures_coco.py: pycocotools 2.0.11 COCOeval on seeded random cases",
                   "cases": cases}, f, separators=(",", ":"))
    print(f"{len(cases)} cases -> {OUT} ({os.path.getsize(OUT) // 1024} KB)")


if __name__ == "__main__":
    main()
