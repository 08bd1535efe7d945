#!/usr/bin/env python3
"""Times pycocotools' COCOeval (evaluate + accumulate + summarize, the JSON
already loaded) on the files bench/evaluate.bench.ts writes, best of a few
rounds, and prints JSON: {"pycocotools": version, "results": [{name, ms, stats}]}.

    /work/venv/bin/python tools/coco_bench.py JOB.json
"""
import contextlib
import io
import json
import sys
import time
from importlib.metadata import version

from pycocotools.coco import COCO
from pycocotools.cocoeval import COCOeval


def main():
    job = json.load(open(sys.argv[1]))
    results = []
    for case in job["cases"]:
        with contextlib.redirect_stdout(io.StringIO()):
            gt = COCO(case["gt"])
            dt = gt.loadRes(case["dt"])
        best = float("inf")
        for _ in range(job["rounds"]):
            started = time.perf_counter()
            with contextlib.redirect_stdout(io.StringIO()):
                e = COCOeval(gt, dt, case["iouType"])
                e.evaluate()
                e.accumulate()
                e.summarize()
            best = min(best, time.perf_counter() - started)
        results.append({"name": case["name"], "ms": best * 1000, "stats": [float(s) for s in e.stats]})
    print(json.dumps({"pycocotools": version("pycocotools"), "results": results}))


if __name__ == "__main__":
    main()
