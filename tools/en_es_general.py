#!/usr/bin/env python3
"""The second-stage data of hibiki's default English → Spanish translator
(issue 23): the first stage's pairs (tools/en_es_data.py) with more general
English, for a model that learnt the software catalogs and now needs everyday
sentences.

The first stage (train.*) holds 99,479 human catalog pairs and 43,055
Apertium-translated general sentences. A model trained on it for an hour
translated held-out catalog messages well and everyday sentences poorly
("Thank you very much." → "Tanke muy."): no catalog says such things, and the
teacher pairs are a minority of each batch. This adds the sentences of the
full `fortunes` package (the first stage read only fortunes-min's three
files), through the same filters and Apertium, and draws every teacher pair
twice:

    apt-get install fortunes          # beside what tools/en_es_data.py needs
    /usr/bin/python3 tools/en_es_general.py --out data/en-es

Writes, in OUT: train2.en / train2.es / train2.origin (the human pairs once,
the first stage's teacher pairs twice, the new ones twice, shuffled with
--seed), dev2.* (the first stage's dev pairs, then --dev-general of the new
teacher pairs, which train2 leaves out: checkpoints are chosen on both
domains, never on the evaluation sets) and manifest2.json (counts, versions).
No new pair's source is in the first stage's data, its dev or held-out sets,
or the general test set (test/fixtures/en-es/general.en).
"""
import argparse
import collections
import json
import os
import random
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import en_es_data as first  # noqa: E402

# fortunes-min's files (the first stage's), and two that are not English prose.
SKIP = {"fortunes", "literature", "riddles", "ascii-art", "translate-me"}


def fortunes_full():
    """Sentences of the `fortunes` package's files beyond fortunes-min, attribution lines left out."""
    out = collections.Counter()
    texts = []
    for name in sorted(os.listdir(first.FORTUNES)):
        path = os.path.join(first.FORTUNES, name)
        if name in SKIP or not os.path.isfile(path) or "." in name:
            continue
        with open(path, encoding="utf-8", errors="replace") as f:
            for entry in f.read().split("\n%\n"):
                lines = [l for l in entry.splitlines() if not l.strip().startswith("--") and l.strip() != "%"]
                found = first.sentences(first.normalise(" ".join(lines)))
                out[name] += len(found)
                texts += found
    return texts, dict(out)


def read_pairs(out, name):
    columns = []
    for suffix in ("en", "es", "origin"):
        with open(os.path.join(out, f"{name}.{suffix}"), encoding="utf-8") as f:
            columns.append(f.read().split("\n")[:-1])
    return list(zip(*columns))


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("-o", "--out", default=os.path.join("data", "en-es"), help="the first stage's folder (data/en-es)")
    parser.add_argument("--seed", type=int, default=2, help="seed of the shuffle and of the dev draw (2)")
    parser.add_argument("--dev-general", type=int, default=400, help="new teacher pairs held out for dev2 (400)")
    parser.add_argument("-w", "--workers", type=int, default=os.cpu_count(), help="Apertium processes (one per CPU)")
    args = parser.parse_args()

    train, dev, test = (read_pairs(args.out, n) for n in ("train", "dev", "test-packages"))
    general = set()
    with open(first.GENERAL_TEST, encoding="utf-8") as f:
        general = {first.normalise(l).lower() for l in f if l.strip()}
    taken = {p[0] for p in train + dev + test}

    texts, per_file = fortunes_full()
    tally = collections.Counter(sentences=len(texts))
    sources = first.teacher_candidates(texts, taken, general, set(), tally)
    translated = first.apertium(sources, args.workers)
    new = []
    for text, spanish in zip(sources, translated):
        pair = first.clean_teacher(text, spanish, "fortunes", tally)
        if pair:
            new.append((pair[0], pair[1], "apertium:fortunes-full"))

    rng = random.Random(args.seed)
    rng.shuffle(new)
    dev_general, new_train = new[:args.dev_general], new[args.dev_general:]
    human = [p for p in train if p[2].startswith("human:")]
    teacher = [p for p in train if p[2].startswith("apertium:")]
    train2 = human + 2 * teacher + 2 * new_train
    rng.shuffle(train2)
    first.write(args.out, "train2", train2)
    first.write(args.out, "dev2", dev + dev_general)

    manifest = {
        "command": " ".join([sys.executable] + sys.argv),
        "seed": args.seed,
        "fortunes": first.run(["dpkg-query", "-W", "-f", "${Version}", "fortunes"]),
        "apertium-eng-spa": first.run(["dpkg-query", "-W", "-f", "${Version}", "apertium-eng-spa"]),
        "fortunes_sentences_per_file": per_file,
        "new_teacher_steps": first.in_order(tally, first.TEACHER_STEPS),
        "totals": {"train2": len(train2), "human (once)": len(human), "first-stage teacher (twice)": len(teacher),
                   "new teacher (twice)": len(new_train), "dev2": len(dev) + len(dev_general),
                   "dev2 general (new teacher, held out)": len(dev_general)},
    }
    with open(os.path.join(args.out, "manifest2.json"), "w", encoding="utf-8") as f:
        json.dump(manifest, f, ensure_ascii=False, indent=1)
        f.write("\n")
    print(json.dumps(manifest["totals"]))
    print(f"wrote {args.out}/train2.*, dev2.*, manifest2.json")


if __name__ == "__main__":
    main()
