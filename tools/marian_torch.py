"""Our own PyTorch twin of Hugging Face transformers' MarianMTModel (opus-mt
layout), with greedy and beam search in transformers' generate() semantics.
transformers itself is not installable here; this is written from its
modelling and generation code, so that it can be trusted as a reference only
once it reproduces a directory transformers made.

    /usr/bin/python3 tools/marian_torch.py --check test/fixtures/marian/shared-swish
    /usr/bin/python3 tools/marian_torch.py --random-weights OUT_DIR \
        --d-model 512 --layers 6 --heads 8 --ffn 2048 --vocab 58101

Debian's python3-torch (1.13) and numpy; always /usr/bin/python3 (the pyenv
python3 on PATH has no torch). No transformers, safetensors or sentencepiece
package needed.

--check DIR recomputes, for every case of DIR/expected.json (made by
transformers 5.17 / torch 2.11), the encoder's first output row, the
teacher-forced logits (first 3 rows in full, argmax and max of every row),
the greedy ids, the beam-4 top-2 ids and sequences_scores, and the padded
batch of the first 8 sources decoded with beam 4 (sources right-padded with
the pad id plus an attention mask, as the tokenizer pads; returned sequences
padded with the pad id to the longest, as transformers crops its static
buffer). It prints the max abs error and the mismatch count per quantity and
exits 1 on any id mismatch or any error above 1e-4. The texts (ids decoded
through vocab.json's pieces, "▁" read as a space) are compared too, for
information. It also writes the fixture's tensors back through this script's
safetensors writer and says whether the bytes are identical (the writer that
--random-weights uses).

--random-weights OUT_DIR writes a Marian directory of random weights
(transformers' own initialisation: linear and embedding weights N(0,
init_std 0.02), biases 0, layer norms 1/0, pad row 0, final_logits_bias 0)
at the given size — the defaults are opus-mt-en-de's — in the fixture's
layout: config.json, generation_config.json (the fixture's generation
settings with this vocabulary's ids: pad = decoder start = vocab − 1, eos 0,
the pad banned, beam 4, 48 new tokens) and model.safetensors (same tensor
names, same compact header with {"format":"pt"} metadata, keys sorted,
written tensor by tensor). The tokenizer files (source.spm, target.spm,
vocab.json, tokenizer_config.json) are copied from the fixture only when
--vocab equals the fixture's vocabulary size (667); otherwise the directory
is for model-only speed benches (feed token ids, no tokenizer) and a
README.md in it says so. About 300 MB at opus-mt-en-de's size: do not commit
it.

The model (transformers' modeling_marian.py): token embeddings × √d_model
(scale_embedding) plus fixed sinusoidal positions from 0 in Marian's layout
(sines of all frequencies in the first half, cosines in the second); no
embedding layer norm; post-norm layers (self-attention, [cross-attention],
fc1 → activation → fc2, each followed by residual add and its layer norm);
q = q_proj(x) · head_dim^−0.5; padded keys masked with float32's minimum;
logits = hidden · sharedᵀ + final_logits_bias.

Generation (transformers' _sample with do_sample false, and its vectorised
_beam_search): logits processors NoBadWordsLogitsProcessor (bad_words_ids
banned with −inf) then ForcedEOSTokenLogitsProcessor (at sequence length
limit − 1 only the end token, score 0); limit = max_new_tokens + 1 counting
the decoder start token. Beam search keeps max(2, 1 + #eos)·K candidates of
log_softmax + running score, the K best that do not end continue (ending ones
pushed down by −1e9), of the first K those that end go to the K finished
slots with score / generated^length_penalty (generated = new tokens, the end
token included), and a sentence stops by transformers' heuristic
(early_stopping false: best running score at the current length no better
than the worst finished one).
"""
import argparse
import json
import math
import shutil
import struct
import sys
from collections import OrderedDict
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

NP_DTYPES = {'F32': np.float32, 'F16': np.float16, 'F64': np.float64, 'I64': np.int64, 'I32': np.int32}
ST_DTYPES = {torch.float32: 'F32', torch.float16: 'F16', torch.float64: 'F64', torch.int64: 'I64', torch.int32: 'I32'}
TOKENIZER_FILES = ('source.spm', 'target.spm', 'vocab.json', 'tokenizer_config.json')
FIXTURE = Path(__file__).resolve().parent.parent / 'test/fixtures/marian/shared-swish'
TOLERANCE = 1e-4


