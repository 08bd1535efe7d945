#!/usr/bin/env python3
"""Transformer parity fixtures: small random-weight encoder–decoders written
as hibiki model directories in test/fixtures/transformer-{post,pre}/, each
with parity.json holding, from PyTorch (tools/transformer_torch.py):
  sources            token-id lists (each ending with eos), unequal lengths
  pairs              [source index, target ids starting with bos, logits [T, V]]:
                     the teacher-forced whole-sequence forward
  greedy             greedy_search over the padded batch: tokens, logprob
  beam               beam_search (beam 3, length penalty 1, 2-best): tokens, logprob, score
  max_lengths        the length limit per sentence the searches used
With --trained, the shipped model's parity (translate-en-ja-parity.json) and
its tokenizers' ids for all of samples/test.{en,ja} (translate-en-ja-tokens.json).

    /usr/bin/python3 tools/fixtures_transformer.py
    /usr/bin/python3 tools/fixtures_transformer.py --trained models/translate-en-ja   # the shipped model
"""
import argparse
import json
import os
import sys

import torch

sys.path.insert(0, os.path.dirname(__file__))
from safetensors_io import load, save, write_model_dir  # noqa: E402
from transformer_torch import Transformer, beam_search, default_config, greedy_search  # noqa: E402

OUT = os.path.join(os.path.dirname(__file__), "..", "test", "fixtures")


def rounded(t):
    return [round(float(x), 7) for x in t.flatten()]


def parity(model, sources, targets, max_lengths):
    c = model.config
    width = max(len(s) for s in sources)
    src = torch.tensor([s + [c["pad_id"]] * (width - len(s)) for s in sources])
    pairs = []
    with torch.no_grad():
        for b, tgt in targets:
            logits = model(torch.tensor([sources[b]]), torch.tensor([tgt]))[0]
            pairs.append({"source": b, "target": tgt, "logits": rounded(logits)})
    greedy = [{"tokens": t, "logprob": lp} for t, lp in greedy_search(model, src, max_lengths)]
    beam = [[{"tokens": t, "logprob": lp, "score": s} for t, lp, s in hyps]
            for hyps in beam_search(model, src, 3, max_lengths, 1.0, 2)]
    return {"generator": "tools/fixtures_transformer.py", "torch": torch.__version__, "sources": sources,
            "max_lengths": max_lengths, "pairs": pairs, "greedy": greedy, "beam": beam}


def write_json(path, data):
    with open(path, "w") as f:
        json.dump(data, f)
        f.write("\n")


def random_case(name, seed, **overrides):
    torch.manual_seed(seed)
    c = default_config()
    c.update(src_vocab_size=37, tgt_vocab_size=29, d_model=32, heads=4, d_ff=48, encoder_layers=2,
             decoder_layers=2, max_positions=40, **overrides)
    model = Transformer(c).eval()
    with torch.no_grad():  # larger than the default init, so outputs vary from token to token
        for pname, p in model.named_parameters():
            if p.dim() > 1:
                p.mul_(1.5)
            elif "norm" in pname or "bias" in pname:  # LayerNorm γ, β and biases away from 1 and 0
                p.add_(0.5 * torch.randn(p.shape))
    out = os.path.join(OUT, name)
    write_model_dir(out, c, model.state_dict(), {"generator": "tools/fixtures_transformer.py"})
    g = torch.Generator().manual_seed(seed + 1)
    lengths = [5, 1, 9, 3, 7]
    sources = [torch.randint(4, c["src_vocab_size"], (n - 1,), generator=g).tolist() + [c["eos_id"]] for n in lengths]
    targets = [(0, [c["bos_id"]] + torch.randint(4, c["tgt_vocab_size"], (6,), generator=g).tolist()),
               (2, [c["bos_id"]] + torch.randint(4, c["tgt_vocab_size"], (3,), generator=g).tolist())]
    write_json(os.path.join(out, "parity.json"), parity(model, sources, targets, [8, 4, 12, 6, 10]))


def trained_case(model_dir):
    import sentencepiece as spm
    with open(os.path.join(model_dir, "config.json")) as f:
        c = json.load(f)
    model = Transformer(c).eval()
    model.load_state_dict(load(os.path.join(model_dir, "model.safetensors")), strict=True)
    sp_src = spm.SentencePieceProcessor(model_file=os.path.join(model_dir, c["source_tokenizer"]))
    with open(os.path.join(os.path.dirname(__file__), "..", "samples", "test.en"), encoding="utf-8") as f:
        lines = f.read().splitlines()[:6]
    sources = [sp_src.encode(line) + [c["eos_id"]] for line in lines]
    max_lengths = [min(c["max_positions"], int(c["max_length_ratio"] * len(s) + c["max_length_offset"])) for s in sources]
    greedy = greedy_search(model, torch.tensor([s + [c["pad_id"]] * (max(map(len, sources)) - len(s)) for s in sources]),
                           max_lengths)
    targets = [(0, [c["bos_id"]] + greedy[0][0])]
    write_json(os.path.join(OUT, "translate-en-ja-parity.json"), {**parity(model, sources, targets, max_lengths), "lines": lines})
    # The shipped tokenizers on the whole held-out set, as Debian's sentencepiece encodes it.
    sp_tgt = spm.SentencePieceProcessor(model_file=os.path.join(model_dir, c["target_tokenizer"]))
    tokens = {"sentencepiece": spm.__version__}
    for side, sp in (("en", sp_src), ("ja", sp_tgt)):
        with open(os.path.join(os.path.dirname(__file__), "..", "samples", f"test.{side}"), encoding="utf-8") as f:
            tokens[side] = [sp.encode(line) for line in f.read().splitlines()]
    write_json(os.path.join(OUT, "translate-en-ja-tokens.json"), tokens)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--trained", help="write the parity fixture of this trained model directory instead")
    args = parser.parse_args()
    if args.trained:
        trained_case(args.trained)
        return
    random_case("transformer-post", 21)
    random_case("transformer-pre", 22, norm="pre", positions="learned", tie_output=False, activation="gelu")


if __name__ == "__main__":
    main()
