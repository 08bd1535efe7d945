#!/usr/bin/env python3
"""The models of `npm run bench:peers`, each exported from one set of PyTorch
weights to every engine's format, with PyTorch's answer to check them by:

    LD_LIBRARY_PATH=/usr/lib/x86_64-linux-gnu/openblas-pthread \\
      /usr/bin/python3 tools/export_peers.py            # or: tools/export_peers.py sgemm mobilenet_v2

writes bench/peers/models/CASE/ (not committed: DenseNet-121 alone is 32 MB):

    model.onnx         for onnxruntime-web and onnxruntime-node (opset 13; 14 for the Transformer);
                       for the decoding cases the one-step model (wavenet_step) or the encoder
    step.onnx          transformer_greedy's decoder step (KV cache in and out)
    config.json,
    model.safetensors  a hibiki model directory (where the case is a model)
    io.safetensors     the inputs and PyTorch's outputs; metadata "case" (JSON)

Cases (issue 9's rows): sgemm_256/512/1024 (A · B, B a constant);
mobilenet_v2 and densenet121 at 224×224 (torchvision, random weights with
batch norms calibrated on random batches, as tools/fixtures_vision.py);
wavenet (the shipped models/wavenet-piano without its note clock: 16
layers, 32 channels, teacher-forced over 16,000 samples); mha (nn.MultiheadAttention, d 256,
8 heads, self-attention over 128 tokens); transformer (tools/transformer_torch.py,
3 + 3 layers, d 256, 8 heads, d_ff 1024, vocabularies of 1,000: the
teacher-forced forward of 8 sentences of 32 tokens); wavenet_step (the same
WaveNet generating 1,000 samples one at a time, sampled by hibiki's rule and
seed); transformer_greedy (that Transformer's architecture with an untied
output projection, greedy decoding of 8 sources of 32 tokens, up to 32 tokens).
"""
import json
import os
import sys

import torch

sys.path.insert(0, os.path.dirname(__file__))
from safetensors_io import load, save  # noqa: E402

ROOT = os.path.join(os.path.dirname(__file__), "..")
OUT = os.path.join(ROOT, "bench", "peers", "models")


def write_case(name, model, inputs, outputs, case, input_names, output_names, opset=13):
    """model.onnx and io.safetensors for one case; returns its directory."""
    out = os.path.join(OUT, name)
    os.makedirs(out, exist_ok=True)
    torch.onnx.export(model, tuple(inputs.values()), os.path.join(out, "model.onnx"), opset_version=opset,
                      input_names=input_names, output_names=output_names)
    tensors = {**{k: v.contiguous() for k, v in inputs.items()}, **{k: v.contiguous() for k, v in outputs.items()}}
    save(os.path.join(out, "io.safetensors"), tensors, {"case": json.dumps(case)})
    print(f"{name}: {', '.join(f'{k} {list(v.shape)}' for k, v in tensors.items())} -> {out}", flush=True)
    return out


class MatMulConstant(torch.nn.Module):
    def __init__(self, b):
        super().__init__()
        self.b = torch.nn.Parameter(b, requires_grad=False)

    def forward(self, a):
        return a @ self.b


def sgemm():
    for n in (256, 512, 1024):
        g = torch.Generator().manual_seed(n)
        a = torch.rand(n, n, generator=g) * 2 - 1
        b = torch.rand(n, n, generator=g) * 2 - 1
        model = MatMulConstant(b)
        write_case(f"sgemm_{n}", model, {"a": a}, {"c": model(a), "b": b}, {"kind": "sgemm", "n": n}, ["a"], ["c"])


def vision(name, seed):
    import torchvision
    from export_torchvision import write_model_dir
    from fixtures_vision import calibrate

    torch.manual_seed(seed)
    model = getattr(torchvision.models, name)(num_classes=1000)
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        calibrate(model, g, lambda: torch.rand(4, 3, 224, 224, generator=g) * 2 - 1)
    x = torch.rand(1, 3, 224, 224, generator=g) * 2 - 1  # already normalised: the engines all take NCHW floats
    with torch.no_grad():
        logits = model(x)
    out = write_case(name, model, {"x": x}, {"logits": logits}, {"kind": "classifier", "model": name}, ["x"], ["logits"])
    write_model_dir(out, name, model, [str(i) for i in range(1000)], f"random (seed {seed}), batch norms calibrated")


