#!/usr/bin/env python3
"""Writes test/fixtures/bleu/sacrebleu_cases.json: what sacreBLEU computes and prints, for hibiki's BLEU and chrF tests.

    /work/venv/bin/python tools/fixtures_bleu.py

Needs sacreBLEU 2.6.0 (and its numpy) in the Python that runs it; the tests
only read the JSON. Seeded: reruns give the same file.

Contents: a few small corpora (generated from awkward words: entities and
<skipped> for 13a, unicode punctuation, symbols, emoji, CJK and numbers with
, . - for intl, trailing whitespace, empty lines, several and variable
references with None and ''), then sacreBLEU's scores on them for every
tokenizer x smoothing x lowercase x effective order, sentence scores, other
n-gram orders, chrF / chrF++ variants, tokenizer outputs, bootstrap
intervals with numpy's resampling indices, and the command line's output.
"""
import json
import os
import random
import subprocess
import sys
import tempfile

import numpy as np
import sacrebleu
from sacrebleu.metrics import BLEU, CHRF
from sacrebleu.metrics.bleu import _get_tokenizer

OUT = os.path.join(os.path.dirname(__file__), "..", "test", "fixtures", "bleu", "sacrebleu_cases.json")
SACREBLEU_CLI = os.path.join(os.path.dirname(sys.executable), "sacrebleu")

WORDS = [
    "the", "The", "dog", "DOG", "cat", "bit", "man", "man.", "man,", "had", "just", "bitten", "him", "first",
    "wasn't", "it's", "U.S.", "e.g.", "(hi)", "[x]", "{y}", "a-b", "3-4", "1,000", "3.14", "2024.", "10,5", "-7",
    "&quot;", "&amp;", "&lt;tag&gt;", "<skipped>", "AT&T", "\"quoted\"", "'single'", "x/y", "50%", "$5", "#1", "@me",
    "„Zitat“", "«guillemets»", "¿Qué?", "¡Hola!", "€20", "20€", "£", "©", "™", "→", "±", "😀", "👍🏽", "漢字", "日本語。",
    "東京、", "Ωmega", "ΣΟΦΙΑ", "İstanbul", "straße", "naïve", "café", "—", "–", "…", "·", "½", "٣", "١٢٣", "x²",
    "а", "б", "Ёлка", ":)", ";-)", "?!", "...", "--", "~", "^", "|", "\\", "_", "`", "=",
]
SPACES = [" ", " ", " ", " ", "  ", "\t", "\u00a0", "\u3000", "\u2009"]


def sentence(rng, lo=0, hi=12):
    n = rng.randint(lo, hi)
    out = ""
    for i in range(n):
        out += (rng.choice(SPACES) if i else "") + rng.choice(WORDS)
    if rng.random() < 0.15:
        out += rng.choice([" ", "  ", "\t", "\u3000"])  # trailing whitespace
    return out


def perturb(rng, line):
    """A hypothesis near a reference: some words dropped, swapped or replaced."""
    words = line.split()
    out = [w for w in words if rng.random() > 0.2]
    for i in range(len(out)):
        if rng.random() < 0.15:
            out[i] = rng.choice(WORDS)
    if len(out) > 1 and rng.random() < 0.3:
        i = rng.randrange(len(out) - 1)
        out[i], out[i + 1] = out[i + 1], out[i]
    return " ".join(out)


def corpora():
    rng = random.Random(20240605)
    c = {}

    def near(n_seg, n_refs, lo=0, hi=12):
        refs = [[sentence(rng, lo, hi) for _ in range(n_seg)] for _ in range(n_refs)]
        hyps = [perturb(rng, refs[rng.randrange(n_refs)][i]) for i in range(n_seg)]
        return hyps, refs

    c["mixed"] = near(10, 1)
    hyps, refs = near(8, 3)
    refs[1][2] = None
    refs[2][5] = None
    refs[0][6] = ""
    hyps[3] = ""
    c["variable_refs"] = (hyps, refs)
    c["two_refs"] = near(6, 2, 1, 20)
    c["short"] = near(8, 2, 0, 3)
    c["unmatched"] = (["alpha beta", "gamma", ""], [["delta epsilon zeta", "eta theta", "iota"]])
    c["readme"] = (
        ["The dog bit the man.", "It wasn't surprising.", "The man had just bitten him."],
        [["The dog bit the man.", "It was not unexpected.", "The man bit him first."],
         ["The dog had bit the man.", "No one was surprised.", "The man had bitten the dog."]],
    )
    return c


