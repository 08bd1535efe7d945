#!/usr/bin/env python3
"""Trains a small Marian translator from parallel text and writes it as a Hugging
Face opus-mt directory: the layout transformers' MarianMTModel and MarianTokenizer
read, and that hibiki runs through the same path as any opus-mt model.

    apt-get install python3-torch python3-sentencepiece libopenblas0-pthread   # without OpenBLAS, torch is ~20× slower
    LD_LIBRARY_PATH=/usr/lib/x86_64-linux-gnu/openblas-pthread /usr/bin/python3 tools/train_marian.py \\
        --train-src data/en-es/train.en --train-tgt data/en-es/train.es \\
        --dev-src data/en-es/dev.en --dev-tgt data/en-es/dev.es --out models/translate-en-es --minutes 600
    ... the same command with --resume       continues a killed run from OUT/checkpoint.pt
    ... tools/train_marian.py --check OUT --dev-src data/en-es/dev.en     only the check below
    ... tools/train_marian.py --check models/translate-en-es --dev-src test/fixtures/en-es/general.en \
            --check-lines 20 --fixture test/fixtures/en-es/twin.json      and the twin's side as a test fixture

Tokenizer, as opus-mt's: one SentencePiece unigram model per language
(source.spm, target.spm) trained on that side of the training text, and ONE
vocab.json numbering the pieces of both: </s> 0, <unk> 1, the source model's
pieces in its order, the target's not already there, <pad> last (pad = decoder
start = vocab − 1; test/fixtures/marian/shared-swish, made by transformers,
is numbered exactly so). --vocab is the shared vocabulary's size: each side is
trained with half of it, then once more with the overlap added back, so the
union comes out near --vocab. Text becomes ids as MarianTokenizer does:
special tokens' text kept whole, pieces → vocab.json (a piece it lacks →
<unk>), then </s>; labels the same through target.spm.

Model: tools/marian_torch.py's Marian (the PyTorch twin checked against
transformers) is the network; MarianParameters holds its tensors as
parameters under model.safetensors' names, so training and the twin share one
definition and state_dict() is what the directory stores. Post-norm, swish,
embeddings × √d, Marian's sinusoidal positions, one embedding table for the
encoder, the decoder and the output projection, final_logits_bias (a zero
buffer, as transformers keeps it). Initialisation: Xavier-uniform linears,
N(0, d^−½) embeddings (× √d = unit scale, fairseq's choice for tied tables).

Sizes: the defaults (d 192, 3 encoder + 2 decoder layers, 4 heads, ffn 768,
shared vocabulary 6000: 3.7 M parameters, 15 MB) are set by hibiki's greedy
speed on one thread, which is bound by multiply–adds (about 11 G/s): for 100
sources of 17–26 ids and 25 output tokens each (random weights, this 2-core
machine idle, generate() in batches of 100 / 16 / one at a time) they give
123 / 139 / 77 sentences/s; d 256, 3 + 3 layers, ffn 1024, vocabulary 8000
(7.6 M parameters) gave 62 / 71 / 38, d 192 with 3 + 3 layers and vocabulary
6000 104 / 120 / 67, d 192, 3 + 2, vocabulary 8000 109 / 123 / 66.

Training: teacher forcing (decoder input = [pad] + labels[:-1]), label
smoothing 0.1, dropout 0.1, Adam (0.9, 0.98, 1e-9) with linear warmup then
inverse-sqrt decay, batches of about --batch-tokens (source + target, padding
counted) from length-sorted buckets in random order, gradient norm clipped
to 1, every core's thread. Every --eval-minutes: the dev loss (nats per target
token, no smoothing, no dropout); a better one rewrites OUT/model.safetensors,
so OUT is a usable directory from the first evaluation on; OUT/checkpoint.pt
(weights, Adam, schedule, batch order, RNGs, the best weights) is rewritten so
--resume continues where the last evaluation left off; --minutes counts the
training time of all runs together. training.json records the commands, the
data, the steps and every evaluation.

The check (at the end of training, or --check DIR alone) proves the directory
reads the same in hibiki as in transformers' semantics: for the first
--check-lines dev sources, the twin (tools/marian_torch.py) and this script's
MarianTokenizer give input ids, greedy ids, beam ids and scores (the
directory's num_beams) and a padded greedy batch; hibiki (loadMarian,
MarianTokenizer, generate, through tsx) gives the same, and `hibiki translate`
(src/cli/main.ts) the texts, greedy and with the directory's settings. Every id
and text must be identical, beam scores within 1e-4; exit 1 otherwise. It also
prints hibiki's greedy sentences per second on one thread.

OUT/checkpoint.pt is for resuming only: delete it before shipping OUT.
"""
import argparse
import copy
import hashlib
import shutil
import json
import math
import os
import subprocess
import sys
import tempfile
import time
from collections import OrderedDict
from pathlib import Path

import numpy as np
import sentencepiece as spm
import torch
import torch.nn.functional as F
from torch import nn

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import marian_torch  # noqa: E402
from marian_torch import Marian, beam_search, greedy, generation_config, marian_config, tensor_specs, write_json, write_safetensors  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
FORMAT_VERSION = 1  # of checkpoint.pt and training.json
# What a second stage (--init) sets itself; every other setting is the first stage's.
STAGE_ARGS = ('train_src', 'train_tgt', 'dev_src', 'dev_tgt', 'out', 'minutes', 'eval_minutes', 'check_lines', 'no_check', 'init',
              'resume')