# ---------------------------------------------------------------- safetensors

def read_safetensors(path):
    """(header, OrderedDict name -> float tensor) from a safetensors file: 8-byte LE header length, JSON header, raw data."""
    raw = Path(path).read_bytes()
    (length,) = struct.unpack('<Q', raw[:8])
    header = json.loads(raw[8:8 + length])
    data = memoryview(raw)[8 + length:]
    tensors = OrderedDict()
    for name, info in header.items():
        if name == '__metadata__':
            continue
        start, end = info['data_offsets']
        array = np.frombuffer(data[start:end], dtype=NP_DTYPES[info['dtype']]).reshape(info['shape'])
        tensors[name] = torch.from_numpy(array.copy())
    return header, tensors


def write_safetensors(path, specs, produce, metadata=None):
    """Writes a safetensors file the way the Rust safetensors library (what transformers' save_pretrained uses) does:
    compact JSON header, "__metadata__" first, tensors sorted by name and laid out in that order, header padded
    with spaces to a multiple of 8. specs: {name: (dtype torch, shape)}; produce(name) returns the tensor, called
    one at a time in file order so that a large file never needs all its tensors in memory."""
    names = sorted(specs)
    header = OrderedDict()
    if metadata is not None:
        header['__metadata__'] = metadata
    offset = 0
    for name in names:
        dtype, shape = specs[name]
        size = int(np.prod(shape, dtype=np.int64)) * torch.tensor([], dtype=dtype).element_size()
        header[name] = OrderedDict([('dtype', ST_DTYPES[dtype]), ('shape', list(shape)), ('data_offsets', [offset, offset + size])])
        offset += size
    text = json.dumps(header, separators=(',', ':')).encode('utf-8')
    text += b' ' * (-len(text) % 8)
    tmp = Path(str(path) + '.tmp')
    with open(tmp, 'wb') as f:
        f.write(struct.pack('<Q', len(text)))
        f.write(text)
        for name in names:
            t = produce(name).detach().contiguous().cpu()
            dtype, shape = specs[name]
            assert t.dtype == dtype and list(t.shape) == list(shape), name
            f.write(t.numpy().tobytes())
    tmp.replace(path)


# ---------------------------------------------------------------- the model

