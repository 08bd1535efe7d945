#!/usr/bin/env python3
"""NMS and box IoU fixtures from torchvision (Debian's python3-torchvision
0.14): test/fixtures/nms.json holds seeded cases with the indices
torchvision.ops.nms and batched_nms keep and box_iou matrices, including
boxes on an integer grid (many IoUs exactly at the thresholds), tied scores,
duplicate boxes, zero-area boxes and several classes.

    /usr/bin/python3 tools/fixtures_nms.py
"""
import json
import os

import torch
import torchvision
from torchvision.ops import batched_nms, box_iou, nms

OUT = os.path.join(os.path.dirname(__file__), "..", "test", "fixtures", "nms.json")


def random_boxes(g, n, grid):
    if grid:  # integer corners on a small grid: exact IoUs like 0.5 and 1/3 happen often
        xy = torch.randint(0, 8, (n, 2), generator=g).float()
        wh = torch.randint(0, 5, (n, 2), generator=g).float()
    else:
        xy = torch.rand(n, 2, generator=g) * 100
        wh = torch.rand(n, 2, generator=g) * 40
    return torch.cat([xy, xy + wh], 1)


def main():
    g = torch.Generator().manual_seed(7)
    cases = []
    for c in range(60):
        n = [0, 1, 2, 5, 17, 40, 120][c % 7]
        grid = c % 2 == 0
        boxes = random_boxes(g, n, grid)
        if grid:  # few distinct scores: ties
            scores = torch.randint(0, 4, (n,), generator=g).float() / 4
        else:
            scores = torch.rand(n, generator=g)
        classes = torch.randint(0, 3, (n,), generator=g)
        threshold = [0.5, 1 / 3, 0.25, 0.7, 0.0, 1.0][c % 6]
        cases.append({
            "boxes": boxes.flatten().tolist(), "scores": scores.tolist(), "classes": classes.tolist(),
            "iou_threshold": threshold,
            "nms": nms(boxes, scores, threshold).tolist(),
            "batched_nms": batched_nms(boxes, scores, classes, threshold).tolist(),
            "box_iou": [None if x != x else x for x in box_iou(boxes, boxes[: min(n, 6)]).flatten().tolist()],
        })
    with open(OUT, "w") as f:
        json.dump({"generator": "tools/fixtures_nms.py", "torch": torch.__version__,
                   "torchvision": torchvision.__version__, "cases": cases}, f)
        f.write("\n")


if __name__ == "__main__":
    main()