EOS, UNK = '</s>', '<unk>'
PAD = '<pad>'
EOS_ID, UNK_ID = 0, 1
SCORE_TOLERANCE = 1e-4


def command():
    """The command line that ran, as one would type it again."""
    return 'LD_LIBRARY_PATH=/usr/lib/x86_64-linux-gnu/openblas-pthread /usr/bin/python3 ' + ' '.join(sys.argv)


def log(text):
    print(text, flush=True)


# ---------------------------------------------------------------- tokenizer

def train_spm(text_file, prefix, pieces, threads):
    """A unigram SentencePiece model of about `pieces` pieces (fewer if the text has fewer), the library's default
    ids (unk 0, bos 1, eos 2, as opus-mt's and the fixture's .spm files): it only segments; vocab.json numbers."""
    spm.SentencePieceTrainer.train(input=str(text_file), model_prefix=str(prefix), vocab_size=pieces, model_type='unigram',
                                   character_coverage=0.9999, hard_vocab_limit=False, input_sentence_size=2_000_000,
                                   shuffle_input_sentence=True, num_threads=threads, minloglevel=2)
    Path(f'{prefix}.vocab').unlink()
    return spm.SentencePieceProcessor(model_file=f'{prefix}.model')


def shared_vocab(source, target):
    """vocab.json as opus-mt numbers it: </s>, <unk>, source pieces, target pieces not yet in, <pad> last."""
    vocab = OrderedDict([(EOS, EOS_ID), (UNK, UNK_ID)])
    for sp in (source, target):
        for i in range(sp.get_piece_size()):
            if not (sp.is_control(i) or sp.is_unknown(i)):
                vocab.setdefault(sp.id_to_piece(i), len(vocab))
    vocab[PAD] = len(vocab)
    return vocab


def tokenizer_config(pad):
    """tokenizer_config.json: the fixture's (transformers' MarianTokenizer, shared vocabulary) with this pad id."""
    config = json.loads((marian_torch.FIXTURE / 'tokenizer_config.json').read_text())
    special = {v['content']: v for v in config['added_tokens_decoder'].values()}
    config['added_tokens_decoder'] = {'0': special[EOS], '1': special[UNK], str(pad): special[PAD]}
    return config


def train_tokenizers(train_src, train_tgt, out, vocab_size, threads):
    """source.spm, target.spm, vocab.json and tokenizer_config.json in `out`; returns the pieces per side tried."""
    per_side = vocab_size // 2
    tried = []
    while True:
        tried.append(per_side)
        sides = [train_spm(text, out / name, per_side, threads) for text, name in ((train_src, 'source'), (train_tgt, 'target'))]
        vocab = shared_vocab(*sides)
        exhausted = any(sp.get_piece_size() < per_side for sp in sides)
        log(f'SentencePiece: {per_side} pieces per side → source {sides[0].get_piece_size()}, '
            f'target {sides[1].get_piece_size()}, shared vocabulary {len(vocab)}')
        # The two languages share pieces (punctuation, digits, names): add the shortfall back once.
        if len(tried) == 2 or exhausted or len(vocab) >= 0.98 * vocab_size:
            break
        per_side += (vocab_size - len(vocab)) // 2
    for name in ('source', 'target'):
        (out / f'{name}.model').replace(out / f'{name}.spm')
    # vocab.json keeps its id order (not sorted) and its pieces as they are.
    (out / 'vocab.json').write_text(json.dumps(vocab, indent=2, ensure_ascii=False) + '\n', encoding='utf-8')
    write_json(out / 'tokenizer_config.json', tokenizer_config(len(vocab) - 1))
    return tried


class MarianTokenizer:
    """transformers' MarianTokenizer over a directory (shared vocabulary), as src/text/marian-tokenizer.ts reads it."""

    def __init__(self, directory):
        directory = Path(directory)
        self.vocab = json.loads((directory / 'vocab.json').read_text(encoding='utf-8'))
        self.pieces = {i: p for p, i in self.vocab.items()}
        self.source = spm.SentencePieceProcessor(model_file=str(directory / 'source.spm'))
        self.target = spm.SentencePieceProcessor(model_file=str(directory / 'target.spm'))
        self.special = [EOS, UNK, PAD]
        self.split_order = sorted(self.special, key=len, reverse=True)
        self.special_ids = {self.vocab[t] for t in self.special}
        self.pad = self.vocab[PAD]

    def chunks(self, text):
        """The text split around special tokens' text, leftmost-longest: [(chunk, is_special)]."""
        if '<' not in text:
            return [(text, False)] if text else []
        out, start, i = [], 0, 0
        while i < len(text):
            hit = next((t for t in self.split_order if text.startswith(t, i)), None)
            if hit is None:
                i += 1
                continue
            if i > start:
                out.append((text[start:i], False))
            out.append((hit, True))
            i += len(hit)
            start = i
        if start < len(text):
            out.append((text[start:], False))
        return out

    def encode(self, text, sp=None):
        """Ids of `text` through `sp` (source.spm by default), then </s>; a leading >>lang<< code stays one piece."""
        sp = sp or self.source
        pieces = []
        for chunk, special in self.chunks(text):
            end = chunk.find('<<') if not special and chunk.startswith('>>') else -1
            if special:
                pieces.append(chunk)
                continue
            if end >= 0:
                pieces.append(chunk[:end + 2])
                chunk = chunk[end + 2:]
            pieces += sp.encode(chunk, out_type=str)
        return [self.vocab.get(p, UNK_ID) for p in pieces] + [EOS_ID]

    def encode_target(self, text):
        """Labels: as text_target= does, through target.spm."""
        return self.encode(text, self.target)

    def decode(self, ids):
        """decode(skip_special_tokens=True): special tokens dropped, target.spm's detokenisation, ▁ → space, trimmed."""
        kept = [self.pieces[i] for i in ids if i not in self.special_ids]
        return self.target.decode_pieces(kept).replace('\u2581', ' ').strip()


