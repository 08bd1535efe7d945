"""The encoder–decoder Transformer of src/models/transformer.ts, in PyTorch.

The same network in both places, parameter for parameter: its state_dict()
names are the tensor names of model.safetensors, Linear weights stay in
PyTorch's [out, in] layout, and every choice the config allows (post- or
pre-norm, sinusoidal or learned positions, tied or untied output, ReLU or
GELU) is spelled out here so parity fixtures and training use one definition.

    model = Transformer(config); logits = model(src, tgt_in)   # teacher-forced
    greedy_search(model, src, max_lengths)                    # incremental, KV cache
    beam_search(model, src, beam, max_lengths)
"""
import json
import math

import torch
import torch.nn as nn
import torch.nn.functional as F


def default_config():
    return {
        "architecture": "transformer",
        "format_version": 1,
        "src_vocab_size": 1000,
        "tgt_vocab_size": 1000,
        "d_model": 256,
        "heads": 4,
        "d_ff": 1024,
        "encoder_layers": 3,
        "decoder_layers": 3,
        "activation": "relu",
        "norm": "post",
        "positions": "sinusoidal",
        "max_positions": 256,
        "scale_embeddings": True,
        "tie_output": True,
        "layer_norm_eps": 1e-5,
        "bos_id": 1,
        "eos_id": 2,
        "pad_id": 3,
    }


def load_config(path):
    with open(path) as f:
        return json.load(f)