def sinusoidal_positions(n_pos, dim):
    """transformers' MarianSinusoidalPositionalEmbedding weight: float64 numpy, then float32; sines in the first
    half, cosines in the second, frequency of pair i = 1 / 10000^(2i / dim)."""
    position_enc = np.array([[pos / np.power(10000, 2 * (j // 2) / dim) for j in range(dim)] for pos in range(n_pos)])
    out = torch.empty(n_pos, dim, dtype=torch.float32)
    sentinel = dim // 2 if dim % 2 == 0 else (dim // 2) + 1
    out[:, 0:sentinel] = torch.FloatTensor(np.sin(position_enc[:, 0::2]))
    out[:, sentinel:] = torch.FloatTensor(np.cos(position_enc[:, 1::2]))
    return out


ACTIVATIONS = {'swish': F.silu, 'silu': F.silu, 'relu': F.relu, 'gelu': F.gelu,
               'gelu_new': lambda x: F.gelu(x, approximate='tanh'), 'tanh': torch.tanh}


class Marian:
    """MarianMTModel's forward pass over a dict of its tensors (the names of model.safetensors)."""

    def __init__(self, config, weights):
        self.config = config
        self.W = weights
        self.d = config['d_model']
        self.embed_scale = math.sqrt(self.d) if config.get('scale_embedding', False) else 1.0
        self.positions = sinusoidal_positions(config['max_position_embeddings'], self.d)
        self.act = ACTIVATIONS[config['activation_function']]
        self.enc_heads = config['encoder_attention_heads']
        self.dec_heads = config['decoder_attention_heads']
        self.shared = weights['model.shared.weight']
        self.enc_embed = weights.get('model.encoder.embed_tokens.weight', self.shared)
        self.dec_embed = weights.get('model.decoder.embed_tokens.weight', self.shared)
        self.lm_head = weights.get('lm_head.weight', self.dec_embed)  # tied
        self.final_logits_bias = weights['final_logits_bias']
        # transformers' config.dropout, applied only while training (tools/train_marian.py sets it): 0 here.
        self.dropout = 0.0

    def linear(self, x, prefix):
        return F.linear(x, self.W[prefix + '.weight'], self.W[prefix + '.bias'])

    def drop(self, x):
        return F.dropout(x, self.dropout) if self.dropout else x

    def layer_norm(self, x, prefix):
        return F.layer_norm(x, (self.d,), self.W[prefix + '.weight'], self.W[prefix + '.bias'], eps=1e-5)

    def split(self, x, heads):
        B, T, _ = x.shape
        return x.view(B, T, heads, self.d // heads).transpose(1, 2)

    def attend(self, prefix, x, heads, k, v, mask):
        """q from x; k, v (B, H, S, hd) already projected; mask additive (B, 1, T|1, S) or None."""
        B, T, _ = x.shape
        scaling = (self.d // heads) ** -0.5
        q = self.split(self.linear(x, prefix + '.q_proj') * scaling, heads)
        scores = torch.matmul(q, k.transpose(2, 3))
        if mask is not None:
            scores = scores + mask
        probs = torch.softmax(scores, dim=-1)
        out = torch.matmul(probs, v).transpose(1, 2).reshape(B, T, self.d)
        return self.linear(out, prefix + '.out_proj')

    def kv(self, prefix, x, heads):
        return self.split(self.linear(x, prefix + '.k_proj'), heads), self.split(self.linear(x, prefix + '.v_proj'), heads)

    @staticmethod
    def padding_mask(attention_mask):
        """(B, S) of 1/0 → additive (B, 1, 1, S): 0 where kept, float32's minimum where padded."""
        return (1.0 - attention_mask[:, None, None, :].float()) * torch.finfo(torch.float32).min

    def encode(self, input_ids, attention_mask):
        B, S = input_ids.shape
        h = self.drop(F.embedding(input_ids, self.enc_embed) * self.embed_scale + self.positions[:S])
        mask = self.padding_mask(attention_mask)
        for i in range(self.config['encoder_layers']):
            p = f'model.encoder.layers.{i}'
            k, v = self.kv(p + '.self_attn', h, self.enc_heads)
            h = self.layer_norm(h + self.drop(self.attend(p + '.self_attn', h, self.enc_heads, k, v, mask)), p + '.self_attn_layer_norm')
            f = self.linear(self.act(self.linear(h, p + '.fc1')), p + '.fc2')
            h = self.layer_norm(h + self.drop(f), p + '.final_layer_norm')
        return h

    def decoder_layer(self, i, h, self_k, self_v, self_mask, cross_k, cross_v, cross_mask):
        p = f'model.decoder.layers.{i}'
        h = self.layer_norm(h + self.drop(self.attend(p + '.self_attn', h, self.dec_heads, self_k, self_v, self_mask)), p + '.self_attn_layer_norm')
        h = self.layer_norm(h + self.drop(self.attend(p + '.encoder_attn', h, self.dec_heads, cross_k, cross_v, cross_mask)), p + '.encoder_attn_layer_norm')
        f = self.linear(self.act(self.linear(h, p + '.fc1')), p + '.fc2')
        return self.layer_norm(h + self.drop(f), p + '.final_layer_norm')

    def logits(self, h):
        return F.linear(h, self.lm_head) + self.final_logits_bias

    def decode_full(self, decoder_ids, encoder_out, attention_mask):
        """Teacher-forced decoder pass (causal self-attention): logits (B, T, V)."""
        B, T = decoder_ids.shape
        h = self.drop(F.embedding(decoder_ids, self.dec_embed) * self.embed_scale + self.positions[:T])
        causal = torch.full((T, T), torch.finfo(torch.float32).min).triu(1)[None, None]
        cross_mask = self.padding_mask(attention_mask)
        for i in range(self.config['decoder_layers']):
            p = f'model.decoder.layers.{i}'
            k, v = self.kv(p + '.self_attn', h, self.dec_heads)
            ck, cv = self.kv(p + '.encoder_attn', encoder_out, self.dec_heads)
            h = self.decoder_layer(i, h, k, v, causal, ck, cv, cross_mask)
        return self.logits(h)

    def start_state(self, encoder_out, attention_mask):
        """Incremental decoding state: per layer the cross k/v (computed once) and the growing self k/v."""
        cross = [self.kv(f'model.decoder.layers.{i}.encoder_attn', encoder_out, self.dec_heads) for i in range(self.config['decoder_layers'])]
        return {'cross': cross, 'self': [None] * self.config['decoder_layers'], 'mask': self.padding_mask(attention_mask), 'length': 0}

    def step(self, state, tokens):
        """One decoder step for every row: tokens (N,) → logits (N, V); state grows by one position."""
        pos = state['length']
        h = F.embedding(tokens[:, None], self.dec_embed) * self.embed_scale + self.positions[pos:pos + 1]
        for i in range(self.config['decoder_layers']):
            k, v = self.kv(f'model.decoder.layers.{i}.self_attn', h, self.dec_heads)
            if state['self'][i] is not None:
                k = torch.cat([state['self'][i][0], k], dim=2)
                v = torch.cat([state['self'][i][1], v], dim=2)
            state['self'][i] = (k, v)
            ck, cv = state['cross'][i]
            h = self.decoder_layer(i, h, k, v, None, ck, cv, state['mask'])
        state['length'] = pos + 1
        return self.logits(h)[:, 0]

    @staticmethod
    def reorder(state, index):
        state['self'] = [(k.index_select(0, index), v.index_select(0, index)) for k, v in state['self']]


# ---------------------------------------------------------------- generation

class Generation:
    """The generation settings transformers' generate() reads, from generation_config.json over config.json."""

    def __init__(self, config, generation):
        get = lambda key, default=None: generation.get(key, config.get(key, default))
        self.pad = get('pad_token_id')
        eos = get('eos_token_id')
        self.eos = eos if isinstance(eos, list) else [eos]
        self.start = get('decoder_start_token_id')
        if self.start is None:
            self.start = get('bos_token_id', self.pad)
        self.limit = get('max_new_tokens') + 1 if get('max_new_tokens') is not None else get('max_length', 20)
        self.num_beams = get('num_beams', 1)
        self.length_penalty = get('length_penalty', 1.0)
        self.early_stopping = get('early_stopping', False)
        bad = get('bad_words_ids') or []
        self.bad_words = [w for w in bad if not (len(w) == 1 and w[0] in self.eos)]
        forced = get('forced_eos_token_id')
        self.forced_eos = None if forced is None else (forced if isinstance(forced, list) else [forced])
        for key, inert in (('do_sample', (False, None)), ('no_repeat_ngram_size', (0, None)), ('repetition_penalty', (1.0, None)),
                           ('min_length', (0, None)), ('min_new_tokens', (0, None)), ('num_beam_groups', (1, None))):
            if get(key) not in inert:
                raise SystemExit(f'{key}={get(key)!r} is not implemented here')

    def process(self, input_ids, scores):
        """NoBadWordsLogitsProcessor then ForcedEOSTokenLogitsProcessor; input_ids (N, cur_len), scores (N, V)."""
        cur_len = input_ids.shape[1]
        banned = torch.zeros_like(scores, dtype=torch.bool)
        for words in self.bad_words:
            if len(words) == 1:
                banned[:, words[0]] = True
            else:
                prefix = torch.tensor(words[:-1])
                if cur_len >= len(prefix):
                    hit = (input_ids[:, cur_len - len(prefix):] == prefix).all(dim=1)
                    banned[hit, words[-1]] = True
        scores = scores.masked_fill(banned, -math.inf)
        if self.forced_eos is not None and cur_len == self.limit - 1:
            scores = torch.full_like(scores, -math.inf)
            scores[:, self.forced_eos] = 0
        return scores


@torch.no_grad()
def greedy(model, gen, input_ids, attention_mask):
    """transformers' _sample with do_sample false: ids (B, ≤ limit), finished rows padded."""
    B = input_ids.shape[0]
    state = model.start_state(model.encode(input_ids, attention_mask), attention_mask)
    seqs = torch.full((B, 1), gen.start, dtype=torch.long)
    unfinished = torch.ones(B, dtype=torch.long)
    eos = torch.tensor(gen.eos)
    while True:
        logits = model.step(state, seqs[:, -1])
        scores = gen.process(seqs, logits.float())
        nxt = scores.argmax(dim=-1)
        nxt = nxt * unfinished + gen.pad * (1 - unfinished)
        seqs = torch.cat([seqs, nxt[:, None]], dim=1)
        done = torch.isin(nxt, eos) | (seqs.shape[1] >= gen.limit)
        unfinished = unfinished & ~done
        if unfinished.max() == 0:
            return seqs


@torch.no_grad()
def beam_search(model, gen, input_ids, attention_mask, num_return=1):
    """transformers' vectorised _beam_search: (sequences (B·num_return, L), sequences_scores (B·num_return,))."""
    B = input_ids.shape[0]
    K = gen.num_beams
    limit = gen.limit
    prompt = 1
    cur_len = 1
    encoder_out = model.encode(input_ids, attention_mask)
    state = model.start_state(encoder_out.repeat_interleave(K, dim=0), attention_mask.repeat_interleave(K, dim=0))
    V = model.final_logits_bias.shape[-1]
    keep = max(2, 1 + len(gen.eos)) * K
    top_num_beam_mask = torch.cat([torch.ones(K, dtype=torch.bool), torch.zeros(keep - K, dtype=torch.bool)])
    eos = torch.tensor(gen.eos)
    lp = gen.length_penalty
    early = gen.early_stopping

    running_sequences = torch.full((B, K, limit), gen.pad, dtype=torch.long)
    running_sequences[:, :, 0] = gen.start
    sequences = running_sequences.clone()
    running_beam_scores = torch.zeros(B, K, dtype=torch.float32)
    running_beam_scores[:, 1:] = -1e9
    beam_scores = torch.full((B, K), -1e9, dtype=torch.float32)
    is_sent_finished = torch.zeros(B, K, dtype=torch.bool)
    heuristic_unsatisfied = torch.ones(B, 1, dtype=torch.bool)
    running_beam_indices = torch.full((B, K, limit - prompt), -1, dtype=torch.long)
    beam_indices = running_beam_indices.clone()

    def gather(t, index):
        return torch.gather(t, 1, index.view(index.shape + (1,) * (t.dim() - 2)).expand(index.shape + t.shape[2:]))

    while True:
        flat = running_sequences.view(B * K, limit)[:, :cur_len]
        logits = model.step(state, flat[:, -1])
        log_probs = F.log_softmax(logits.float(), dim=-1)
        log_probs = gen.process(flat, log_probs)
        log_probs = (log_probs + running_beam_scores.view(B * K, 1)).view(B, K * V)

        # _get_top_k_continuations
        topk_log_probs, topk_indices = torch.topk(log_probs, k=keep)
        topk_current_beam = torch.div(topk_indices, V, rounding_mode='floor')
        topk_running_beam_indices = gather(running_beam_indices, topk_current_beam)
        topk_running_sequences = gather(running_sequences, topk_current_beam)
        topk_ids = topk_indices % V
        topk_running_sequences[:, :, cur_len] = topk_ids
        topk_running_beam_indices[:, :, cur_len - prompt] = topk_current_beam + (torch.arange(B) * K)[:, None]

        # stopping criteria (EOS, max length) on the candidates' sequences of cur_len + 1 tokens
        hits = torch.isin(topk_ids, eos) | (cur_len + 1 >= limit)

        # _get_running_beams_for_next_iteration
        topk_running_log_probs = topk_log_probs + hits.to(torch.float32) * -1.0e9
        next_topk = torch.topk(topk_running_log_probs, k=K)[1]
        running_sequences = gather(topk_running_sequences, next_topk)
        running_beam_scores = gather(topk_running_log_probs, next_topk)
        running_beam_indices = gather(topk_running_beam_indices, next_topk)

        # _update_finished_beams
        did_top_just_finish = hits & top_num_beam_mask[None, :]
        finished_scores = topk_log_probs / ((cur_len + 1 - prompt) ** lp)
        full = is_sent_finished.all(dim=-1, keepdim=True) & (early is True)
        finished_scores = finished_scores + full.to(torch.float32) * -1.0e9
        finished_scores = finished_scores + (~heuristic_unsatisfied).to(torch.float32) * -1.0e9
        finished_scores = finished_scores + (~did_top_just_finish).to(torch.float32) * -1.0e9
        merged_sequences = torch.cat([sequences, topk_running_sequences], dim=1)
        merged_scores = torch.cat([beam_scores, finished_scores], dim=1)
        merged_beam_indices = torch.cat([beam_indices, topk_running_beam_indices], dim=1)
        merged_finished = torch.cat([is_sent_finished, did_top_just_finish], dim=1)
        top_merged = torch.topk(merged_scores, k=K)[1]
        sequences = gather(merged_sequences, top_merged)
        beam_scores = gather(merged_scores, top_merged)
        beam_indices = gather(merged_beam_indices, top_merged)
        is_sent_finished = gather(merged_finished, top_merged)

        # reorder the cache for the next step
        Marian.reorder(state, running_beam_indices[:, :, cur_len - prompt].reshape(B * K))
        cur_len += 1

        # _check_early_stop_heuristic
        best_len = (limit - prompt) if (early == 'never' and lp > 0.0) else (cur_len - prompt)
        best_possible = running_beam_scores[:, :1] / (best_len ** lp)
        worst_finished = torch.where(is_sent_finished, torch.min(beam_scores, dim=1, keepdim=True)[0], torch.tensor(-1.0e9))
        heuristic_unsatisfied = heuristic_unsatisfied & torch.any(best_possible > worst_finished, dim=-1, keepdim=True)

        # _beam_search_has_unfinished_sequences
        improvement_possible = bool(heuristic_unsatisfied.any())
        exists_open_beam = not (bool(is_sent_finished.all()) and early is True)
        valid_continuations = not bool(hits.all())
        if not (improvement_possible and exists_open_beam and valid_continuations):
            break

    sequences = sequences[:, :num_return].reshape(B * num_return, limit)
    scores = beam_scores[:, :num_return].reshape(B * num_return)
    beam_indices = beam_indices[:, :num_return].reshape(B * num_return, -1)
    generated = int((beam_indices + 1).bool().sum(dim=1).max())
    return sequences[:, :prompt + generated], scores


# ---------------------------------------------------------------- loading and --check

def load(directory):
    directory = Path(directory)
    config = json.loads((directory / 'config.json').read_text())
    gen_path = directory / 'generation_config.json'
    generation = json.loads(gen_path.read_text()) if gen_path.exists() else {}
    _, weights = read_safetensors(directory / 'model.safetensors')
    return Marian(config, weights), Generation(config, generation)


def ids_to_text(ids, pieces, special):
    """MarianTokenizer.decode(skip_special_tokens=True) for plain pieces: join, '▁' → space, strip."""
    return ''.join(pieces[i] for i in ids if i not in special).replace('\u2581', ' ').strip()


class Tally:
    def __init__(self):
        self.err = {}
        self.bad = {}
        self.count = {}

    def close(self, name, got, want):
        e = float((torch.as_tensor(got, dtype=torch.float64) - torch.as_tensor(want, dtype=torch.float64)).abs().max())
        self.err[name] = max(self.err.get(name, 0.0), e)
        self.count[name] = self.count.get(name, 0) + 1
        if e > TOLERANCE:
            self.bad[name] = self.bad.get(name, 0) + 1

    def same(self, name, got, want, where):
        self.count[name] = self.count.get(name, 0) + 1
        if got != want:
            self.bad[name] = self.bad.get(name, 0) + 1
            print(f'  MISMATCH {name} [{where}]\n    got  {got}\n    want {want}')


@torch.no_grad()
def check(directory):
    directory = Path(directory)
    model, gen = load(directory)
    expected = json.loads((directory / 'expected.json').read_text())
    vocab = json.loads((directory / 'vocab.json').read_text())
    pieces = {i: p for p, i in vocab.items()}
    special = {gen.pad, *gen.eos}
    assert gen.num_beams == expected['generation']['num_beams'] and gen.limit == expected['generation']['max_new_tokens'] + 1
    t = Tally()
    print(f'torch {torch.__version__}; {directory}: {len(expected["cases"])} cases, '
          f'beam {gen.num_beams}, limit {gen.limit} tokens, length_penalty {gen.length_penalty}, early_stopping {gen.early_stopping}')
    for n, c in enumerate(expected['cases']):
        where = f'case {n} {c["source"]!r}'
        ids = torch.tensor([c['input_ids']])
        mask = torch.ones_like(ids)
        enc = model.encode(ids, mask)
        t.close('encoder first row', enc[0, 0], c['encoder_last_hidden_first_row'])
        dec = torch.tensor([c['teacher_forced_decoder_input_ids']])
        logits = model.decode_full(dec, enc, mask)[0]
        t.close('teacher-forced logits first 3 rows', logits[:3], c['teacher_forced_logits_first3'])
        t.close('teacher-forced logits row max', logits.max(dim=-1)[0], c['teacher_forced_logits_rowmax'])
        t.same('teacher-forced argmax', logits.argmax(dim=-1).tolist(), c['teacher_forced_logits_argmax'], where)
        g = greedy(model, gen, ids, mask)[0].tolist()
        t.same('greedy ids', g, c['greedy_ids'], where)
        t.same('greedy text (info)', ids_to_text(g, pieces, special), c['greedy_text'], where)
        seqs, scores = beam_search(model, gen, ids, mask, num_return=2)
        t.same('beam-4 top-2 ids', seqs.tolist(), c['beam4_ids'], where)
        t.close('beam-4 top-2 scores', scores, c['beam4_scores'])
        t.same('beam-4 texts (info)', [ids_to_text(s, pieces, special) for s in seqs.tolist()], c['beam4_texts'], where)
    batch = expected['batched_beam4_first8']
    by_source = {c['source']: c['input_ids'] for c in expected['cases']}
    rows = [by_source[s] for s in batch['sources']]
    width = max(map(len, rows))
    ids = torch.tensor([r + [gen.pad] * (width - len(r)) for r in rows])
    mask = torch.tensor([[1] * len(r) + [0] * (width - len(r)) for r in rows])
    seqs, _ = beam_search(model, gen, ids, mask, num_return=1)
    t.same('batch of 8, beam 4, ids', seqs.tolist(), batch['ids'], 'batched_beam4_first8')
    t.same('batch of 8 texts (info)', [ids_to_text(s, pieces, special) for s in seqs.tolist()], batch['texts'], 'batched_beam4_first8')

    print(f'{"quantity":40} {"compared":>8} {"max abs err":>12} {"mismatches":>10}')
    for name in t.count:
        err = f'{t.err[name]:.3e}' if name in t.err else '-'
        print(f'{name:40} {t.count[name]:8} {err:>12} {t.bad.get(name, 0):10}')

    # The writer --random-weights uses, over the fixture's own tensors: the same bytes?
    header, tensors = read_safetensors(directory / 'model.safetensors')
    out = Path('/tmp/marian_torch_roundtrip.safetensors')
    write_safetensors(out, {k: (v.dtype, list(v.shape)) for k, v in tensors.items()}, tensors.__getitem__, header.get('__metadata__'))
    same_bytes = out.read_bytes() == (directory / 'model.safetensors').read_bytes()
    out.unlink()
    print(f'safetensors writer round trip: {"identical bytes" if same_bytes else "DIFFERENT bytes"}')

    failed = [n for n in t.bad if '(info)' not in n]
    if failed or not same_bytes:
        print('FAIL: ' + ', '.join(failed + ([] if same_bytes else ['safetensors round trip'])))
        return 1
    print('OK: every id matches and every error is within 1e-4')
    return 0


# ---------------------------------------------------------------- the directory's layout, and --random-weights

def marian_config(d_model, layers, heads, ffn, vocab, max_positions, decoder_layers=None):
    """config.json of a Marian at this size (decoder_layers: layers unless given): the fixture's (opus-mt's
    fields) with this vocabulary's ids (pad = decoder start = vocab − 1, eos 0)."""
    pad = vocab - 1
    config = json.loads((FIXTURE / 'config.json').read_text())
    config.update({
        'd_model': d_model, 'encoder_layers': layers, 'decoder_layers': layers if decoder_layers is None else decoder_layers,
        'encoder_attention_heads': heads, 'decoder_attention_heads': heads,
        'encoder_ffn_dim': ffn, 'decoder_ffn_dim': ffn,
        'vocab_size': vocab, 'decoder_vocab_size': vocab, 'pad_token_id': pad, 'decoder_start_token_id': pad,
        'eos_token_id': 0, 'forced_eos_token_id': 0, 'max_position_embeddings': max_positions,
    })
    return config


def generation_config(vocab):
    """generation_config.json: the fixture's settings (beam 4, 48 new tokens) with this vocabulary's ids, the pad banned."""
    pad = vocab - 1
    generation = json.loads((FIXTURE / 'generation_config.json').read_text())
    generation.update({'bad_words_ids': [[pad]], 'decoder_start_token_id': pad, 'pad_token_id': pad, 'eos_token_id': 0, 'forced_eos_token_id': 0})
    return generation


def tensor_specs(d_model, layers, ffn, vocab, decoder_layers=None):
    """{name: (dtype, shape)} of every tensor of a MarianMTModel's model.safetensors (shared, tied embeddings;
    decoder_layers: layers unless given)."""
    f32 = torch.float32
    specs = {'final_logits_bias': (f32, [1, vocab]), 'model.shared.weight': (f32, [vocab, d_model])}

    def linear(prefix, n_out, n_in):
        specs[prefix + '.weight'] = (f32, [n_out, n_in])
        specs[prefix + '.bias'] = (f32, [n_out])

    def norm(prefix):
        specs[prefix + '.weight'] = (f32, [d_model])
        specs[prefix + '.bias'] = (f32, [d_model])

    stacks = (('encoder', ('self_attn',), layers), ('decoder', ('self_attn', 'encoder_attn'), layers if decoder_layers is None else decoder_layers))
    for side, attns, count in stacks:
        for i in range(count):
            p = f'model.{side}.layers.{i}'
            for a in attns:
                for proj in ('q_proj', 'k_proj', 'v_proj', 'out_proj'):
                    linear(f'{p}.{a}.{proj}', d_model, d_model)
                norm(f'{p}.{a}_layer_norm')
            linear(p + '.fc1', ffn, d_model)
            linear(p + '.fc2', d_model, ffn)
            norm(p + '.final_layer_norm')
    return specs


def write_json(path, value):
    Path(path).write_text(json.dumps(value, indent=2, sort_keys=True) + '\n')


def random_weights(out_dir, d_model, layers, heads, ffn, vocab, max_positions, seed):
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    pad = vocab - 1
    config = marian_config(d_model, layers, heads, ffn, vocab, max_positions)
    write_json(out_dir / 'config.json', config)
    write_json(out_dir / 'generation_config.json', generation_config(vocab))
    specs = tensor_specs(d_model, layers, ffn, vocab)

    std = config.get('init_std', 0.02)
    generator = torch.Generator().manual_seed(seed)

    def produce(name):
        dtype, shape = specs[name]
        if name.endswith('_layer_norm.weight'):
            return torch.ones(shape, dtype=dtype)
        if name.endswith('.bias') or name == 'final_logits_bias':
            return torch.zeros(shape, dtype=dtype)
        w = torch.empty(shape, dtype=dtype).normal_(0.0, std, generator=generator)
        if name == 'model.shared.weight':
            w[pad] = 0  # nn.Embedding's padding_idx row
        return w

    write_safetensors(out_dir / 'model.safetensors', specs, produce, OrderedDict([('format', 'pt')]))
    fixture_vocab = json.loads((FIXTURE / 'config.json').read_text())['vocab_size']
    if vocab == fixture_vocab:
        for name in TOKENIZER_FILES:
            shutil.copyfile(FIXTURE / name, out_dir / name)
        note = f'tokenizer files copied from {FIXTURE.name} (same vocabulary size {vocab})'
    else:
        (out_dir / 'README.md').write_text(
            f'Random-weight Marian (opus-mt layout) written by tools/marian_torch.py --random-weights '
            f'(d_model {d_model}, {layers}+{layers} layers, {heads} heads, ffn {ffn}, vocab {vocab}, seed {seed}).\n\n'
            f'No tokenizer files: the vocabulary ({vocab}) is not the fixture\'s ({fixture_vocab}). For model-only speed '
            f'benches: feed token ids < {vocab}; pad = decoder start = {pad}, eos = 0. The output is meaningless.\n')
        note = f'no tokenizer files (vocab {vocab} ≠ fixture {fixture_vocab}): model-only benches, see README.md'
    params = sum(int(np.prod(s)) for _, s in specs.values())
    size = (out_dir / 'model.safetensors').stat().st_size
    print(f'wrote {out_dir}: {len(specs)} tensors, {params:,} parameters, model.safetensors {size / 1e6:.1f} MB; {note}')


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n\n')[0], formatter_class=argparse.RawDescriptionHelpFormatter)
    mode = ap.add_mutually_exclusive_group(required=True)
    mode.add_argument('--check', metavar='DIR', help='recompute DIR/expected.json and compare')
    mode.add_argument('--random-weights', metavar='OUT_DIR', help='write a random-weight Marian directory')
    ap.add_argument('--d-model', type=int, default=512)
    ap.add_argument('--layers', type=int, default=6)
    ap.add_argument('--heads', type=int, default=8)
    ap.add_argument('--ffn', type=int, default=2048)
    ap.add_argument('--vocab', type=int, default=58101)
    ap.add_argument('--max-positions', type=int, default=512)
    ap.add_argument('--seed', type=int, default=20261204)
    args = ap.parse_args()
    torch.set_num_threads(min(torch.get_num_threads(), 8))
    if args.check:
        sys.exit(check(args.check))
    if args.d_model % args.heads:
        ap.error('--d-model must be a multiple of --heads')
    random_weights(args.random_weights, args.d_model, args.layers, args.heads, args.ffn, args.vocab, args.max_positions, args.seed)


if __name__ == '__main__':
    main()