# ---------------------------------------------------------------- data

def read_lines(path):
    """Lines split at '\\n' only (a '\\r' before it dropped), as hibiki's CLI reads them: str.splitlines would also
    split at U+2028, U+0085… inside a sentence and misalign the two sides."""
    with open(path, encoding='utf-8', newline='') as f:
        lines = [line[:-1] if line.endswith('\r') else line for line in f.read().split('\n')]
    return lines[:-1] if lines and lines[-1] == '' else lines


class Encoded:
    """Token ids of many sentences in one flat int32 array: sentence i is ids[starts[i]:starts[i + 1]]."""

    def __init__(self, rows):
        lengths = np.array([len(r) for r in rows], dtype=np.int64)
        self.starts = np.concatenate([[0], np.cumsum(lengths)])
        self.ids = np.fromiter((t for r in rows for t in r), dtype=np.int32, count=int(self.starts[-1]))
        self.lengths = lengths

    def __getitem__(self, i):
        return self.ids[self.starts[i]:self.starts[i + 1]]


def encode_pairs(tokenizer, src_path, tgt_path, max_length):
    """(source Encoded, target Encoded, counts): pairs with a blank side or a side longer than max_length ids dropped."""
    sources, targets = read_lines(src_path), read_lines(tgt_path)
    if len(sources) != len(targets):
        raise SystemExit(f'{src_path} has {len(sources)} lines, {tgt_path} {len(targets)}')
    src_rows, tgt_rows, blank, long = [], [], 0, 0
    for s, t in zip(sources, targets):
        if not s.strip() or not t.strip():
            blank += 1
            continue
        si, ti = tokenizer.encode(s), tokenizer.encode_target(t)
        if len(si) > max_length or len(ti) > max_length:
            long += 1
            continue
        src_rows.append(si)
        tgt_rows.append(ti)
    src, tgt = Encoded(src_rows), Encoded(tgt_rows)
    counts = {'lines': len(sources), 'pairs': len(src_rows), 'dropped_blank': blank, f'dropped_over_{max_length}_ids': long,
              'source_ids': int(src.lengths.sum()), 'target_ids': int(tgt.lengths.sum())}
    return src, tgt, counts


def make_batches(src, tgt, max_tokens, rng):
    """Index arrays of about max_tokens (n × (longest source + longest target)), sentences of similar lengths
    together, the batches in random order."""
    order = np.lexsort((rng.random(len(src.lengths)), tgt.lengths, src.lengths))
    batches, start, longest_s, longest_t = [], 0, 0, 0
    for k, i in enumerate(order):
        s, t = max(longest_s, src.lengths[i]), max(longest_t, tgt.lengths[i])
        if k > start and (k - start + 1) * (s + t) > max_tokens:
            batches.append(order[start:k])
            start, s, t = k, src.lengths[i], tgt.lengths[i]
        longest_s, longest_t = s, t
    batches.append(order[start:])
    rng.shuffle(batches)
    return batches


def tensors(src, tgt, batch, pad):
    """input_ids (B, S) right-padded with pad, attention_mask (B, S), decoder_input_ids (B, T) = [pad] + labels[:-1]
    (shift_tokens_right, decoder start = pad), labels (B, T) padded with -100."""
    S, T = int(src.lengths[batch].max()), int(tgt.lengths[batch].max())
    input_ids = torch.full((len(batch), S), pad, dtype=torch.long)
    mask = torch.zeros((len(batch), S), dtype=torch.long)
    labels = torch.full((len(batch), T), -100, dtype=torch.long)
    for row, i in enumerate(batch):
        s, t = torch.from_numpy(src[i].astype(np.int64)), torch.from_numpy(tgt[i].astype(np.int64))
        input_ids[row, :len(s)] = s
        mask[row, :len(s)] = 1
        labels[row, :len(t)] = t
    decoder_ids = torch.cat([torch.full((len(batch), 1), pad, dtype=torch.long), labels[:, :-1]], dim=1).masked_fill(labels == -100, pad)
    return input_ids, mask, decoder_ids, labels


# ---------------------------------------------------------------- model

