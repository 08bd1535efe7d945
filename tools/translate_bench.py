#!/usr/bin/env python3
"""PyTorch eager baseline for bench/translate.bench.ts: the same model, the
same source token ids, the same searches (tools/transformer_torch.py's
greedy_search and beam_search, KV cache, cross-attention keys computed once),
one thread.

    LD_LIBRARY_PATH=/usr/lib/x86_64-linux-gnu/openblas-pthread \\
      /usr/bin/python3 tools/translate_bench.py MODEL_DIR SOURCES.json

SOURCES.json: {"sentences": [[ids…], …], "runs": [{"beam": 1, "batch": 1}, …]}.
Prints JSON: per run, seconds, sentences/s and target tokens/s (best of 3).
"""
import json
import os
import sys
import time

import torch

sys.path.insert(0, os.path.dirname(__file__))
from safetensors_io import load  # noqa: E402
from transformer_torch import Transformer, beam_search, greedy_search  # noqa: E402


def main():
    model_dir, sources_path = sys.argv[1], sys.argv[2]
    torch.set_num_threads(1)
    with open(os.path.join(model_dir, "config.json")) as f:
        c = json.load(f)
    model = Transformer(c).eval()
    model.load_state_dict(load(os.path.join(model_dir, "model.safetensors")), strict=True)
    with open(sources_path) as f:
        job = json.load(f)
    sentences = job["sentences"]
    results = []
    for run in job["runs"]:
        beam, batch = run["beam"], run["batch"]
        best, tokens = float("inf"), 0
        for _ in range(run.get("rounds", 3)):
            started = time.perf_counter()
            produced = 0
            for i in range(0, len(sentences), batch):
                group = sentences[i:i + batch]
                width = max(map(len, group))
                src = torch.tensor([s + [c["pad_id"]] * (width - len(s)) for s in group])
                limits = [min(c["max_positions"], int(c["max_length_ratio"] * len(s) + c["max_length_offset"])) for s in group]
                if beam == 1:
                    produced += sum(len(t) for t, _ in greedy_search(model, src, limits))
                else:
                    produced += sum(len(h[0][0]) for h in beam_search(model, src, beam, limits, 1.0, 1))
            best = min(best, time.perf_counter() - started)
            tokens = produced
        results.append({"beam": beam, "batch": batch, "seconds": best, "sentences_per_s": len(sentences) / best,
                        "tokens_per_s": tokens / best})
    print(json.dumps({"torch": torch.__version__, "threads": 1, "results": results}))


if __name__ == "__main__":
    main()