def bleu_fields(score, metric=None):
    d = {
        "score": score.score, "counts": list(score.counts), "totals": list(score.totals),
        "precisions": list(score.precisions), "bp": score.bp, "ratio": score.ratio,
        "sys_len": score.sys_len, "ref_len": score.ref_len,
    }
    if metric is not None:
        sig = metric.get_signature().format()
        d["signature"] = sig
        d["line"] = score.format(width=2)
        d["line_signed"] = score.format(width=2, signature=sig)
    return d


def bleu_cases(c):
    cases = []
    for corpus in ["mixed", "variable_refs", "short", "unmatched"]:
        hyps, refs = c[corpus]
        for tok in ["13a", "intl", "char", "none"]:
            for smooth in ["exp", "floor", "add-k", "none"]:
                for lc in [False, True]:
                    for eff in [False, True]:
                        opts = dict(tokenize=tok, smooth_method=smooth, lowercase=lc, effective_order=eff)
                        if corpus != "mixed" and (lc or tok in ("char", "none")):
                            continue  # the full grid on one corpus, the main axes on the others
                        m = BLEU(**opts)
                        cases.append({"corpus": corpus, "options": opts, "expected": bleu_fields(m.corpus_score(hyps, refs), m)})
    hyps, refs = c["two_refs"]
    extra = [dict(max_ngram_order=n) for n in (1, 2, 3, 6)]
    extra += [dict(smooth_method="floor", smooth_value=v) for v in (0.0, 0.01, 0.5)]
    extra += [dict(smooth_method="add-k", smooth_value=v) for v in (0.5, 2, 0.1)]
    extra += [dict(tokenize="intl", lowercase=True, max_ngram_order=5, effective_order=True)]
    for opts in extra:
        m = BLEU(**opts)
        cases.append({"corpus": "two_refs", "options": opts, "expected": bleu_fields(m.corpus_score(hyps, refs), m)})
    m = BLEU()
    cases.append({"corpus": "readme", "options": {}, "expected": bleu_fields(m.corpus_score(*c["readme"]), m)})
    return cases


def sentence_cases(c):
    cases = []
    configs = [dict(), dict(smooth_method="floor"), dict(smooth_method="add-k"), dict(smooth_method="none"),
               dict(tokenize="intl"), dict(tokenize="char", lowercase=True), dict(tokenize="none", smooth_method="floor", smooth_value=0.3),
               dict(effective_order=False)]
    for corpus in ["mixed", "variable_refs", "short"]:
        hyps, refs = c[corpus]
        for i, hyp in enumerate(hyps):
            opts = configs[(i + len(corpus)) % len(configs)]
            m = BLEU(**{"effective_order": True, **opts})
            seg_refs = [r[i] for r in refs]
            s = m.sentence_score(hyp, seg_refs)
            cases.append({"hypothesis": hyp, "references": seg_refs, "options": opts, "expected": bleu_fields(s, m)})
    return cases