class MarianParameters(nn.Module):
    """MarianMTModel's tensors as parameters under model.safetensors' names (state_dict() keys are those names;
    final_logits_bias a buffer, as in transformers); marian_torch.Marian runs the network on them."""

    def __init__(self, config):
        super().__init__()
        specs = tensor_specs(config['d_model'], config['encoder_layers'], config['encoder_ffn_dim'], config['vocab_size'], config['decoder_layers'])
        for name, (dtype, shape) in specs.items():
            *path, leaf = name.split('.')
            module = self
            for part in path:
                if not hasattr(module, part):
                    module.add_module(part, nn.Module())
                module = getattr(module, part)
            if name == 'final_logits_bias':
                module.register_buffer(leaf, torch.zeros(shape, dtype=dtype))
            else:
                module.register_parameter(leaf, nn.Parameter(torch.empty(shape, dtype=dtype)))
        self.reset(config)
        self.net = Marian(config, dict(self.state_dict(keep_vars=True)))

    @torch.no_grad()
    def reset(self, config):
        d = config['d_model']
        for name, p in self.named_parameters():
            if name == 'model.shared.weight':
                p.normal_(0.0, d ** -0.5)
                p[config['pad_token_id']] = 0  # nn.Embedding's padding_idx row, as transformers starts it
            elif name.endswith('_layer_norm.weight'):
                p.fill_(1.0)
            elif name.endswith('.bias'):
                p.zero_()
            else:
                nn.init.xavier_uniform_(p)

    def forward(self, input_ids, attention_mask, decoder_ids):
        """Teacher-forced logits (B, T, V)."""
        return self.net.decode_full(decoder_ids, self.net.encode(input_ids, attention_mask), attention_mask)


@torch.no_grad()
def dev_loss(model, src, tgt, pad, max_tokens):
    """Nats per target token (</s> included), no dropout, no smoothing."""
    model.net.dropout = 0.0
    total, count = 0.0, 0
    for batch in make_batches(src, tgt, max_tokens, np.random.default_rng(0)):
        input_ids, mask, decoder_ids, labels = tensors(src, tgt, batch, pad)
        logits = model(input_ids, mask, decoder_ids)
        total += float(F.cross_entropy(logits.reshape(-1, logits.shape[-1]), labels.reshape(-1), ignore_index=-100, reduction='sum'))
        count += int((labels != -100).sum())
    return total / count


def learning_rate(step, peak, warmup):
    """Linear warmup to `peak` at step `warmup`, then peak · √(warmup / step)."""
    step = max(step, 1)
    return peak * min(step / warmup, math.sqrt(warmup / step))


def save_model(directory, state):
    specs = {name: (t.dtype, list(t.shape)) for name, t in state.items()}
    write_safetensors(Path(directory) / 'model.safetensors', specs, state.__getitem__, OrderedDict([('format', 'pt')]))


def atomic_torch_save(value, path):
    tmp = Path(str(path) + '.tmp')
    torch.save(value, tmp)
    tmp.replace(path)


# ---------------------------------------------------------------- training

def write_directory_settings(out, args, vocab_size):
    config = marian_config(args.d_model, args.layers, args.heads, args.ffn, vocab_size, args.max_positions, args.decoder_layers)
    config.pop('transformers_version')
    config['dropout'] = args.dropout
    write_json(out / 'config.json', config)
    generation = generation_config(vocab_size)
    for key in ('transformers_version', '_from_model_config', 'max_new_tokens'):
        generation.pop(key, None)
    generation.update({'num_beams': args.beams, 'max_length': args.max_output})
    write_json(out / 'generation_config.json', generation)
    return config