def piano_without_clock():
    """The shipped piano WaveNet without its note clock (config local_condition_*): the peers' drivers feed
    a class sequence and a pitch, so its four local channels are dropped; the network, its size and its
    work are the rest of it, the same."""
    from wavenet_bench import load_model

    with open(os.path.join(ROOT, "models", "wavenet-piano", "config.json")) as f:
        config = {k: v for k, v in json.load(f).items() if not k.startswith("local_condition")}
    return load_model(os.path.join(ROOT, "models", "wavenet-piano"), config)


def write_hibiki_dir(out, model):
    """config.json and model.safetensors of `model` (a WaveNet) into a case directory."""
    with open(os.path.join(out, "config.json"), "w") as f:
        json.dump(model.config, f, indent=2)
    save(os.path.join(out, "model.safetensors"), model.state_dict_for_hibiki())


def wavenet():
    model = piano_without_clock()
    g = torch.Generator().manual_seed(16000)
    x = torch.randint(0, 256, (1, 16000), generator=g)
    cond = torch.tensor([12])
    with torch.no_grad():
        logits = model(x, cond)
    out = write_case("wavenet", model, {"x": x, "cond": cond}, {"logits": logits},
                     {"kind": "wavenet", "model": "models/wavenet-piano", "samples": 16000}, ["x", "cond"], ["logits"])
    write_hibiki_dir(out, model)