def sinusoidal_positions(n, d):
    """PE[p, 2i] = sin(p / 10000^(2i/d)), PE[p, 2i+1] = cos(…), computed in float64 then rounded once."""
    pos = torch.arange(n, dtype=torch.float64)[:, None]
    i = torch.arange(0, d, 2, dtype=torch.float64)[None, :]
    angle = pos / torch.pow(10000.0, i / d)
    pe = torch.zeros(n, d, dtype=torch.float64)
    pe[:, 0::2] = torch.sin(angle)
    pe[:, 1::2] = torch.cos(angle[:, : d // 2])
    return pe.float()


class Attention(nn.Module):
    def __init__(self, d, heads):
        super().__init__()
        self.heads, self.dk = heads, d // heads
        self.q, self.k, self.v, self.o = (nn.Linear(d, d) for _ in range(4))

    def split(self, x):  # (B, T, d) → (B, H, T, dk)
        B, T, _ = x.shape
        return x.view(B, T, self.heads, self.dk).transpose(1, 2)

    def attend(self, q, k, v, key_padding=None, causal=False, dropout=0.0):
        """q (B, H, Tq, dk), k/v (B, H, Tk, dk); key_padding (B, Tk) True = padding."""
        scores = q @ k.transpose(-1, -2) / math.sqrt(self.dk)
        Tq, Tk = q.shape[2], k.shape[2]
        if causal:
            # Bottom-right aligned: query i sees keys j ≤ i + Tk − Tq.
            hide = torch.ones(Tq, Tk, dtype=torch.bool).triu(Tk - Tq + 1)
            scores = scores.masked_fill(hide, float("-inf"))
        if key_padding is not None:
            scores = scores.masked_fill(key_padding[:, None, None, :], float("-inf"))
        weights = F.dropout(scores.softmax(-1), dropout, self.training)
        out = (weights @ v).transpose(1, 2)
        return self.o(out.reshape(out.shape[0], out.shape[1], -1))

    def forward(self, x, memory=None, key_padding=None, causal=False, dropout=0.0):
        kv = x if memory is None else memory
        return self.attend(self.split(self.q(x)), self.split(self.k(kv)), self.split(self.v(kv)),
                           key_padding, causal, dropout)


class FeedForward(nn.Module):
    def __init__(self, d, d_ff, activation):
        super().__init__()
        self.linear1, self.linear2 = nn.Linear(d, d_ff), nn.Linear(d_ff, d)
        self.act = F.relu if activation == "relu" else F.gelu  # exact (erf) GELU

    def forward(self, x, dropout=0.0):
        return self.linear2(F.dropout(self.act(self.linear1(x)), dropout, self.training))


class EncoderLayer(nn.Module):
    def __init__(self, c):
        super().__init__()
        d, eps = c["d_model"], c["layer_norm_eps"]
        self.self_attn = Attention(d, c["heads"])
        self.ff = FeedForward(d, c["d_ff"], c["activation"])
        self.norm1, self.norm2 = nn.LayerNorm(d, eps=eps), nn.LayerNorm(d, eps=eps)
        self.pre = c["norm"] == "pre"

    def forward(self, x, src_padding, dropout=0.0):
        if self.pre:
            x = x + F.dropout(self.self_attn(self.norm1(x), key_padding=src_padding, dropout=dropout), dropout, self.training)
            return x + F.dropout(self.ff(self.norm2(x), dropout), dropout, self.training)
        x = self.norm1(x + F.dropout(self.self_attn(x, key_padding=src_padding, dropout=dropout), dropout, self.training))
        return self.norm2(x + F.dropout(self.ff(x, dropout), dropout, self.training))


class DecoderLayer(nn.Module):
    def __init__(self, c):
        super().__init__()
        d, eps = c["d_model"], c["layer_norm_eps"]
        self.self_attn, self.cross_attn = Attention(d, c["heads"]), Attention(d, c["heads"])
        self.ff = FeedForward(d, c["d_ff"], c["activation"])
        self.norm1, self.norm2, self.norm3 = (nn.LayerNorm(d, eps=eps) for _ in range(3))
        self.pre = c["norm"] == "pre"

    def sublayers(self, x, self_attention, cross_attention, dropout=0.0):
        """The three sublayers around the two attentions, given as functions of their input, so the
        teacher-forced pass and the cached incremental step share the Add & Norm wiring."""
        drop = lambda y: F.dropout(y, dropout, self.training)  # noqa: E731
        if self.pre:
            x = x + drop(self_attention(self.norm1(x)))
            x = x + drop(cross_attention(self.norm2(x)))
            return x + drop(self.ff(self.norm3(x), dropout))
        x = self.norm1(x + drop(self_attention(x)))
        x = self.norm2(x + drop(cross_attention(x)))
        return self.norm3(x + drop(self.ff(x, dropout)))

    def forward(self, x, memory, src_padding, dropout=0.0):
        return self.sublayers(x, lambda h: self.self_attn(h, causal=True, dropout=dropout),
                              lambda h: self.cross_attn(h, memory, src_padding, dropout=dropout), dropout)


class Stack(nn.Module):
    def __init__(self, c, vocab, layer, count):
        super().__init__()
        self.embed = nn.Embedding(vocab, c["d_model"])
        nn.init.normal_(self.embed.weight, std=c["d_model"] ** -0.5)
        if c["positions"] == "learned":
            self.positions = nn.Embedding(c["max_positions"], c["d_model"])
        self.layers = nn.ModuleList(layer(c) for _ in range(count))
        if c["norm"] == "pre":
            self.norm = nn.LayerNorm(c["d_model"], eps=c["layer_norm_eps"])


class Transformer(nn.Module):
    def __init__(self, config):
        super().__init__()
        c = self.config = config
        self.encoder = Stack(c, c["src_vocab_size"], EncoderLayer, c["encoder_layers"])
        self.decoder = Stack(c, c["tgt_vocab_size"], DecoderLayer, c["decoder_layers"])
        if not c["tie_output"]:
            self.output = nn.Linear(c["d_model"], c["tgt_vocab_size"], bias=False)
        self.register_buffer("sinusoids", sinusoidal_positions(c["max_positions"], c["d_model"]), persistent=False)

    def embed(self, stack, tokens, offset=0):
        c = self.config
        x = stack.embed(tokens)
        if c["scale_embeddings"]:
            x = x * math.sqrt(c["d_model"])
        T = tokens.shape[1]
        if offset + T > c["max_positions"]:
            raise ValueError(f"sequence of {offset + T} tokens exceeds max_positions {c['max_positions']}")
        if c["positions"] == "learned":
            return x + stack.positions.weight[offset:offset + T]
        return x + self.sinusoids[offset:offset + T]

    def encode(self, src, dropout=0.0):
        """src (B, S) padded with pad_id → memory (B, S, d), padding (B, S)."""
        padding = src == self.config["pad_id"]
        x = F.dropout(self.embed(self.encoder, src), dropout, self.training)
        for layer in self.encoder.layers:
            x = layer(x, padding, dropout)
        if self.config["norm"] == "pre":
            x = self.encoder.norm(x)
        return x, padding

    def project(self, h):
        if self.config["tie_output"]:
            return h @ self.decoder.embed.weight.t()
        return self.output(h)

    def decode(self, tgt_in, memory, src_padding, dropout=0.0):
        """Teacher-forced decoder: tgt_in (B, T) starting with bos → logits (B, T, V).

        Target padding needs no mask: pads come after the real tokens and the
        causal mask already hides later positions from earlier ones."""
        x = F.dropout(self.embed(self.decoder, tgt_in), dropout, self.training)
        for layer in self.decoder.layers:
            x = layer(x, memory, src_padding, dropout)
        if self.config["norm"] == "pre":
            x = self.decoder.norm(x)
        return self.project(x)

    def forward(self, src, tgt_in, dropout=0.0):
        memory, padding = self.encode(src, dropout)
        return self.decode(tgt_in, memory, padding, dropout)

    # ---- incremental decoding (KV cache), as hibiki runs it ----
    def step(self, token, position, memory_kv, src_padding, cache):
        """One decoder step for tokens (B,) at position → logits (B, V); cache grows per layer."""
        x = self.embed(self.decoder, token[:, None], position)
        for i, layer in enumerate(self.decoder.layers):
            def self_attention(h, a=layer.self_attn, i=i):
                k, v = a.split(a.k(h)), a.split(a.v(h))
                if i in cache:
                    k, v = torch.cat([cache[i][0], k], 2), torch.cat([cache[i][1], v], 2)
                cache[i] = (k, v)
                return a.attend(a.split(a.q(h)), k, v)

            def cross_attention(h, a=layer.cross_attn, kv=memory_kv[i]):
                return a.attend(a.split(a.q(h)), kv[0], kv[1], src_padding)
            x = layer.sublayers(x, self_attention, cross_attention)
        if self.config["norm"] == "pre":
            x = self.decoder.norm(x)
        return self.project(x)[:, 0]

    def cross_kv(self, memory):
        """Encoder–decoder keys and values: computed once per sentence."""
        return [(l.cross_attn.split(l.cross_attn.k(memory)), l.cross_attn.split(l.cross_attn.v(memory)))
                for l in self.decoder.layers]


def log_softmax64(logits):
    return F.log_softmax(logits.double(), -1)


@torch.no_grad()
def greedy_search(model, src, max_lengths):
    """src/decode/search.ts greedySearch: → [(tokens, logprob)] per sentence."""
    c = model.config
    memory, padding = model.encode(src)
    memory_kv = model.cross_kv(memory)
    B = src.shape[0]
    token = torch.full((B,), c["bos_id"], dtype=torch.long)
    done = [False] * B
    out = [([], 0.0) for _ in range(B)]
    cache = {}
    for t in range(max(max_lengths)):
        if all(done):
            break
        logits = model.step(token, t, memory_kv, padding, cache)
        lp = log_softmax64(logits)
        for b in range(B):
            if done[b]:
                token[b] = c["eos_id"]
                continue
            nxt = int(logits[b].argmax())
            tokens, logprob = out[b]
            out[b] = (tokens if nxt == c["eos_id"] else tokens + [nxt], logprob + float(lp[b, nxt]))
            token[b] = nxt
            done[b] = nxt == c["eos_id"] or t + 1 >= max_lengths[b]
    return out


@torch.no_grad()
def beam_search(model, src, beam, max_lengths, length_penalty=1.0, n_best=1):
    """src/decode/search.ts beamSearch, rule for rule: → per sentence [(tokens, logprob, score)] best first."""
    c = model.config
    K, eos = beam, c["eos_id"]
    B = src.shape[0]
    R = B * K
    memory, padding = model.encode(src)
    memory = memory.repeat_interleave(K, 0)
    padding = padding.repeat_interleave(K, 0)
    memory_kv = model.cross_kv(memory)
    norm = (lambda lp, n: lp) if length_penalty == 0 else (lambda lp, n: lp / n ** length_penalty)
    finished = [[] for _ in range(B)]
    done = [False] * B
    scores = [0.0 if r % K == 0 else float("-inf") for r in range(R)]
    history = [[] for _ in range(R)]
    tokens = [c["bos_id"]] * R
    cache = {}
    for t in range(max(max_lengths)):
        if all(done):
            break
        logits = model.step(torch.tensor(tokens), t, memory_kv, padding, cache)
        lp = log_softmax64(logits)
        V = lp.shape[1]
        parent, next_tokens = list(range(R)), [eos] * R
        next_scores, next_history = [float("-inf")] * R, [[] for _ in range(R)]
        for b in range(B):
            base = b * K
            if done[b]:
                for k in range(K):
                    next_history[base + k] = history[base + k]
                continue
            cands = []
            for k in range(K):
                if scores[base + k] == float("-inf"):
                    continue
                total = scores[base + k] + lp[base + k]
                cands += [(-float(total[v]), k * V + v) for v in range(V)]
            best = sorted(cands)[:2 * K]
            live = 0
            for rank, (neg, i) in enumerate(best):
                if live >= K:
                    break
                k, v = divmod(i, V)
                score = -neg
                if v == eos:
                    if rank < K:
                        h = history[base + k]
                        finished[b].append((list(h), score, norm(score, len(h) + 1)))
                    continue
                parent[base + live] = base + k
                next_tokens[base + live] = v
                next_scores[base + live] = score
                next_history[base + live] = history[base + k] + [v]
                live += 1
            for k in range(live, K):
                parent[base + k] = base
            if t + 1 >= max_lengths[b]:
                for k in range(live):
                    h = next_history[base + k]
                    finished[b].append((h, next_scores[base + k], norm(next_scores[base + k], len(h))))
                done[b] = True
            elif len(finished[b]) >= K:
                kth = sorted((h[2] for h in finished[b]), reverse=True)[K - 1]
                best_live = max((norm(next_scores[base + k], len(next_history[base + k])) for k in range(live)),
                                default=float("-inf"))
                done[b] = best_live <= kth
        scores, history, tokens = next_scores, next_history, next_tokens
        index = torch.tensor(parent)
        for i in cache:
            cache[i] = (cache[i][0].index_select(0, index), cache[i][1].index_select(0, index))
    out = []
    for hyps in finished:
        order = sorted(range(len(hyps)), key=lambda i: (-hyps[i][2], i))
        out.append([hyps[i] for i in order[:n_best]])
    return out