def train(args):
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    checkpoint_path = out / 'checkpoint.pt'
    threads = os.cpu_count()
    torch.set_num_threads(threads)
    started = time.time()

    if args.resume:
        if not checkpoint_path.exists():
            raise SystemExit(f'--resume: {checkpoint_path} does not exist')
        ck = torch.load(checkpoint_path)
        if ck['format_version'] != FORMAT_VERSION:
            raise SystemExit(f'{checkpoint_path}: format {ck["format_version"]}, this script writes {FORMAT_VERSION}')
        # The model, tokenizer and schedule are the first run's; only --minutes, --eval-minutes and the check may change.
        keep = {k: v for k, v in vars(args).items() if k in ('minutes', 'eval_minutes', 'check_lines', 'no_check', 'resume')}
        args = argparse.Namespace(**{**ck['args'], **keep})
        record = ck['record']
        record['commands'].append(command())
        log(f'resuming {out} at step {ck["step"]}, {ck["seconds"] / 60:.1f} of {args.minutes} minutes done')
    elif args.init:
        # A second stage: the first run's tokenizers, settings, weights, Adam state and schedule, on new data
        # (and a new dev set). --minutes still counts the training time of both stages together.
        init = Path(args.init)
        stage1 = torch.load(init / 'checkpoint.pt')
        if stage1['format_version'] != FORMAT_VERSION:
            raise SystemExit(f'{init}/checkpoint.pt: format {stage1["format_version"]}, this script writes {FORMAT_VERSION}')
        for name in ('source.spm', 'target.spm', 'vocab.json', 'tokenizer_config.json'):
            shutil.copyfile(init / name, out / name)
        given = {k: v for k, v in vars(args).items() if k in STAGE_ARGS}
        args = argparse.Namespace(**{**stage1['args'], **given})
        first = stage1['record']
        record = {**{k: first[k] for k in ('format_version', 'torch', 'sentencepiece', 'threads', 'spm_pieces_per_side_tried',
                                           'tokenizer_seconds')},
                  'commands': first['commands'] + [command()], 'settings': vars(args), 'evaluations': [],
                  'stage1': {'dir': str(init), 'train': first['train'], 'dev': first['dev'], 'steps': stage1['step'],
                             'minutes': round(stage1['seconds'] / 60, 2), 'best': first.get('best'),
                             'evaluations': first['evaluations']}}
        ck = None
        log(f'second stage from {init} at step {stage1["step"]}, {stage1["seconds"] / 60:.1f} of {args.minutes} minutes done')
    else:
        torch.manual_seed(args.seed)
        t0 = time.time()
        tried = train_tokenizers(args.train_src, args.train_tgt, out, args.vocab, threads)
        record = {'format_version': FORMAT_VERSION, 'commands': [command()], 'torch': torch.__version__,
                  'sentencepiece': spm.__version__, 'threads': threads, 'spm_pieces_per_side_tried': tried,
                  'settings': vars(args), 'tokenizer_seconds': round(time.time() - t0, 1), 'evaluations': []}
        ck = None

    tokenizer = MarianTokenizer(out)
    vocab_size = len(tokenizer.vocab)
    pad = tokenizer.pad
    config = write_directory_settings(out, args, vocab_size)
    t0 = time.time()
    train_src, train_tgt, train_counts = encode_pairs(tokenizer, args.train_src, args.train_tgt, args.max_length)
    dev_src, dev_tgt, dev_counts = encode_pairs(tokenizer, args.dev_src, args.dev_tgt, args.max_positions)
    if ck is not None and (ck['record']['train'], ck['record']['dev']) != (train_counts, dev_counts):
        raise SystemExit(f'--resume: the data differ from the first run\'s ({ck["record"]["train"]} / {ck["record"]["dev"]})')
    record.update(train=train_counts, dev=dev_counts, vocab={'shared': vocab_size, 'source_spm': tokenizer.source.get_piece_size(),
                                                            'target_spm': tokenizer.target.get_piece_size()})
    log(f'encoded in {time.time() - t0:.0f} s: train {train_counts}, dev {dev_counts}')

    model = MarianParameters(config)
    params = sum(p.numel() for p in model.parameters())
    record['parameters'] = params
    log(f'model: d {args.d_model}, {args.layers} + {args.decoder_layers} layers, {args.heads} heads, ffn {args.ffn}, '
        f'vocab {vocab_size}: {params:,} parameters ({params * 4 / 1e6:.1f} MB float32)')
    optimiser = torch.optim.Adam(model.parameters(), lr=args.lr, betas=(0.9, 0.98), eps=1e-9)
    rng = np.random.default_rng(args.seed)
    step, epoch, batch_index, seconds, tokens_seen = 0, 0, 0, 0.0, 0
    epoch_rng = copy.deepcopy(rng.bit_generator.state)
    best_loss, best_state, best_step = math.inf, None, None
    if ck is not None:
        model.load_state_dict(ck['model'])
        optimiser.load_state_dict(ck['optimiser'])
        step, epoch, batch_index, seconds, tokens_seen = ck['step'], ck['epoch'], ck['batch_index'], ck['seconds'], ck['tokens']
        epoch_rng = ck['epoch_rng']
        best_loss, best_state, best_step = ck['best_loss'], ck['best_state'], ck['best_step']
        torch.set_rng_state(ck['torch_rng'])
    elif args.init and not args.resume:
        # the schedule goes on from the first stage's step; epochs, batches and the best dev loss start afresh
        model.load_state_dict(stage1['model'])
        optimiser.load_state_dict(stage1['optimiser'])
        step, seconds, tokens_seen = stage1['step'], stage1['seconds'], stage1['tokens']
        torch.manual_seed(args.seed)

    def checkpoint():
        atomic_torch_save({'format_version': FORMAT_VERSION, 'args': vars(args), 'record': record, 'model': model.state_dict(),
                           'optimiser': optimiser.state_dict(), 'step': step, 'epoch': epoch, 'batch_index': batch_index,
                           'seconds': seconds, 'tokens': tokens_seen, 'epoch_rng': epoch_rng, 'best_loss': best_loss,
                           'best_state': best_state, 'best_step': best_step, 'torch_rng': torch.get_rng_state()}, checkpoint_path)

    def write_record():
        record.update(steps=step, epochs_started=epoch, minutes=round(seconds / 60, 2), target_tokens_seen=tokens_seen,
                      best={'step': best_step, 'dev_loss': best_loss})
        write_json(out / 'training.json', record)

    def evaluate(train_loss):
        nonlocal best_loss, best_state, best_step
        t = time.time()
        loss = dev_loss(model, dev_src, dev_tgt, pad, args.batch_tokens)
        better = loss < best_loss
        if better:
            best_loss, best_step = loss, step
            best_state = {k: v.detach().clone() for k, v in model.state_dict().items()}
            save_model(out, best_state)
        record['evaluations'].append({'step': step, 'minutes': round(seconds / 60, 2), 'train_loss_smoothed': train_loss,
                                      'dev_loss': round(loss, 4), 'best': better})
        log(f'step {step} ({seconds / 60:.1f} min): dev loss {loss:.4f} (ppl {math.exp(loss):.1f})'
            f'{" best: wrote model.safetensors" if better else ""} [{time.time() - t:.0f} s]')
        write_record()
        checkpoint()

    budget = args.minutes * 60
    next_eval = (math.floor(seconds / (args.eval_minutes * 60)) + 1) * args.eval_minutes * 60
    recent_loss, recent_tokens, recent_time = [], 0, time.time()
    session = time.time() - seconds  # seconds = time.time() - session from here on
    done = seconds >= budget
    while not done:
        rng.bit_generator.state = copy.deepcopy(epoch_rng)
        batches = make_batches(train_src, train_tgt, args.batch_tokens, rng)
        if batch_index == 0:
            epoch += 1
        while batch_index < len(batches):
            model.net.dropout = args.dropout
            input_ids, mask, decoder_ids, labels = tensors(train_src, train_tgt, batches[batch_index], pad)
            for group in optimiser.param_groups:
                group['lr'] = learning_rate(step + 1, args.lr, args.warmup)
            logits = model(input_ids, mask, decoder_ids)
            loss = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), labels.reshape(-1), ignore_index=-100,
                                   label_smoothing=args.label_smoothing)
            optimiser.zero_grad(set_to_none=True)
            loss.backward()
            nn.utils.clip_grad_norm_(model.parameters(), args.clip)
            optimiser.step()
            step += 1
            batch_index += 1
            n = int((labels != -100).sum())
            tokens_seen += n
            recent_tokens += n + int(mask.sum())
            recent_loss.append(float(loss))
            seconds = time.time() - session
            if step % args.log_every == 0:
                now = time.time()
                log(f'step {step} epoch {epoch} loss {np.mean(recent_loss[-args.log_every:]):.3f} '
                    f'lr {learning_rate(step, args.lr, args.warmup):.2e} {recent_tokens / (now - recent_time):.0f} tokens/s '
                    f'(source + target) {seconds / 60:.1f} min')
                record['tokens_per_second'] = round(recent_tokens / (now - recent_time))
                recent_tokens, recent_time = 0, now
            done = seconds >= budget
            if seconds >= next_eval or done:
                evaluate(round(float(np.mean(recent_loss[-100:])), 4))
                next_eval += args.eval_minutes * 60
                seconds = time.time() - session
            if done:
                break
        if batch_index >= len(batches):
            batch_index = 0
            epoch_rng = copy.deepcopy(rng.bit_generator.state)
    if best_state is None:
        raise SystemExit('no dev loss to keep: no evaluation ran (--minutes 0?) or every one was NaN')
    log(f'trained {step} steps ({seconds / 60:.1f} min, {tokens_seen:,} target tokens); '
        f'best dev loss {best_loss:.4f} at step {best_step}; wall {(time.time() - started) / 60:.1f} min this run')
    size = sum((out / f).stat().st_size for f in ('config.json', 'generation_config.json', 'model.safetensors', *marian_torch.TOKENIZER_FILES))
    record['shipped_bytes'] = size
    write_record()
    log(f'{out}: {size / 1e6:.1f} MB without checkpoint.pt and training.json')
    if not args.no_check:
        sources = [s for s in read_lines(args.dev_src) if s.strip()][:args.check_lines]
        result = check(out, sources)
        record['check'] = result
        write_record()
        if not result['ok']:
            raise SystemExit(1)