def chrf_cases(c):
    corpus_cases, sent_cases = [], []
    grid = [dict(word_order=w, whitespace=ws, eps_smoothing=eps, lowercase=lc)
            for w in (0, 2) for ws in (False, True) for eps in (False, True) for lc in (False, True)]
    grid += [dict(beta=1), dict(beta=3, word_order=1), dict(char_order=4, word_order=3), dict(char_order=0, word_order=2)]
    for corpus in ["mixed", "variable_refs", "two_refs", "short", "unmatched"]:
        hyps, refs = c[corpus]
        for i, opts in enumerate(grid):
            if corpus != "mixed" and i % 3:
                continue
            m = CHRF(**opts)
            s = m.corpus_score(hyps, refs)
            corpus_cases.append({"corpus": corpus, "options": opts, "expected": {
                "name": s.name, "score": s.score, "signature": m.get_signature().format(), "line": s.format(width=2)}})
    for corpus in ["mixed", "variable_refs"]:
        hyps, refs = c[corpus]
        for i, hyp in enumerate(hyps):
            opts = grid[(3 * i + len(corpus)) % len(grid)]
            m = CHRF(**opts)
            seg_refs = [r[i] for r in refs]
            s = m.sentence_score(hyp, seg_refs)
            sent_cases.append({"hypothesis": hyp, "references": seg_refs, "options": opts, "expected": {"score": s.score}})
    return corpus_cases, sent_cases


TOKENIZER_LINES = [
    "Hello, world! It's 3.14 and 1,000.5 -- 2-3 pm.", "&quot;Quote&quot; &amp; &lt;b&gt; &apos;x&apos; AT&T",
    "a <skipped> b", "line-\nbreak\nand more", "  leading and trailing  \t", "", "   ",
    "„Zitat“ «guillemets» ¿Qué? ¡Hola! €20 20€ x² ½ ٣", "😀👍🏽 漢字、日本語。東京", "Year 2024. End 12.",
    "1.000,50 3-4 -7 10,5 U.S.A. e.g.", "ΣΟΦΙΑΣ İstanbul straße", "tab\there\u00a0nbsp\u3000ideo\u2009thin\x1cfs",
    "(hi) [x] {y} a/b c|d e_f g`h i^j k~l m\\n", "emoji😀.after", "‘single’ “double” ‹a› 《書名》",
]


def tokenizer_cases():
    out = []
    for tok in ["13a", "intl", "char", "none"]:
        t = _get_tokenizer(tok)()
        out.append({"tokenize": tok, "lines": TOKENIZER_LINES, "tokens": [t(line) for line in TOKENIZER_LINES]})
    return out


def bootstrap_cases():
    rng = random.Random(99)
    refs = [sentence(rng, 1, 14) for _ in range(40)]
    hyps = [perturb(rng, r) for r in refs]
    cases = []
    for seed, n_bootstrap, metric in [("12345", 1000, BLEU()), ("12345", 1000, CHRF(word_order=2)),
                                      ("7", 200, BLEU(smooth_method="add-k", smooth_value=0.1)),
                                      ("7", 300, CHRF(eps_smoothing=True))]:
        os.environ["SACREBLEU_SEED"] = seed
        s = metric.corpus_score(hyps, [refs], n_bootstrap=n_bootstrap)
        sig = metric.get_signature().format()
        cases.append({"metric": type(metric).__name__, "options": {k: getattr(metric, k) for k in (
            ["smooth_method", "smooth_value"] if isinstance(metric, BLEU) else ["word_order", "eps_smoothing"])},
            "n_bootstrap": n_bootstrap, "seed": int(seed), "expected": {
                "score": s.score, "mean": s._mean, "ci": s._ci, "signature": sig,
                "line": s.format(width=2, signature=sig), "json": s.format(width=3, signature=sig, is_json=True)}})
    del os.environ["SACREBLEU_SEED"]
    indices = []
    for seed, n, shape in [(12345, 7, (3, 7)), (12345, 40, (2, 40)), (0, 5, (2, 5)), (2**32 + 11, 1000, (1, 1000)),
                           (1, 1, (2, 1)), (3, 2**31 + 7, (2, 6)), (5, 2**32, (1, 6))]:
        idx = np.random.default_rng(seed).choice(n, size=shape, replace=True)
        indices.append({"seed": seed, "n": n, "indices": idx.tolist()})
    return {"corpus": {"hypotheses": hyps, "references": [refs]}, "cases": cases, "indices": indices}