def mha():
    torch.manual_seed(256)
    model = torch.nn.MultiheadAttention(256, 8, batch_first=True).eval()
    with torch.no_grad():
        model.in_proj_bias.uniform_(-0.5, 0.5)
        model.out_proj.bias.uniform_(-0.5, 0.5)

    class SelfAttention(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.mha = model

        def forward(self, x):
            return self.mha(x, x, x, need_weights=False)[0]

    x = torch.randn(1, 128, 256)
    module = SelfAttention().eval()
    with torch.no_grad():
        y = module(x)
    # exported with grad enabled: under no_grad torch 1.13 traces the fused fast path, which opset 13 lacks
    out = write_case("mha", module, {"x": x}, {"y": y}, {"kind": "mha", "heads": 8}, ["x"], ["y"])
    save(os.path.join(out, "model.safetensors"), {k: v.detach().contiguous() for k, v in module.state_dict().items()})


def transformer():
    from transformer_torch import Transformer, default_config

    config = {**default_config(), "heads": 8}
    torch.manual_seed(1000)
    model = Transformer(config).eval()
    g = torch.Generator().manual_seed(32)
    src = torch.randint(4, 1000, (8, 32), generator=g)
    src[:, -1] = config["eos_id"]
    tgt = torch.randint(4, 1000, (8, 32), generator=g)
    tgt[:, 0] = config["bos_id"]
    with torch.no_grad():
        logits = model(src, tgt)
    out = write_case("transformer", model, {"src": src, "tgt": tgt}, {"logits": logits}, {"kind": "transformer"},
                     ["src", "tgt"], ["logits"], opset=14)  # the causal mask's triu needs opset 14
    save(os.path.join(out, "model.safetensors"), {k: v.detach().contiguous() for k, v in model.state_dict().items()})
    with open(os.path.join(out, "config.json"), "w") as f:
        json.dump(config, f, indent=2)


class WaveNetStep(torch.nn.Module):
    """One sample of incremental WaveNet (kernel 2), the host keeping the queues, as fast generation is
    written for onnxruntime: x (B,) classes, cond (B,), past (L, B, R) = each layer's input d_i samples
    ago → logits (B, classes) and each layer's input now (L, B, R), for the host to queue."""

    def __init__(self, model):
        super().__init__()
        assert model.kernel == 2, "the step export is written for kernel 2"
        self.model = model

    def forward(self, x, cond, past):
        m = self.model
        D, L = m.config["dilation_channels"], len(m.dilations)
        h = m.embed(x)  # (B, R)
        bias = m.condition(cond).view(x.shape[0], L, 2 * D)
        skips, inputs = 0, []
        for i in range(L):
            inputs.append(h)
            w = m.convs[i].weight  # (2D, R, 2)
            z = torch.nn.functional.linear(past[i], w[:, :, 0]) + torch.nn.functional.linear(h, w[:, :, 1], m.convs[i].bias) + bias[:, i]
            g = torch.tanh(z[:, :D]) * torch.sigmoid(z[:, D:])
            skips = skips + torch.nn.functional.linear(g, m.skips[i].weight[:, :, 0], m.skips[i].bias)
            h = h + torch.nn.functional.linear(g, m.residuals[i].weight[:, :, 0], m.residuals[i].bias)
        o1 = torch.relu(torch.nn.functional.linear(torch.relu(skips), m.out1.weight[:, :, 0], m.out1.bias))
        return torch.nn.functional.linear(o1, m.out2.weight[:, :, 0], m.out2.bias), torch.stack(inputs)


@torch.no_grad()
def wavenet_sampled(step, samples, cond, seed):
    """Generation from silence with `step` (WaveNetStep), sampled at temperature 1 by hibiki's rule and
    PRNG (tools/wavenet_torch.py), so every engine must draw the same classes: one stream."""
    from wavenet_torch import mulberry32, sample_class

    m = step.model
    R, Q = m.config["residual_channels"], m.config["quantization_channels"]
    queues = [torch.zeros(d, 1, R) for d in m.dilations]  # slot t mod d: the layer's input at t
    x, u = Q // 2, mulberry32(seed)
    out = []
    for t in range(samples):
        past = torch.stack([q[t % q.shape[0]] for q in queues])
        logits, inputs = step(torch.tensor([x]), cond, past)
        for i, q in enumerate(queues):
            q[t % q.shape[0]] = inputs[i]
        x = sample_class(logits[0], 1.0, u())
        out.append(x)
    return torch.tensor(out)


def wavenet_step(samples=1000):
    model = piano_without_clock()
    step = WaveNetStep(model).eval()
    cond = torch.tensor([12])
    classes = wavenet_sampled(step, samples, cond, seed=7)
    R = model.config["residual_channels"]
    example = {"x": torch.tensor([128]), "cond": cond, "past": torch.zeros(len(model.dilations), 1, R)}
    out = write_case("wavenet_step", step, example, {"classes": classes.float()},
                     {"kind": "wavenet_step", "model": "models/wavenet-piano", "samples": samples, "condition": 12, "seed": 7,
                      "dilations": model.dilations}, ["x", "cond", "past"], ["logits", "inputs"])
    write_hibiki_dir(out, model)


class TransformerEncode(torch.nn.Module):
    """src (B, S) → every decoder layer's encoder–decoder keys and values (L, 2, B, H, S, dk)."""

    def __init__(self, model):
        super().__init__()
        self.model = model

    def forward(self, src):
        memory, _ = self.model.encode(src)
        return torch.stack([torch.stack(kv) for kv in self.model.cross_kv(memory)])


class TransformerStep(torch.nn.Module):
    """One greedy decoder step with a KV cache, as onnxruntime users export it: token (B,), position (1,),
    cross (L, 2, B, H, S, dk), padding (B, S) True = pad, past (L, 2, B, H, t, dk)
    → logits (B, V), present (L, 2, B, H, t + 1, dk)."""

    def __init__(self, model):
        super().__init__()
        assert model.config["positions"] == "sinusoidal"
        self.model = model

    def forward(self, token, position, cross, padding, past):
        m, c = self.model, self.model.config
        x = m.decoder.embed(token[:, None])
        if c["scale_embeddings"]:
            x = x * c["d_model"] ** 0.5
        x = x + m.sinusoids.index_select(0, position)
        present = []
        for i, layer in enumerate(m.decoder.layers):
            def self_attention(h, a=layer.self_attn, i=i):
                k = torch.cat([past[i, 0], a.split(a.k(h))], 2)
                v = torch.cat([past[i, 1], a.split(a.v(h))], 2)
                present.append(torch.stack([k, v]))
                return a.attend(a.split(a.q(h)), k, v)

            def cross_attention(h, a=layer.cross_attn, i=i):
                return a.attend(a.split(a.q(h)), cross[i, 0], cross[i, 1], padding)
            x = layer.sublayers(x, self_attention, cross_attention)
        if c["norm"] == "pre":
            x = m.decoder.norm(x)
        return m.project(x)[:, 0], torch.stack(present)


def transformer_greedy():
    """Greedy decoding of 8 sources of 32 tokens, up to 32 output tokens each: model.onnx encodes,
    step.onnx decodes one token (KV cache in and out). The transformer case's architecture, with an
    untied output projection: with random weights a tied one only echoes its input token, which would
    check nothing. "greedy" holds PyTorch's tokens, −1 after the end."""
    from transformer_torch import Transformer, default_config, greedy_search

    config = {**default_config(), "heads": 8, "tie_output": False}
    torch.manual_seed(1001)
    model = Transformer(config).eval()
    g = torch.Generator().manual_seed(33)
    src = torch.randint(4, config["src_vocab_size"], (8, 32), generator=g)
    src[:, -1] = config["eos_id"]
    B, T = src.shape[0], 32
    with torch.no_grad():
        found = greedy_search(model, src, [T] * B)
        cross = TransformerEncode(model)(src)
    greedy = torch.full((B, T), -1.0)
    for b, (tokens, _) in enumerate(found):
        greedy[b, :len(tokens)] = torch.tensor(tokens, dtype=torch.float)
    out = write_case("transformer_greedy", TransformerEncode(model).eval(), {"src": src}, {"greedy": greedy},
                     {"kind": "transformer_greedy", "max_length": T}, ["src"], ["cross"], opset=14)
    L, H, dk = config["decoder_layers"], config["heads"], config["d_model"] // config["heads"]
    example = (torch.full((B,), config["bos_id"]), torch.tensor([3]), cross, src == config["pad_id"], torch.zeros(L, 2, B, H, 3, dk))
    torch.onnx.export(TransformerStep(model).eval(), example, os.path.join(out, "step.onnx"), opset_version=14,
                      input_names=["token", "position", "cross", "padding", "past"], output_names=["logits", "present"],
                      dynamic_axes={"past": {4: "t"}, "present": {4: "t1"}})
    save(os.path.join(out, "model.safetensors"), {k: v.detach().contiguous() for k, v in model.state_dict().items()})
    with open(os.path.join(out, "config.json"), "w") as f:
        json.dump(config, f, indent=2)


class MarianOnnx(torch.nn.Module):
    """A marian_torch.Marian whose tensors are this module's buffers, so that each exported file carries them as
    initializers (the tied embedding once per file)."""

    def __init__(self, marian):
        super().__init__()
        self.m = marian
        for i, (name, t) in enumerate(marian.W.items()):
            self.register_buffer(f"w{i}", t)
        self.register_buffer("positions", marian.positions)

    def self_kv(self, i, h):
        return self.m.kv(f"model.decoder.layers.{i}.self_attn", h, self.m.dec_heads)

    def embed(self, input_ids, position):
        """(N, 1) ids at `position` (a 1-element int64 tensor) → (N, 1, d)."""
        return torch.nn.functional.embedding(input_ids, self.m.dec_embed) * self.m.embed_scale + self.positions.index_select(0, position)


class MarianEncoderOnnx(MarianOnnx):
    """Optimum's encoder_model.onnx: input_ids, attention_mask (N, S) → last_hidden_state (N, S, d)."""

    def forward(self, input_ids, attention_mask):
        return self.m.encode(input_ids, attention_mask)


class MarianDecoderOnnx(MarianOnnx):
    """Optimum's decoder_model.onnx, the first step: input_ids (N, 1), encoder_attention_mask (N, S),
    encoder_hidden_states (N, S, d) → logits (N, 1, V) and every layer's present decoder and encoder keys/values."""

    def forward(self, input_ids, encoder_attention_mask, encoder_hidden_states):
        m = self.m
        h = self.embed(input_ids, torch.zeros(1, dtype=torch.long))
        mask = m.padding_mask(encoder_attention_mask)
        present = []
        for i in range(m.config["decoder_layers"]):
            k, v = self.self_kv(i, h)
            ck, cv = m.kv(f"model.decoder.layers.{i}.encoder_attn", encoder_hidden_states, m.dec_heads)
            h = m.decoder_layer(i, h, k, v, None, ck, cv, mask)
            present += [k, v, ck, cv]
        return (m.logits(h), *present)


class MarianDecoderWithPastOnnx(MarianOnnx):
    """Optimum's decoder_with_past_model.onnx: input_ids (N, 1), encoder_attention_mask (N, S), and per layer the
    past decoder keys/values (N, H, t, hd) and the encoder ones (N, H, S, hd) → logits (N, 1, V) and the present
    decoder keys/values (N, H, t + 1, hd). The position is t, read from the past's shape."""

    def forward(self, input_ids, encoder_attention_mask, *past):
        m = self.m
        h = self.embed(input_ids, torch._shape_as_tensor(past[0])[2:3])
        mask = m.padding_mask(encoder_attention_mask)
        present = []
        for i in range(m.config["decoder_layers"]):
            pk, pv, ck, cv = past[4 * i:4 * i + 4]
            k, v = self.self_kv(i, h)
            k, v = torch.cat([pk, k], 2), torch.cat([pv, v], 2)
            h = m.decoder_layer(i, h, k, v, None, ck, cv, mask)
            present += [k, v]
        return (m.logits(h), *present)


def marian():
    """opus-mt-en-de's size (tools/marian_torch.py --random-weights: d_model 512, 6 + 6 layers, 8 heads, d_ff 2048,
    vocabulary 58,101, tied embeddings), exported to ONNX as transformers.js runs a Marian model (Optimum's
    encoder_model.onnx, decoder_model.onnx, decoder_with_past_model.onnx, opset 14) into models/marian/, which is
    also the hibiki model directory. Four cases decode 16 sources (8–32 tokens, right-padded, attention mask) or
    the first one, greedy or beam 4, up to 32 new tokens, with the twin's transformers search: marian_greedy_b1,
    marian_greedy_b16, marian_beam4_b1, marian_beam4_b16. "sequences" holds the twin's sequences padded with the
    pad id, as transformers returns them."""
    import marian_torch as mt

    model_dir = os.path.join(OUT, "marian")
    if not os.path.exists(os.path.join(model_dir, "model.safetensors")):
        mt.random_weights(model_dir, 512, 6, 8, 2048, 58101, 512, 20261204)
    marian, gen = mt.load(model_dir)
    c = marian.config
    pad, d, H, L = c["pad_token_id"], c["d_model"], c["decoder_attention_heads"], c["decoder_layers"]
    g = torch.Generator().manual_seed(58101)
    lengths = torch.randint(8, 33, (16,), generator=g)
    S = int(lengths.max())
    input_ids = torch.full((16, S), pad, dtype=torch.long)
    attention_mask = torch.zeros(16, S, dtype=torch.long)
    for b, n in enumerate(lengths.tolist()):
        input_ids[b, :n - 1] = torch.randint(1, pad, (n - 1,), generator=g)
        input_ids[b, n - 1] = c["eos_token_id"]
        attention_mask[b, :n] = 1

    with torch.no_grad():
        N = 2
        hidden = marian.encode(input_ids[:N], attention_mask[:N])
        torch.onnx.export(MarianEncoderOnnx(marian).eval(), (input_ids[:N], attention_mask[:N]), os.path.join(model_dir, "encoder_model.onnx"),
                          opset_version=14, input_names=["input_ids", "attention_mask"], output_names=["last_hidden_state"],
                          dynamic_axes={n: {0: "batch", 1: "source"} for n in ("input_ids", "attention_mask", "last_hidden_state")})
        kv_names = lambda kind: [f"{kind}.{i}.{side}.{kv}" for i in range(L) for side in ("decoder", "encoder") for kv in ("key", "value")]
        start = torch.full((N, 1), gen.start, dtype=torch.long)
        present_names = kv_names("present")
        axes = {"input_ids": {0: "rows"}, "encoder_attention_mask": {0: "rows", 1: "source"}, "logits": {0: "rows"}}
        torch.onnx.export(MarianDecoderOnnx(marian).eval(), (start, attention_mask[:N], hidden), os.path.join(model_dir, "decoder_model.onnx"),
                          opset_version=14, input_names=["input_ids", "encoder_attention_mask", "encoder_hidden_states"],
                          output_names=["logits", *present_names],
                          dynamic_axes={**axes, "encoder_hidden_states": {0: "rows", 1: "source"},
                                        **{n: {0: "rows", 2: "source" if ".encoder." in n else "one"} for n in present_names}})
        first = MarianDecoderOnnx(marian)(start, attention_mask[:N], hidden)
        past_names = kv_names("past_key_values")
        with_past_out = [n for n in present_names if ".decoder." in n]
        torch.onnx.export(MarianDecoderWithPastOnnx(marian).eval(), (start, attention_mask[:N], *first[1:]),
                          os.path.join(model_dir, "decoder_with_past_model.onnx"), opset_version=14,
                          input_names=["input_ids", "encoder_attention_mask", *past_names], output_names=["logits", *with_past_out],
                          dynamic_axes={**axes, **{n: {0: "rows", 2: "source" if ".encoder." in n else "past"} for n in past_names},
                                        **{n: {0: "rows", 2: "past1"} for n in with_past_out}})
        # The export's one-step model against the twin's own step, two steps in.
        state = marian.start_state(hidden, attention_mask[:N])
        want = [marian.step(state, start[:, 0]), marian.step(state, torch.tensor([5, 7]))]
        second = MarianDecoderWithPastOnnx(marian)(torch.tensor([[5], [7]]), attention_mask[:N], *first[1:])
        assert torch.allclose(first[0][:, 0], want[0], atol=1e-5) and torch.allclose(second[0][:, 0], want[1], atol=1e-5)

        for beams in (1, 4):
            for B in (1, 16):
                gen.num_beams, gen.limit = beams, 33
                ids, mask = input_ids[:B, :int(lengths[:B].max())], attention_mask[:B, :int(lengths[:B].max())]
                sequences = mt.greedy(marian, gen, ids, mask) if beams == 1 else mt.beam_search(marian, gen, ids, mask)[0]
                name = f"marian_{'greedy' if beams == 1 else f'beam{beams}'}_b{B}"
                out = os.path.join(OUT, name)
                os.makedirs(out, exist_ok=True)
                save(os.path.join(out, "io.safetensors"), {"input_ids": ids.contiguous(), "attention_mask": mask.contiguous(),
                                                           "sequences": sequences.float().contiguous()},
                     {"case": json.dumps({"kind": "marian", "model": "marian", "num_beams": beams, "max_new_tokens": 32})})
                print(f"{name}: sources {list(ids.shape)}, sequences {list(sequences.shape)} -> {out}", flush=True)


CASES = {"sgemm": sgemm, "mobilenet_v2": lambda: vision("mobilenet_v2", 7), "densenet121": lambda: vision("densenet121", 8),
         "wavenet": wavenet, "wavenet_step": wavenet_step, "mha": mha, "transformer": transformer,
         "transformer_greedy": transformer_greedy, "marian": marian}


def main():
    torch.set_num_threads(1)
    for name in sys.argv[1:] or CASES:
        if name not in CASES:
            sys.exit(f"unknown case {name!r}; cases: {', '.join(CASES)}")
        CASES[name]()


if __name__ == "__main__":
    main()
