#!/usr/bin/env python3
"""Trains the English → Japanese (romaji) Transformer that ships in
models/translate-en-ja.

Data: the seeded corpus of tools/make_corpus.py (60k training pairs; the
1,000 held-out pairs are samples/test.en and samples/test.ja). Tokenizers:
one SentencePiece unigram model per language, trained on the training side by
Debian's sentencepiece. Model: tools/transformer_torch.py (post-norm, as in
the paper), Adam with the paper's warmup schedule, label smoothing 0.1.

    apt-get install python3-torch python3-sentencepiece libopenblas0-pthread
    LD_LIBRARY_PATH=/usr/lib/x86_64-linux-gnu/openblas-pthread \\
      /usr/bin/python3 tools/train_translation.py --out models/translate-en-ja --minutes 55

Writes OUT/config.json, OUT/model.safetensors, OUT/source.spm,
OUT/target.spm and OUT/training.json (command, steps, losses, the greedy
BLEU on the held-out set when sacrebleu is importable, time).
"""
import argparse
import json
import os
import random
import sys
import tempfile
import time

import sentencepiece as spm
import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(__file__))
from make_corpus import generate  # noqa: E402
from safetensors_io import save  # noqa: E402
from transformer_torch import Transformer, default_config, greedy_search  # noqa: E402

ROOT = os.path.join(os.path.dirname(__file__), "..")


def read_lines(path):
    with open(path, encoding="utf-8") as f:
        return f.read().splitlines()


def train_tokenizer(lines, prefix, vocab_size):
    """A unigram SentencePiece model with hibiki's special ids: unk 0, bos 1, eos 2, pad 3."""
    with tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False, encoding="utf-8") as f:
        f.write("\n".join(lines) + "\n")
    spm.SentencePieceTrainer.train(input=f.name, model_prefix=prefix, vocab_size=vocab_size, model_type="unigram",
                                   character_coverage=1.0, unk_id=0, bos_id=1, eos_id=2, pad_id=3,
                                   hard_vocab_limit=False, input_sentence_size=0, shuffle_input_sentence=False,
                                   num_threads=1, minloglevel=2)
    os.unlink(f.name)
    return spm.SentencePieceProcessor(model_file=prefix + ".model")


def batches(pairs, max_tokens, rng):
    """Length-sorted batches of about max_tokens (source + target), in random order."""
    order = sorted(range(len(pairs)), key=lambda i: (len(pairs[i][0]), len(pairs[i][1]), rng.random()))
    out, cur, longest = [], [], 0
    for i in order:
        longest = max(longest, len(pairs[i][0]) + len(pairs[i][1]) + 2)
        if cur and longest * (len(cur) + 1) > max_tokens:
            out.append(cur)
            cur, longest = [], len(pairs[i][0]) + len(pairs[i][1]) + 2
        cur.append(i)
    if cur:
        out.append(cur)
    rng.shuffle(out)
    return out


def pad(rows, value):
    width = max(len(r) for r in rows)
    return torch.tensor([r + [value] * (width - len(r)) for r in rows], dtype=torch.long)