def cli_cases(c):
    """sacrebleu's stdout for files written from the corpora; the test writes the same files and runs hibiki."""
    runs = [
        ("readme", ["-f", "json"], []),
        ("readme", ["-f", "text"], []),
        ("readme", ["-m", "bleu", "chrf", "-f", "text"], ["--metrics", "bleu,chrf"]),
        ("readme", ["-m", "bleu", "chrf", "-f", "json", "-w", "3"], ["--metrics", "bleu,chrf", "-w", "3"]),
        ("mixed", ["-tok", "intl", "-s", "floor", "-sv", "0.2", "-lc", "-f", "json", "-w", "4"],
         ["--tokenize", "intl", "--smooth", "floor", "--smooth-value", "0.2", "--lowercase", "-w", "4"]),
        ("mixed", ["-m", "chrf", "--chrf-word-order", "2", "-f", "text", "-w", "2"], ["--metrics", "chrf", "--chrf-word-order", "2", "-w", "2"]),
        ("two_refs", ["-tok", "char", "-s", "add-k", "-f", "text"], ["--tokenize", "char", "--smooth", "add-k"]),
        ("short", ["-f", "json", "-w", "0"], ["-w", "0"]),
        ("mixed", ["--confidence", "-f", "text"], ["--confidence"]),
        ("mixed", ["--confidence", "-m", "bleu", "chrf", "-f", "json", "-w", "2"], ["--confidence", "--metrics", "bleu,chrf", "-w", "2"]),
    ]
    out = []
    with tempfile.TemporaryDirectory() as d:
        for corpus, sb_args, hibiki_args in runs:
            hyps, refs = c[corpus]
            # Files hold lines as the command line reads them back (rstripped), no None.
            files = {"hyp.txt": hyps}
            files.update({f"ref{k}.txt": [x or "" for x in r] for k, r in enumerate(refs)})
            for name, lines in files.items():
                with open(os.path.join(d, name), "w", encoding="utf-8", newline="\n") as f:
                    f.write("".join(line + "\n" for line in lines))
            ref_names = [f"ref{k}.txt" for k in range(len(refs))]
            env = {**os.environ, "NO_COLOR": "1"}
            r = subprocess.run([SACREBLEU_CLI, *ref_names, "-i", "hyp.txt", *sb_args], cwd=d, capture_output=True,
                               text=True, env=env, check=True)
            text_mode = "text" in sb_args
            out.append({"corpus": corpus, "refs": ref_names, "sacrebleu_args": sb_args,
                        "hibiki_args": hibiki_args + ([] if text_mode else ["--json"]), "stdout": r.stdout})
    return out


def main():
    c = corpora()
    chrf_corpus, chrf_sentence = chrf_cases(c)
    data = {
        "schema_version": 1,
        "provenance": {
            "sacrebleu": sacrebleu.__version__, "numpy": np.__version__, "python": sys.version.split()[0],
            "command": "/work/venv/bin/python tools/fixtures_bleu.py",
            "api": "sacrebleu.metrics.BLEU / CHRF (corpus_score, sentence_score, get_signature, Score.format); "
                   "np.random.default_rng(seed).choice for indices; the sacrebleu command line for cli",
        },
        "conventions": "references are streams (references[k][i]); null = no reference (Python None). "
                       "Options use sacreBLEU's keyword names; absent = sacreBLEU's default. Scores 0-100.",
        "corpora": {k: {"hypotheses": h, "references": r} for k, (h, r) in c.items()},
        "bleu_corpus": bleu_cases(c),
        "bleu_sentence": sentence_cases(c),
        "chrf_corpus": chrf_corpus,
        "chrf_sentence": chrf_sentence,
        "tokenizers": tokenizer_cases(),
        "bootstrap": bootstrap_cases(),
        "cli": cli_cases(c),
    }
    assert sacrebleu.__version__ == "2.6.0", sacrebleu.__version__
    os.makedirs(os.path.dirname(OUT), exist_ok=True)
    with open(OUT, "w", encoding="utf-8") as f:
        json.dump(data, f, ensure_ascii=False, indent=None, separators=(",", ":"))
        f.write("\n")
    print(f"{OUT}: {os.path.getsize(OUT)} bytes")


if __name__ == "__main__":
    main()