# ---------------------------------------------------------------- the check: hibiki against the twin

# Run by tsx from the repository root: the library's own Marian pieces (no pool), one thread.
HIBIKI_SCRIPT = """
import { readFileSync } from 'node:fs';
import { loadMarian } from '%(root)s/src/models/marian.ts';
import { Runtime } from '%(root)s/src/runtime/runtime.ts';
import { MarianTokenizer } from '%(root)s/src/text/marian-tokenizer.ts';

const [dir, file] = process.argv.slice(2);
const sources: string[] = JSON.parse(readFileSync(file, 'utf8'));
const model = loadMarian(Runtime.create(), dir);
const tokenizer = MarianTokenizer.load(dir);
const inputIds = sources.map((s) => tokenizer.encode(s));
let t = performance.now();
const greedy = inputIds.map((ids) => model.generate([ids], { numBeams: 1 })[0]![0]!.ids);
const greedySeconds = (performance.now() - t) / 1000;
t = performance.now();
const batch = model.generate(inputIds, { numBeams: 1 }).map((s) => s[0]!.ids);
const batchSeconds = (performance.now() - t) / 1000;
const beam = model.generation.numBeams > 1 ? inputIds.map((ids) => model.generate([ids])[0]![0]!) : [];
console.log(JSON.stringify({
  inputIds, greedy, batch, greedySeconds, batchSeconds,
  beam: beam.map((h) => h.ids), beamScores: beam.map((h) => h.score), numBeams: model.generation.numBeams,
}));
"""