def bleu_of(model, src_sp, tgt_sp, sources, references, config, batch=100):
    hyps = []
    model.eval()
    for i in range(0, len(sources), batch):
        src = pad([src_sp.encode(s) + [config["eos_id"]] for s in sources[i:i + batch]], config["pad_id"])
        limits = [min(config["max_positions"], int(config["max_length_ratio"] * int((row != config["pad_id"]).sum())
                                                   + config["max_length_offset"])) for row in src]
        hyps += [tgt_sp.decode(ids) for ids, _ in greedy_search(model, src, limits)]
    model.train()
    try:
        import sacrebleu
    except ImportError:
        return None, hyps
    return sacrebleu.corpus_bleu(hyps, [references]).score, hyps


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--out", default="models/translate-en-ja")
    parser.add_argument("--minutes", type=float, default=55)
    parser.add_argument("--train-pairs", type=int, default=60000)
    parser.add_argument("--vocab", type=int, default=1000)
    parser.add_argument("--d-model", type=int, default=256)
    parser.add_argument("--heads", type=int, default=4)
    parser.add_argument("--d-ff", type=int, default=1024)
    parser.add_argument("--layers", type=int, default=3, help="encoder and decoder layers each")
    parser.add_argument("--max-tokens", type=int, default=3000, help="source + target tokens per batch")
    parser.add_argument("--warmup", type=int, default=400)
    parser.add_argument("--dropout", type=float, default=0.1)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--eval-every", type=float, default=10, help="minutes between held-out BLEU checks")
    args = parser.parse_args()
    torch.manual_seed(args.seed)
    torch.set_num_threads(args.threads)
    rng = random.Random(args.seed)

    test_en, test_ja = read_lines(os.path.join(ROOT, "samples/test.en")), read_lines(os.path.join(ROOT, "samples/test.ja"))
    train = generate(args.seed, args.train_pairs, exclude=set(test_en))
    os.makedirs(args.out, exist_ok=True)
    src_sp = train_tokenizer([en for en, _ in train], os.path.join(args.out, "source"), args.vocab)
    tgt_sp = train_tokenizer([ja for _, ja in train], os.path.join(args.out, "target"), args.vocab)
    for side in ("source", "target"):
        os.replace(os.path.join(args.out, f"{side}.model"), os.path.join(args.out, f"{side}.spm"))
        os.unlink(os.path.join(args.out, f"{side}.vocab"))

    config = default_config()
    config.update(src_vocab_size=src_sp.get_piece_size(), tgt_vocab_size=tgt_sp.get_piece_size(),
                  d_model=args.d_model, heads=args.heads, d_ff=args.d_ff, encoder_layers=args.layers,
                  decoder_layers=args.layers, source_tokenizer="source.spm", target_tokenizer="target.spm",
                  max_length_ratio=2.0, max_length_offset=10)
    model = Transformer(config).train()
    pairs = [(src_sp.encode(en) + [config["eos_id"]], tgt_sp.encode(ja)) for en, ja in train]
    longest = max(max(len(s), len(t) + 1) for s, t in pairs)
    print(f"{len(pairs)} pairs, vocab {config['src_vocab_size']}/{config['tgt_vocab_size']}, longest {longest} tokens, "
          f"{sum(p.numel() for p in model.parameters())} parameters", flush=True)

    opt = torch.optim.Adam(model.parameters(), lr=1.0, betas=(0.9, 0.98), eps=1e-9)
    schedule = lambda step: args.d_model ** -0.5 * min((step + 1) ** -0.5, (step + 1) * args.warmup ** -1.5)  # noqa: E731
    lr = torch.optim.lr_scheduler.LambdaLR(opt, schedule)
    started = time.time()
    deadline, next_eval = started + args.minutes * 60, started + args.eval_every * 60
    losses, evals, step, epoch = [], [], 0, 0
    while time.time() < deadline:
        epoch += 1
        for batch in batches(pairs, args.max_tokens, rng):
            src = pad([pairs[i][0] for i in batch], config["pad_id"])
            tgt_in = pad([[config["bos_id"]] + pairs[i][1] for i in batch], config["pad_id"])
            tgt_out = pad([pairs[i][1] + [config["eos_id"]] for i in batch], -100)
            logits = model(src, tgt_in, args.dropout)
            loss = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), tgt_out.reshape(-1), ignore_index=-100,
                                   label_smoothing=0.1)
            opt.zero_grad()
            loss.backward()
            opt.step()
            lr.step()
            step += 1
            losses.append(float(loss))
            if step % 50 == 0:
                print(f"step {step} epoch {epoch} loss {sum(losses[-50:]) / 50:.3f} "
                      f"({(time.time() - started) / 60:.1f} min)", flush=True)
            if time.time() > next_eval:
                score, _ = bleu_of(model, src_sp, tgt_sp, test_en[:200], test_ja[:200], config)
                evals.append({"step": step, "bleu_first_200": score})
                print(f"step {step}: greedy BLEU on 200 held-out pairs {score}", flush=True)
                next_eval += args.eval_every * 60
            if time.time() >= deadline:
                break

    model.eval()
    score, hyps = bleu_of(model, src_sp, tgt_sp, test_en, test_ja, config)
    exact = sum(h == r for h, r in zip(hyps, test_ja))
    print(f"greedy BLEU on the 1,000 held-out pairs: {score}; exact sentences {exact}", flush=True)
    with open(os.path.join(args.out, "config.json"), "w") as f:
        json.dump(config, f, indent=2)
        f.write("\n")
    save(os.path.join(args.out, "model.safetensors"), model.state_dict(),
         {"generator": "tools/train_translation.py", "torch": torch.__version__})
    with open(os.path.join(args.out, "training.json"), "w") as f:
        json.dump({"command": " ".join(sys.argv), "steps": step, "epochs": epoch,
                   "minutes": (time.time() - started) / 60, "final_loss": sum(losses[-100:]) / min(100, len(losses)),
                   "train_pairs": len(pairs), "max_tokens": args.max_tokens, "warmup": args.warmup,
                   "dropout": args.dropout, "seed": args.seed, "torch": torch.__version__,
                   "sentencepiece": spm.__version__, "greedy_bleu_heldout": score, "exact_heldout": exact,
                   "evals": evals}, f, indent=2)
        f.write("\n")
    print(f"wrote {args.out} after {step} steps", flush=True)


if __name__ == "__main__":
    main()