def node(*args):
    result = subprocess.run([str(ROOT / 'node_modules/.bin/tsx'), *map(str, args)], cwd=ROOT, capture_output=True, text=True)
    if result.returncode != 0:
        raise SystemExit(f'tsx {" ".join(map(str, args))} failed ({result.returncode}):\n{result.stderr[-3000:]}')
    return result.stdout


@torch.no_grad()
def check(directory, sources, fixture=None):
    """Twin vs hibiki on `sources`: {'ok', counts, mismatches, speed}; prints a table.
    With `fixture`, also writes the twin's side there as JSON, for tests that must
    run without Python (test/models/translate-en-es.test.ts)."""
    directory = Path(directory).resolve()
    torch.set_num_threads(os.cpu_count())
    tokenizer = MarianTokenizer(directory)
    twin, gen = marian_torch.load(directory)
    log(f'check {directory}: {len(sources)} dev sources; the twin (tools/marian_torch.py) against hibiki '
        f'(greedy, beam {gen.num_beams}, limit {gen.limit} tokens)')

    want = {'input ids': [], 'greedy ids': [], 'greedy texts (CLI -b 1)': [], 'batch greedy ids': []}
    beams = gen.num_beams > 1
    if beams:
        want.update({'beam ids': [], 'beam texts (CLI, the directory\'s settings)': []})
    scores = []
    for s in sources:
        ids = tokenizer.encode(s)
        x = torch.tensor([ids])
        want['input ids'].append(ids)
        g = greedy(twin, gen, x, torch.ones_like(x))[0].tolist()
        want['greedy ids'].append(g)
        want['greedy texts (CLI -b 1)'].append(tokenizer.decode(g))
        if beams:
            seqs, sc = beam_search(twin, gen, x, torch.ones_like(x))
            want['beam ids'].append(seqs[0].tolist())
            want['beam texts (CLI, the directory\'s settings)'].append(tokenizer.decode(seqs[0].tolist()))
            scores.append(float(sc[0]))
    width = max(len(r) for r in want['input ids'])
    x = torch.tensor([r + [tokenizer.pad] * (width - len(r)) for r in want['input ids']])
    m = torch.tensor([[1] * len(r) + [0] * (width - len(r)) for r in want['input ids']])
    # Finished rows are padded with the pad id to the longest; hibiki returns each row unpadded.
    want['batch greedy ids'] = [[row[0]] + [t for t in row[1:] if t != tokenizer.pad] for row in greedy(twin, gen, x, m).tolist()]
    if fixture:
        sha = hashlib.sha256((directory / 'model.safetensors').read_bytes()).hexdigest()
        Path(fixture).write_text(json.dumps({
            'made_by': f'tools/train_marian.py --check {directory.name} --fixture (the PyTorch twin, tools/marian_torch.py)',
            'model_sha256': sha, 'num_beams': gen.num_beams, 'sources': sources,
            'input_ids': want['input ids'], 'greedy_ids': want['greedy ids'], 'greedy_texts': want['greedy texts (CLI -b 1)'],
            'beam_ids': want.get('beam ids', []), 'beam_texts': want.get('beam texts (CLI, the directory\'s settings)', []),
            'beam_scores': scores}, ensure_ascii=False, indent=1) + '\n')
        log(f'wrote {fixture}')

    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        (tmp / 'sources.json').write_text(json.dumps(sources))
        (tmp / 'sources.txt').write_text(''.join(s + '\n' for s in sources))
        (tmp / 'hibiki.mts').write_text(HIBIKI_SCRIPT % {'root': ROOT})
        got_raw = json.loads(node(tmp / 'hibiki.mts', directory, tmp / 'sources.json'))
        cli = ['src/cli/main.ts', 'translate', '-m', directory, '-i', tmp / 'sources.txt', '-w', '0', '-q']
        node(*cli, '-b', '1', '-o', tmp / 'greedy.txt')
        got = {'input ids': got_raw['inputIds'], 'greedy ids': got_raw['greedy'], 'batch greedy ids': got_raw['batch'],
               'greedy texts (CLI -b 1)': read_lines(tmp / 'greedy.txt')}
        if beams:
            node(*cli, '-o', tmp / 'beam.txt')
            got.update({'beam ids': got_raw['beam'], 'beam texts (CLI, the directory\'s settings)': read_lines(tmp / 'beam.txt')})

    result = {'sources': len(sources), 'compared': {}, 'mismatches': {}}
    for name, rows in want.items():
        bad = [i for i in range(len(rows)) if i >= len(got[name]) or got[name][i] != rows[i]] + list(range(len(rows), len(got[name])))
        result['compared'][name] = len(rows)
        result['mismatches'][name] = len(bad)
        for i in bad[:3]:
            log(f'  MISMATCH {name} [{i}] {sources[i]!r}\n    twin   {rows[i]}\n    hibiki {got[name][i] if i < len(got[name]) else None}')
    if beams:
        err = max(abs(a - b) for a, b in zip(scores, got_raw['beamScores']))
        result['beam score max abs err'] = err
        result['mismatches']['beam scores'] = int(err > SCORE_TOLERANCE)
    n, seconds = len(sources), got_raw['greedySeconds']
    result['hibiki_greedy_sentences_per_second_one_thread'] = {'one at a time': round(n / seconds, 1),
                                                               'one batch': round(n / got_raw['batchSeconds'], 1)}
    result['ok'] = not any(result['mismatches'].values())
    log(f'{"quantity":45} {"compared":>8} {"mismatches":>10}')
    for name, count in result['compared'].items():
        log(f'{name:45} {count:8} {result["mismatches"][name]:10}')
    if beams:
        log(f'{"beam scores (max abs err " + format(result["beam score max abs err"], ".1e") + ")":45} {n:8} {result["mismatches"]["beam scores"]:10}')
    for i in range(min(3, n)):
        log(f'  {sources[i]!r} → {want["greedy texts (CLI -b 1)"][i]!r}')
    log(f'hibiki greedy on one thread: {result["hibiki_greedy_sentences_per_second_one_thread"]} sentences/s '
        f'(mean source {np.mean([len(r) for r in want["input ids"]]):.1f} ids, output {np.mean([len(r) for r in want["greedy ids"]]):.1f})')
    log('OK: hibiki reads the directory as the twin does: every id and text identical' if result['ok'] else 'FAIL')
    return result


# ---------------------------------------------------------------- command line

def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n\n')[0], formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--train-src', help='training sources, one sentence per line')
    ap.add_argument('--train-tgt', help='their translations, line by line')
    ap.add_argument('--dev-src', help='dev sources (checkpoint selection, and the check\'s sentences)')
    ap.add_argument('--dev-tgt', help='their translations')
    ap.add_argument('--out', help='the Marian directory to write')
    ap.add_argument('--minutes', type=float, default=60, help='training time, all --resume runs together (default 60)')
    ap.add_argument('--init', metavar='DIR', help='a second stage: start from DIR/checkpoint.pt (its tokenizers, settings, weights, '
                    'Adam state and schedule) on the data given here')
    ap.add_argument('--resume', action='store_true', help='continue OUT/checkpoint.pt (the first run\'s settings and data)')
    ap.add_argument('--check', metavar='DIR', help='only check DIR: the twin against hibiki on the first --check-lines of --dev-src')
    ap.add_argument('--check-lines', type=int, default=50, help='dev sources the check decodes (default 50)')
    ap.add_argument('--fixture', metavar='FILE', help='with --check: also write the twin\'s ids, texts and scores to FILE (JSON)')
    ap.add_argument('--no-check', action='store_true', help='skip the check after training')
    ap.add_argument('--d-model', type=int, default=192, help='(default 192)')
    ap.add_argument('--layers', type=int, default=3, help='encoder layers (default 3)')
    ap.add_argument('--decoder-layers', type=int, default=2, help='decoder layers (default 2)')
    ap.add_argument('--heads', type=int, default=4, help='attention heads, both stacks (default 4)')
    ap.add_argument('--ffn', type=int, default=768, help='feed-forward width, both stacks (default 768)')
    ap.add_argument('--vocab', type=int, default=6000, help='shared vocabulary size, about (default 6000)')
    ap.add_argument('--max-positions', type=int, default=512, help='max_position_embeddings (default 512, as opus-mt)')
    ap.add_argument('--max-length', type=int, default=128, help='training pairs with a side longer than this many ids are dropped')
    ap.add_argument('--max-output', type=int, default=256, help='generation max_length, the decoder start included (default 256)')
    ap.add_argument('--beams', type=int, default=4, help='generation num_beams (default 4, as opus-mt)')
    ap.add_argument('--batch-tokens', type=int, default=4096, help='source + target ids per batch, padding counted (default 4096)')
    ap.add_argument('--lr', type=float, default=1e-3, help='peak learning rate (default 1e-3)')
    ap.add_argument('--warmup', type=int, default=1000, help='warmup steps (default 1000)')
    ap.add_argument('--dropout', type=float, default=0.1)
    ap.add_argument('--label-smoothing', type=float, default=0.1)
    ap.add_argument('--clip', type=float, default=1.0, help='gradient norm clip (default 1)')
    ap.add_argument('--eval-minutes', type=float, default=5, help='minutes between dev evaluations (default 5)')
    ap.add_argument('--log-every', type=int, default=50, help='steps between progress lines (default 50)')
    ap.add_argument('--seed', type=int, default=1)
    args = ap.parse_args()
    if args.check:
        if not args.dev_src:
            ap.error('--check needs --dev-src (the sentences to decode)')
        sources = [s for s in read_lines(args.dev_src) if s.strip()][:args.check_lines]
        sys.exit(0 if check(args.check, sources, args.fixture)['ok'] else 1)
    missing = [f for f in ('train_src', 'train_tgt', 'dev_src', 'dev_tgt', 'out') if not getattr(args, f)]
    if missing:
        ap.error('training needs ' + ', '.join('--' + f.replace('_', '-') for f in missing))
    if args.d_model % args.heads:
        ap.error('--d-model must be a multiple of --heads')
    train(args)


if __name__ == '__main__':
    main()
